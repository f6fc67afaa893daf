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
