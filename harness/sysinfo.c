/* sysinfo.c -- facts about the machine and this process, behind one seam. */
#include "harness.h"

#include <hwloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void read_cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v++;
                while (*v == ' ' || *v == '\t')
                    v++;
                v[strcspn(v, "\n")] = 0;
                snprintf(buf, len, "%s", v);
            }
            break;
        }
    }
    fclose(f);
}

/* "1 package, 2 cores, 2 PUs; L1d 32KiB, L2 512KiB, L3 32MiB" (one figure
 * per cache level: the size of one cache there). */
static void describe_topology(hwloc_topology_t topo, char *buf, size_t len)
{
    int pk = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    int co = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    int pu = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    size_t at = (size_t)snprintf(buf, len, "%d package%s, %d cores, %d PUs", pk, pk == 1 ? "" : "s", co, pu);
    static const struct {
        hwloc_obj_type_t type;
        const char *name;
    } levels[] = {{HWLOC_OBJ_L1CACHE, "L1d"}, {HWLOC_OBJ_L2CACHE, "L2"}, {HWLOC_OBJ_L3CACHE, "L3"}};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0] && at < len; i++) {
        hwloc_obj_t c = hwloc_get_obj_by_type(topo, levels[i].type, 0);
        if (!c || !c->attr)
            continue;
        unsigned long long kib = (unsigned long long)c->attr->cache.size / 1024;
        at += (size_t)snprintf(buf + at, len - at, "%s %s %llu%s", i == 0 ? ";" : ",", levels[i].name,
                               kib >= 1024 ? kib / 1024 : kib, kib >= 1024 ? "MiB" : "KiB");
    }
}

void hb_env_read(hb_env *e)
{
    memset(e, 0, sizeof *e);
    if (gethostname(e->host, sizeof e->host - 1) != 0)
        snprintf(e->host, sizeof e->host, "unknown");
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(e->kernel, sizeof e->kernel, "%s %s", u.sysname, u.release);
    read_cpu_model(e->cpu_model, sizeof e->cpu_model);
    hwloc_topology_t topo;
    e->cores = e->pus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (hwloc_topology_init(&topo) == 0) {
        if (hwloc_topology_load(topo) == 0) {
            int c = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
            int p = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
            if (c > 0)
                e->cores = c;
            if (p > 0)
                e->pus = p;
            describe_topology(topo, e->topology, sizeof e->topology);
        }
        hwloc_topology_destroy(topo);
    }
}

double hb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t hb_proc_status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t n = strlen(field);
    int64_t kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            long long v;
            if (sscanf(line + n + 1, "%lld", &v) == 1)
                kb = v;
            break;
        }
    }
    fclose(f);
    return kb;
}

void hb_utc_stamp(char *buf, size_t len, int compact)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, compact ? "%Y%m%dT%H%M%SZ" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}
