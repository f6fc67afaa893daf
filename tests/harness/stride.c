/* stride.c -- a program whose instructions do not depend on how it walks
 * memory: `stride STEP` reads 2^20 ints (4 MiB, beyond the model machine's
 * 32 KiB L1) twice, at index i x STEP (mod 2^20). STEP 1 walks the array
 * in order: one L1 miss in 16 reads. STEP 16 lands on a new 64-byte line
 * every read: every read misses L1, at the same instruction count.
 * test_cycles runs it under cachegrind as regress --cycles does. */
#include <stdio.h>
#include <stdlib.h>

#define N (1u << 20)

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: stride STEP\n");
        return 2;
    }
    unsigned step = (unsigned)strtoul(argv[1], NULL, 10);
    volatile int *a = calloc(N, sizeof *a);
    if (!a)
        return 1;
    unsigned long sum = 0;
    for (int pass = 0; pass < 2; pass++)
        for (unsigned i = 0, j = 0; i < N; i++, j = (j + step) & (N - 1))
            sum += (unsigned long)a[j] + j;
    printf("%lu\n", sum);
    free((void *)a);
    return 0;
}
