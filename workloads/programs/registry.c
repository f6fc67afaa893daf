/* registry.c -- the one place that lists the bundled programs, in
 * `heapbench list` order, and holds the users' (--program), plus the small
 * helpers the declarations share. */
#include "program.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const hb_program hb_prog_python;
extern const hb_program hb_prog_lua;
extern const hb_program hb_prog_perl;
extern const hb_program hb_prog_sqlite;
extern const hb_program hb_prog_db_bench;
extern const hb_program hb_prog_cache_bench;
extern const hb_program hb_prog_redis;
extern const hb_program hb_prog_z3;
extern const hb_program hb_prog_gs;

const hb_program *const hb_programs[] = {
    &hb_prog_python, &hb_prog_lua,   &hb_prog_perl, &hb_prog_sqlite, &hb_prog_db_bench,
    &hb_prog_cache_bench, &hb_prog_redis, &hb_prog_z3,  &hb_prog_gs,
};
const size_t hb_program_count = sizeof hb_programs / sizeof hb_programs[0];

/* Users' programs: a handful per command line, kept for the process's life
 * (cells point at them). */
#define MAX_USER 16
static hb_program user[MAX_USER];
static char user_name[MAX_USER][64], user_cmd[MAX_USER][4096];
static size_t n_user;

static const hb_param_spec no_params[] = {{NULL, {0, 0, 0}, 0, 0, NULL}};

const hb_program *hb_program_find(const char *name)
{
    for (size_t i = 0; i < hb_program_count; i++)
        if (strcmp(hb_programs[i]->wl.name, name) == 0)
            return hb_programs[i];
    for (size_t i = 0; i < n_user; i++)
        if (strcmp(user[i].wl.name, name) == 0)
            return &user[i];
    return NULL;
}

int hb_program_add_user(const char *spec, const hb_program **out, char *why, size_t wlen)
{
    const char *eq = strchr(spec, '=');
    size_t len = eq ? (size_t)(eq - spec) : 0;
    int name_ok = eq && len > 0 && len < sizeof user_name[0];
    for (size_t i = 0; name_ok && i < len; i++)
        name_ok = isalnum((unsigned char)spec[i]) || strchr("_.+-", spec[i]);
    if (!name_ok) {
        snprintf(why, wlen, "bad --program '%s'; valid: NAME='CMD ARGS' with NAME of letters, digits and _.+- "
                            "(at most 63)", spec);
        return 2;
    }
    char name[64];
    memcpy(name, spec, len);
    name[len] = 0;
    const char *cmd = eq + 1;
    while (isspace((unsigned char)*cmd))
        cmd++;
    if (!*cmd || strlen(cmd) >= sizeof user_cmd[0]) {
        snprintf(why, wlen, "bad --program '%s'; valid: NAME='CMD ARGS' with a command of 1 to 4095 bytes",
                 spec);
        return 2;
    }
    if (hb_program_find(name) || hb_workload_find(name) || !strcmp(name, "programs")) {
        snprintf(why, wlen, "bad --program '%s': the name %s is taken by a workload or program", spec, name);
        return 2;
    }
    if (n_user == MAX_USER) {
        snprintf(why, wlen, "bad --program '%s': at most %d user programs", spec, MAX_USER);
        return 2;
    }
    snprintf(user_name[n_user], sizeof user_name[0], "%s", name);
    snprintf(user_cmd[n_user], sizeof user_cmd[0], "%s", cmd);
    hb_program *p = &user[n_user];
    *p = (hb_program){.wl = {.name = user_name[n_user], .doc = user_cmd[n_user], .min_threads = 1,
                             .params = no_params, .program = p},
                      .needs = "sh", .shell = user_cmd[n_user]};
    n_user++;
    *out = p;
    return 0;
}

void hb_program_forget_users(void)
{
    n_user = 0;
}

static int vappend(hb_prog_cmd *cmd, char **slot, const char *fmt, va_list ap)
{
    size_t room = sizeof cmd->store - cmd->used;
    int n = vsnprintf(cmd->store + cmd->used, room, fmt, ap);
    if (n < 0 || (size_t)n >= room)
        return E2BIG;
    *slot = cmd->store + cmd->used;
    cmd->used += (size_t)n + 1;
    return 0;
}

int hb_prog_arg(hb_prog_cmd *cmd, const char *fmt, ...)
{
    if (cmd->argc == HB_PROG_MAX_ARGS)
        return E2BIG;
    va_list ap;
    va_start(ap, fmt);
    int rc = vappend(cmd, &cmd->argv[cmd->argc], fmt, ap);
    va_end(ap);
    if (!rc)
        cmd->argv[++cmd->argc] = NULL;
    return rc;
}

int hb_prog_env(hb_prog_cmd *cmd, const char *fmt, ...)
{
    if (cmd->envc == HB_PROG_MAX_ENV)
        return E2BIG;
    va_list ap;
    va_start(ap, fmt);
    int rc = vappend(cmd, &cmd->env[cmd->envc], fmt, ap);
    va_end(ap);
    if (!rc)
        cmd->env[++cmd->envc] = NULL;
    return rc;
}

FILE *hb_prog_create(const hb_prog_ctx *ctx, const char *name, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", ctx->dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
    return f;
}

int hb_prog_close(FILE *f, const char *name, char *err, size_t errlen)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        snprintf(err, errlen, "cannot write %s: %s", name, strerror(errno ? errno : EIO));
        return errno ? errno : EIO;
    }
    return 0;
}

int hb_prog_find_u64(const char *out, const char *key, uint64_t *v)
{
    size_t k = strlen(key);
    for (const char *line = out; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, key, k) != 0 || (line[k] != '=' && line[k] != ' '))
            continue;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(line + k + 1, &end, 10);
        if (errno || end == line + k + 1 || (*end && *end != '\n'))
            return EINVAL;
        *v = x;
        return 0;
    }
    return ENOENT;
}

int64_t hb_prog_param(const hb_prog_ctx *ctx, const hb_program *p, const char *name)
{
    int i = hb_workload_param_index(&p->wl, name);
    return i < 0 ? -1 : ctx->param[i];
}

int hb_prog_expect(const char *out, const char *key, uint64_t want, char *err, size_t errlen)
{
    uint64_t got;
    int rc = hb_prog_find_u64(out, key, &got);
    if (rc == 0 && got == want)
        return 0;
    if (rc == ENOENT)
        snprintf(err, errlen, "no line %s=N in the output", key);
    else if (rc)
        snprintf(err, errlen, "the line %s= does not hold a number", key);
    else
        snprintf(err, errlen, "%s=%llu, want %llu", key, (unsigned long long)got, (unsigned long long)want);
    return 1;
}
