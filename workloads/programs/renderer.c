/* renderer.c -- ghostscript rendering generated PostScript: per page, many
 * filled and stroked Bezier paths, clipping, text in a standard font, and
 * dictionaries and strings made and dropped by the PostScript program
 * itself, rasterised at 100 dpi. The program also computes a sum as it
 * goes and counts its pages; the check compares both with what the
 * generator knows. */
#include "program.h"

#include <errno.h>
#include <stdio.h>

static const hb_param_spec gs_params[] = {
    {"pages", {2, 20, 200}, 1, 100000, "pages rendered"},
    {"shapes", {200, 400, 400}, 1, 1000000, "paths per page"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};
extern const hb_program hb_prog_gs;

static int gs_prepare(const hb_prog_ctx *ctx, hb_prog_cmd *cmd, char *err, size_t errlen)
{
    FILE *f = hb_prog_create(ctx, "doc.ps", err, errlen);
    if (!f)
        return EIO;
    uint64_t s = ctx->seed;
    int pages = (int)ctx->param[0], shapes = (int)ctx->param[1];
    fputs("%!PS-Adobe-3.0\n/acc 0 def /npages 0 def\n"
          "/shape { % x0 y0 x1 y1 x2 y2 x3 y3 gray w\n"
          "  setlinewidth setgray newpath 8 -2 roll moveto curveto closepath gsave fill grestore 0 setgray stroke\n"
          "} bind def\n"
          "/label { % x y n\n"
          "  /n exch def moveto /Helvetica findfont 6 n 7 mod add scalefont setfont\n"
          "  n 20 string cvs dup length acc add /acc exch def show\n"
          "  /d 8 dict def d /k n put d /v n 1000 mod dup mul put /acc acc d /v get 1000 mod add def\n"
          "} bind def\n", f);
    for (int p = 0; p < pages; p++) {
        fprintf(f, "%%%%Page: %d %d\ngsave 20 20 572 752 rectclip\n", p + 1, p + 1);
        for (int k = 0; k < shapes; k++) {
            for (int c = 0; c < 8; c++)
                fprintf(f, "%d ", (int)hb_rand_below(&s, c % 2 ? 792 : 612));
            fprintf(f, "%.2f %.1f shape\n", (double)hb_rand_below(&s, 100) / 100, 0.2 + (double)hb_rand_below(&s, 20) / 10);
            if (k % 10 == 0)
                fprintf(f, "%d %d %d label\n", (int)hb_rand_below(&s, 560), (int)hb_rand_below(&s, 760), p * shapes + k);
        }
        fputs("grestore showpage /npages npages 1 add def\n", f);
    }
    fputs("(acc=) print acc =\n(pages=) print npages =\n", f);
    int rc = hb_prog_close(f, "doc.ps", err, errlen);
    rc = rc ? rc : hb_prog_arg(cmd, "gs");
    rc = rc ? rc : hb_prog_arg(cmd, "-q");
    rc = rc ? rc : hb_prog_arg(cmd, "-dSAFER");
    rc = rc ? rc : hb_prog_arg(cmd, "-dBATCH");
    rc = rc ? rc : hb_prog_arg(cmd, "-dNOPAUSE");
    rc = rc ? rc : hb_prog_arg(cmd, "-sDEVICE=pgmraw");
    rc = rc ? rc : hb_prog_arg(cmd, "-r100");
    rc = rc ? rc : hb_prog_arg(cmd, "-sOutputFile=/dev/null");
    rc = rc ? rc : hb_prog_arg(cmd, "doc.ps");
    return rc;
}

static uint64_t digits(uint64_t v)
{
    uint64_t d = 1;
    while (v >= 10)
        v /= 10, d++;
    return d;
}

static int gs_check(const hb_prog_ctx *ctx, const char *out, hb_prog_result *res, char *err, size_t errlen)
{
    uint64_t pages = (uint64_t)ctx->param[0], shapes = (uint64_t)ctx->param[1], acc = 0;
    for (uint64_t p = 0; p < pages; p++)
        for (uint64_t k = 0; k < shapes; k += 10) {
            uint64_t n = p * shapes + k;
            acc += digits(n) + (n * n) % 1000;
        }
    res->ops = pages;
    return hb_prog_expect(out, "acc", acc, err, errlen) || hb_prog_expect(out, "pages", pages, err, errlen);
}

const hb_program hb_prog_gs = {
    .wl = {.name = "gs",
           .doc = "ghostscript rendering generated PostScript at 100 dpi: Bezier paths, fills, clipping, text",
           .min_threads = 1, .params = gs_params, .program = &hb_prog_gs},
    .needs = "gs",
    .prepare = gs_prepare,
    .check = gs_check,
};
