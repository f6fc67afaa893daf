/* spans.h -- a set of free address spans: large.c's cache, as a structure.
 *
 * The structure only, no policy: large.c decides what goes in, when it
 * ages out and what is unmapped. A span is a run of whole pages, [base,
 * base + size), that the set's owner holds; nothing here touches its bytes.
 *
 * Every operation a call to malloc, free or realloc makes costs a few
 * cache lines, whatever the set holds:
 *   - put merges a span with the cached spans that end where it starts
 *     and start where it ends, found by their addresses (two hash tables);
 *   - take finds the smallest span that fits (bins of sizes, eight to each
 *     power of two, a bitmap of the bins holding any), of equal sizes the
 *     one put last (its pages the most likely still in the caches);
 *   - take_at takes from the span that starts at an address.
 * Each span keeps the time it became idle, for the owner's decay.
 *
 * Not thread-safe: large.c holds its lock around every call. Nothing here
 * calls malloc (the drop-in libraries use it while they are malloc).
 */
#ifndef HB_SPANS_H
#define HB_SPANS_H

#include <stddef.h>
#include <stdint.h>

#define HB_SPANS_MAX 1024 /* spans held at most */
#define HB_SPANS_BINS 512
#define HB_SPANS_HASH 2048 /* slots of each address table: half full at most */

typedef struct hb_spans {
    /* span i, for i whose size is not 0 */
    char *base[HB_SPANS_MAX];
    size_t size[HB_SPANS_MAX];
    uint64_t idle_ms[HB_SPANS_MAX];
    uint16_t next[HB_SPANS_MAX], prev[HB_SPANS_MAX]; /* in its bin: index + 1, 0 none */
    uint16_t bin[HB_SPANS_MAX];
    uint16_t head[HB_SPANS_BINS];                  /* index + 1 of the bin's last put */
    uint64_t nonempty[HB_SPANS_BINS / 64];
    uint16_t by_base[HB_SPANS_HASH], by_end[HB_SPANS_HASH]; /* index + 1, 0 empty */
    uint16_t unused[HB_SPANS_MAX];                           /* a stack of freed indexes */
    unsigned nunused;
    unsigned fresh; /* indexes below it have been used */
    unsigned n;     /* spans held */
    size_t bytes;   /* their sizes' sum */
} hb_spans;

/* Empty the set's bookkeeping (not its spans). Zeroed memory is an empty
 * set already: a set never used costs no page. */
void hb_spans_init(hb_spans *S);

/* Add [base, base + size) merged with the spans that touch it; the result
 * is idle from `now`. When the set is full, nothing is added and the
 * merged span is returned through *base and *size for the caller to free
 * (-1); 0 otherwise. */
int hb_spans_put(hb_spans *S, char **base, size_t *size, uint64_t now);

/* The smallest span of at least `need` bytes: its head of up to `want`
 * bytes (want >= need) is returned and its size put in *got; the rest stays
 * with its idle time. NULL when none fits. */
char *hb_spans_take(hb_spans *S, size_t need, size_t want, size_t *got);
/* As hb_spans_take, from the span starting at `at` only. */
char *hb_spans_take_at(hb_spans *S, char *at, size_t need, size_t want, size_t *got);
/* The largest span whole; NULL when the set is empty. */
char *hb_spans_take_largest(hb_spans *S, size_t *size);

/* Iteration for the owner's decay and teardown: the spans are the indexes
 * below `fresh` whose size is not 0. hb_spans_remove drops span i. */
void hb_spans_remove(hb_spans *S, unsigned i);

#endif
