/* csvread.c -- a strict RFC 4180 reader for results files.
 *
 * Strict because everything downstream (merge, JSON, compare, regress, plot,
 * --resume) trusts what it reads: a file damaged by a crash, a full disk or a
 * hand edit must be refused with its line, not quietly read as fewer or
 * shifted columns. The whole file is read into memory and decoded in place:
 * undoing quotes only ever shortens a field, so the write cursor never passes
 * the read cursor, and every field ends up NUL-terminated inside the buffer. */
#include "csvio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct csv_mem {
    char *buf;
    char **fields;
} csv_mem;

typedef struct offs {
    size_t *v;
    size_t n, cap;
} offs;

static int offs_push(offs *o, size_t x)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        size_t *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = x;
    return 0;
}

static int fail(char *why, size_t len, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return err;
}

/* Reads all of `path`; a loop rather than one fstat-sized read so that a pipe
 * or a file still growing is read to its end. */
static int slurp(const char *path, char **out, size_t *n, char *why, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(why, len, errno, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, at = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (cap - at < 2) {
            char *b = realloc(buf, cap * 2);
            if (!b)
                break;
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + at, 1, cap - at - 1, f);
        at += got;
        if (got == 0)
            break;
    }
    int err = !buf ? ENOMEM : ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (err) {
        free(buf);
        return fail(why, len, err, "%s: %s", path, strerror(err));
    }
    buf[at] = 0; /* room for the last field's terminator */
    *out = buf;
    *n = at;
    return 0;
}

/* The header names the columns every consumer looks up: each must be there,
 * once. */
static int check_header(const char *path, char *buf, const size_t *off, size_t nf, char *why,
                        size_t len)
{
    for (size_t i = 0; i < nf; i++) {
        const char *name = buf + off[i];
        if (!*name)
            return fail(why, len, EINVAL, "%s:1: header column %zu has no name", path, i + 1);
        for (size_t k = 0; k < i; k++)
            if (strcmp(name, buf + off[k]) == 0)
                return fail(why, len, EINVAL, "%s:1: header names column '%s' twice (%zu and %zu)",
                            path, name, k + 1, i + 1);
    }
    return 0;
}

/* Results files are UTF-8 (every writer here writes ASCII names and the
 * system's own strings): a byte sequence that is not UTF-8 is refused with
 * its line, not copied into JSON, which must be UTF-8, or into figures'
 * labels. Strict: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int check_utf8(const char *path, const unsigned char *s, size_t n, char *why, size_t len)
{
    size_t line = 1;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c < 0x80) {
            line += c == '\n';
            i++;
            continue;
        }
        size_t k = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
        int okseq = k > 0;
        for (size_t j = 1; okseq && j <= k; j++)
            okseq = i + j < n && (s[i + j] & 0xc0) == 0x80;
        if (okseq && k == 2) /* overlong (E0 80..9F) or a surrogate (ED A0..BF) */
            okseq = !(c == 0xe0 && s[i + 1] < 0xa0) && !(c == 0xed && s[i + 1] >= 0xa0);
        if (okseq && k == 3) /* overlong (F0 80..8F) or past U+10FFFF (F4 90..) */
            okseq = !(c == 0xf0 && s[i + 1] < 0x90) && !(c == 0xf4 && s[i + 1] >= 0x90);
        if (!okseq)
            return fail(why, len, EINVAL, "%s:%zu: byte 0x%02x is not UTF-8 (results files are UTF-8 text)", path,
                        line, c);
        i += k + 1;
    }
    return 0;
}

static int parse(const char *path, char *buf, size_t n, offs *o, size_t *ncols, offs *lines,
                 int *unterminated, char *why, size_t len)
{
    char *r = buf, *w = buf, *end = buf + n;
    size_t line = 1;
    *ncols = 0;
    while (r < end) {
        size_t rec_line = line, first = o->n, nf = 0;
        for (;;) { /* one field per turn */
            char *start = w;
            nf++;
            if (*r == '"') {
                size_t opened = line;
                r++;
                for (;;) {
                    if (r == end)
                        return fail(why, len, EINVAL,
                                    "%s:%zu: field %zu opens a quote that is never closed "
                                    "(unterminated quoted field)",
                                    path, opened, nf);
                    char c = *r++;
                    if (c == '"') {
                        if (r < end && *r == '"') { /* "" stands for one quote */
                            *w++ = '"';
                            r++;
                            continue;
                        }
                        break;
                    }
                    if (c == 0)
                        return fail(why, len, EINVAL, "%s:%zu: NUL byte in field %zu", path, line, nf);
                    if (c == '\n')
                        line++;
                    *w++ = c;
                }
                if (r < end && *r != ',' && *r != '\n' && !(*r == '\r' && r + 1 < end && r[1] == '\n'))
                    return fail(why, len, EINVAL, "%s:%zu: text after the closing quote of field %zu",
                                path, line, nf);
            } else {
                while (r < end && *r != ',' && *r != '\n' && *r != '\r') {
                    if (*r == '"')
                        return fail(why, len, EINVAL,
                                    "%s:%zu: quote inside unquoted field %zu (a field with a quote "
                                    "must be quoted, the quote doubled)",
                                    path, line, nf);
                    if (*r == 0)
                        return fail(why, len, EINVAL, "%s:%zu: NUL byte in field %zu", path, line, nf);
                    *w++ = *r++;
                }
            }
            if (r < end && *r == '\r') {
                if (r + 1 == end || r[1] != '\n')
                    return fail(why, len, EINVAL,
                                "%s:%zu: carriage return not followed by a line feed", path, line);
                r++;
            }
            int err = offs_push(o, (size_t)(start - buf));
            if (err)
                return fail(why, len, err, "%s: out of memory", path);
            if (r == end) { /* the last record, without its newline */
                *w = 0;
                *unterminated = 1;
                break;
            }
            char d = *r++;
            *w++ = 0; /* w <= r - 1: overwrites only consumed bytes */
            if (d == '\n') {
                line++;
                break;
            }
            /* d == ',': another field follows, possibly empty and last in the
             * file; buf[n] is a NUL, so reading *r there is safe. */
        }
        if (first == 0) {
            int err = check_header(path, buf, o->v, nf, why, len);
            if (err)
                return err;
            *ncols = nf;
        } else if (nf != *ncols) {
            return fail(why, len, EINVAL, "%s:%zu: row has %zu field%s, the header has %zu", path,
                        rec_line, nf, nf == 1 ? "" : "s", *ncols);
        } else {
            int err = offs_push(lines, rec_line);
            if (err)
                return fail(why, len, err, "%s: out of memory", path);
        }
    }
    return 0;
}

static int read_doc(const char *path, hb_csvdoc *d, char *why, size_t len)
{
    memset(d, 0, sizeof *d);
    char *buf = NULL;
    size_t n = 0;
    int err = slurp(path, &buf, &n, why, len);
    if (err)
        return err;
    /* A byte-order mark, which some spreadsheets write, is not part of the
     * first column's name. */
    if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        memmove(buf, buf + 3, n - 3 + 1);
        n -= 3;
    }
    if (n == 0) {
        free(buf);
        return fail(why, len, EINVAL, "%s: empty file (no header)", path);
    }
    if ((err = check_utf8(path, (const unsigned char *)buf, n, why, len))) {
        free(buf);
        return err;
    }
    offs o = {0}, lines = {0};
    size_t ncols = 0;
    int unterminated = 0;
    csv_mem *m = NULL;
    err = parse(path, buf, n, &o, &ncols, &lines, &unterminated, why, len);
    if (err)
        goto out;
    m = calloc(1, sizeof *m);
    d->path = strdup(path);
    d->rows = calloc(lines.n ? lines.n : 1, sizeof *d->rows);
    if (m)
        m->fields = malloc((o.n ? o.n : 1) * sizeof *m->fields);
    if (!m || !m->fields || !d->path || !d->rows) {
        err = fail(why, len, ENOMEM, "%s: out of memory", path);
        goto out;
    }
    for (size_t i = 0; i < o.n; i++)
        m->fields[i] = buf + o.v[i];
    m->buf = buf;
    d->header = m->fields;
    d->ncols = ncols;
    d->nrows = lines.n;
    for (size_t i = 0; i < lines.n; i++) {
        d->rows[i].field = m->fields + ncols * (i + 1);
        d->rows[i].path = d->path;
        d->rows[i].line = lines.v[i];
    }
    d->unterminated = unterminated;
    d->mem_ = m;
    m = NULL;
    buf = NULL;
out:
    free(o.v);
    free(lines.v);
    if (err) {
        if (m)
            free(m->fields);
        free(m);
        free(buf);
        free(d->path);
        free(d->rows);
        memset(d, 0, sizeof *d);
    } else if ((err = hb_csvdoc_check_figures(d, why, len))) {
        hb_csvdoc_free(d);
    }
    return err;
}

/* A message is one line on stderr, but it may quote the file (a column's
 * name, a field): a quoted field can hold a line break or any control
 * character, which is shown escaped as C writes it. Cut where `len` ends.
 * Found by fuzzing (tests/fuzz/csvread.c): '"a\nb","a\nb"' named its
 * column twice over three lines. */
void hb_msg_one_line(char *why, size_t len)
{
    char *copy = strdup(why);
    if (!copy) { /* no room to escape: blank them out */
        for (char *p = why; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = ' ';
        return;
    }
    size_t at = 0;
    for (const unsigned char *p = (const unsigned char *)copy; *p; p++) {
        char esc[8];
        if (*p == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (*p == '\r')
            snprintf(esc, sizeof esc, "\\r");
        else if (*p == '\t')
            snprintf(esc, sizeof esc, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            snprintf(esc, sizeof esc, "\\x%02x", *p);
        else
            esc[0] = (char)*p, esc[1] = 0;
        size_t n = strlen(esc);
        if (at + n >= len)
            break;
        memcpy(why + at, esc, n);
        at += n;
    }
    why[at] = 0;
    free(copy);
}

int hb_csvdoc_read(const char *path, hb_csvdoc *d, char *why, size_t len)
{
    int err = read_doc(path, d, why, len);
    if (err && len)
        hb_msg_one_line(why, len);
    return err;
}

void hb_csvdoc_free(hb_csvdoc *d)
{
    csv_mem *m = d->mem_;
    if (m) {
        free(m->buf);
        free(m->fields);
        free(m);
    }
    free(d->rows);
    free(d->path);
    memset(d, 0, sizeof *d);
}

int hb_csvdoc_col(const hb_csvdoc *d, const char *name)
{
    for (size_t i = 0; i < d->ncols; i++)
        if (strcmp(d->header[i], name) == 0)
            return (int)i;
    return -1;
}
