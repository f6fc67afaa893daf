/* server.c -- a request loop: build a small object graph per request, keep
 * some of it in a bounded cache, drop the rest. Its per-request latency
 * shows collection pauses in the tail.
 *
 * Request i, in the shape a Python web handler has:
 *
 *     req = {"method": "GET", "path": "/item/<n>", "id": i, "h0": ..., ...}
 *     rows = [(k, "<k>", i + k) for k in range(rows)]
 *     resp = Response(req, rows, body="<n>:<sum>", checksum=sum)
 *     if i % 100 < cyclic_pct: req["response"] = resp  # a back-reference: a cycle
 *     if i % 100 < cache_pct: cache["k<n mod cache>"] = resp
 *
 * Keys are interned (identifiers), values are fresh objects, ids and sums
 * are large ints (allocated). A response in the cache stays alive until
 * its key is reused, so the cache is the long-lived heap a tracer must
 * walk at every collection, and the cyclic requests are the garbage only a
 * cycle collector frees.
 *
 * Every request is timed with hb_op_begin/hb_op_end (the harness samples
 * one in `every`): lat_p99_ns and lat_max_ns are where a collection that
 * happened to start inside a request shows, next to pause_p99_us and
 * mmu_10ms. On a hit, the cached response is verified: its checksum field
 * against the rows it holds and its body string -- a collector that freed
 * a live object would be caught here.
 *
 * Self-check: requests served; cache hits verified (no corruption seen);
 * objects made are exactly `requests` times the objects of one request plus
 * the cache keys; rc leaves exactly the cyclic requests' graphs, rcgen and
 * marksweep nothing. On a shared heap every thread serves its own requests
 * with its own cache (threads of one server process); the counts are then
 * checked summed, against the heap's (cwl.h).
 */
#include "cwl.h"

enum { P_REQUESTS, P_ROWS, P_HEADERS, P_CACHE, P_CACHE_PCT, P_CYCLIC };

/* rcgen on glibc, one core: small ~0.15 s, medium ~1.5 s, large ~7 s. */
static const hb_param_spec server_params[] = {
    {"requests", {8000, 500000, 2500000}, 1, INT64_C(1) << 40, "requests served per thread"},
    {"rows", {8, 8, 8}, 0, 1 << 16, "result rows (tuples) per request"},
    {"headers", {6, 6, 6}, 0, 64, "header entries per request dict"},
    {"cache", {2000, 2000, 2000}, 1, 1 << 24, "cache entries (distinct keys)"},
    {"cache_pct", {30, 30, 30}, 0, 100, "percent of responses stored in the cache"},
    {"cyclic_pct", {5, 5, 5}, 0, 100, "percent of requests that point back at their response"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

enum { R_REQ, R_ROWS, R_BODY, R_SUM, R_ID, R_FIELDS }; /* Response's fields */

typedef struct srv_thread {
    cwl_thread c;
    uint64_t hits, lookups, inserts, cyclic;
    uint64_t bad, bad_req;
    uint64_t sum; /* of the checksums of verified hits */
} srv_thread;

typedef struct server {
    cwl c;
    hb_type response;
    uint64_t requests, rows, headers, cache, cache_pct, cyclic;
} server;

static const char *const header_names[] = {
    "host", "user_agent", "accept", "accept_encoding", "connection", "cookie", "referer",
    "content_type",
};

static int set_str(hb_heap *h, hb_object *d, const char *key, const char *v)
{
    hb_object *s = hb_str_new(h, v, strlen(v));
    if (!s)
        return ENOMEM;
    int err = hb_dict_set(h, d, hb_str_intern(h, key), s);
    hb_decref(h, s); /* the dict holds it now (or it is gone, on error) */
    return err;
}

/* Recompute a response's checksum from what it holds. */
static int verify(hb_heap *h, hb_object *resp, uint64_t *sum)
{
    hb_object *rows = hb_node_get(resp, R_ROWS);
    int64_t id = hb_int_value(hb_node_get(resp, R_ID)), s = 0;
    for (size_t k = 0; k < hb_list_len(rows); k++) {
        hb_object *row = hb_list_get(rows, k);
        if (hb_int_value(hb_tuple_get(row, 0)) != (int64_t)(k & 255) ||
            hb_int_value(hb_tuple_get(row, 2)) != id + (int64_t)k)
            return 0;
        s += hb_int_value(hb_tuple_get(row, 2));
    }
    char body[64];
    snprintf(body, sizeof body, "%" PRId64 ":%" PRId64, id, s);
    hb_object *b = hb_node_get(resp, R_BODY);
    *sum += (uint64_t)s;
    return hb_int_value(hb_node_get(resp, R_SUM)) == s && !strcmp(hb_str_data(b), body) &&
           hb_dict_get(hb_node_get(resp, R_REQ), hb_str_intern(h, "id")) == hb_node_get(resp, R_ID);
}

/* One request: the graph in *req and *resp (variables of the caller). */
static int handle(hb_heap *h, server *sv, srv_thread *t, uint64_t i, hb_object **req,
                  hb_object **resp, hb_object **tmp, hb_object **num, hb_object **cache)
{
    char buf[64];
    int err;
    int64_t id = (int64_t)(1000 + i); /* never a small int: allocated */
    uint64_t slot = (i * 2654435761u) % sv->cache;

    hb_set_new(h, req, hb_dict_new(h));
    if (!*req)
        return ENOMEM;
    if ((err = set_str(h, *req, "method", "GET")) != 0)
        return err;
    snprintf(buf, sizeof buf, "/item/%" PRIu64, slot);
    if ((err = set_str(h, *req, "path", buf)) != 0)
        return err;
    hb_set_new(h, tmp, hb_int_new(h, id));
    if (!*tmp || (err = hb_dict_set(h, *req, hb_str_intern(h, "id"), *tmp)) != 0)
        return err ? err : ENOMEM;
    for (uint64_t k = 0; k < sv->headers; k++) {
        snprintf(buf, sizeof buf, "value-%" PRIu64 "-%" PRIu64, k, i & 1023);
        if ((err = set_str(h, *req, header_names[k % 8], buf)) != 0)
            return err;
    }

    hb_set_new(h, resp, hb_node_new(h, &sv->response, R_FIELDS));
    if (!*resp)
        return ENOMEM;
    hb_node_set(h, *resp, R_REQ, *req);
    hb_node_set(h, *resp, R_ID, *tmp);
    hb_node_set_new(h, *resp, R_ROWS, hb_list_new(h));
    hb_object *rows = hb_node_get(*resp, R_ROWS);
    if (!rows)
        return ENOMEM;
    int64_t sum = 0;
    for (uint64_t k = 0; k < sv->rows; k++) {
        hb_object *it[3];
        int len = snprintf(buf, sizeof buf, "%" PRIu64, k);
        hb_set_new(h, tmp, hb_str_new(h, buf, (size_t)len));
        if (!*tmp)
            return ENOMEM;
        hb_set_new(h, num, hb_int_new(h, id + (int64_t)k));
        if (!*num)
            return ENOMEM;
        it[0] = hb_int_new(h, (int64_t)(k & 255));
        it[1] = *tmp;
        it[2] = *num; /* items are variables while the tuple is allocated */
        hb_object *row = hb_tuple_new(h, 3, it);
        if (!row || (err = hb_list_append_new(h, rows, row)) != 0)
            return row ? err : ENOMEM;
        sum += id + (int64_t)k;
    }
    int len = snprintf(buf, sizeof buf, "%" PRId64 ":%" PRId64, id, sum);
    hb_node_set_new(h, *resp, R_BODY, hb_str_new(h, buf, (size_t)len));
    hb_set_new(h, tmp, hb_int_new(h, sum));
    if (!hb_node_get(*resp, R_BODY) || !*tmp)
        return ENOMEM;
    hb_node_set(h, *resp, R_SUM, *tmp);
    hb_del(h, tmp);

    if (i % 100 < sv->cyclic) { /* req["response"] = resp */
        if ((err = hb_dict_set(h, *req, hb_str_intern(h, "response"), *resp)) != 0)
            return err;
        t->cyclic++;
    }

    /* cache lookup, then maybe store: the key is a fresh string */
    snprintf(buf, sizeof buf, "k%" PRIu64, slot);
    hb_set_new(h, tmp, hb_str_new(h, buf, strlen(buf)));
    if (!*tmp)
        return ENOMEM;
    hb_object *hit = hb_dict_get(*cache, *tmp);
    t->lookups++;
    if (hit) {
        t->hits++;
        if (!verify(h, hit, &t->sum) && t->bad++ == 0)
            t->bad_req = i;
    }
    if ((i * 7 + 3) % 100 < sv->cache_pct) {
        if ((err = hb_dict_set(h, *cache, *tmp, *resp)) != 0)
            return err;
        t->inserts++;
    }
    return 0;
}

static int server_setup(const hb_ctx *ctx, void **w)
{
    int err = cwl_setup(ctx, sizeof(server), sizeof(srv_thread), w);
    if (err)
        return err;
    server *sv = *w;
    hb_class_init(&sv->response, "Response", NULL, NULL, 0);
    sv->requests = (uint64_t)ctx->param[P_REQUESTS];
    sv->rows = (uint64_t)ctx->param[P_ROWS];
    sv->headers = (uint64_t)ctx->param[P_HEADERS];
    sv->cache = (uint64_t)ctx->param[P_CACHE];
    sv->cache_pct = (uint64_t)ctx->param[P_CACHE_PCT];
    sv->cyclic = (uint64_t)ctx->param[P_CYCLIC];
    return 0;
}

static int server_run(void *w, int tid, hb_counts *out)
{
    server *sv = w;
    srv_thread *t = cwl_at(&sv->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    int err = 0;

    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **cache = hb_var(h);
    hb_set_new(h, cache, hb_dict_new(h));
    if (!*cache)
        err = ENOMEM;
    for (uint64_t i = 0; i < sv->requests && !err; i++) {
        hb_scope r;
        hb_op_begin(&out->lat); /* one op: one request, start to finish */
        hb_scope_enter(h, &r);
        hb_object **req = hb_var(h), **resp = hb_var(h), **tmp = hb_var(h), **num = hb_var(h);
        err = handle(h, sv, t, i, req, resp, tmp, num, cache);
        hb_scope_leave(h, &r); /* the request's locals go */
        hb_op_end(&out->lat);
        t->c.ops++;
    }
    hb_scope_leave(h, &s);
    return cwl_end(&t->c, h, out, err);
}

static int server_check(void *w, char *err, size_t errlen)
{
    server *sv = w;
    if (cwl_check_done(&sv->c, err, errlen))
        return 1;
    /* one request: dict, method, path, id, headers values; the response,
     * its rows list, per row a str, an int and a tuple; body, sum; then the
     * cache key, which a cyclic request's graph does not hold */
    uint64_t graph = 1 + 2 + 1 + sv->headers + 1 + 1 + 3 * sv->rows + 2, per = graph + 1;
    for (int tid = 0; tid < sv->c.threads; tid++) {
        srv_thread *t = cwl_at(&sv->c, tid);
        if (t->bad) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " of %" PRIu64 " cache hits were corrupted; "
                     "first at request %" PRIu64, tid, t->bad, t->hits, t->bad_req);
            return 1;
        }
        if (t->c.ops != sv->requests || t->lookups != sv->requests) {
            snprintf(err, errlen, "thread %d served %" PRIu64 " requests of %" PRIu64, tid, t->c.ops,
                     sv->requests);
            return 1;
        }
        if (sv->cache_pct && sv->requests > 2 * sv->cache && t->hits == 0) {
            snprintf(err, errlen, "thread %d: no cache hit in %" PRIu64 " requests", tid, sv->requests);
            return 1;
        }
        if (cwl_check_counts(&t->c, tid, 1 + sv->requests * per,
                             t->c.finds_cycles ? 0 : t->cyclic * graph, err, errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_server = {
    .name = "server",
    .doc = "a request loop: per-request object graphs, a bounded cache, pauses in the latency tail",
    .min_threads = 1,
    .needs_collector = 1,
    .params = server_params,
    .heap_modes = HB_HEAP_ISOLATED | HB_HEAP_SHARED,
    .setup = server_setup,
    .run = server_run,
    .check = server_check,
    .teardown = cwl_teardown,
};
