/* dropin_boot.c -- the drop-in library's bootstrap blocks, from inside.
 *
 * While the instance initialises, the initialising thread's own calls
 * (libc's, from inside init) are served from a static buffer (dropin.c).
 * free() does not test for those blocks: it hands them to the backend with
 * everything else, and the backend's path for blocks outside its region
 * map drops them (HB_DROPIN_FOREIGN, large.h). Those blocks are rare (libc
 * keeps the few it asks for), so no program run would notice if that path
 * broke: this one makes them on purpose. It is built as a drop-in library
 * is (dropin_unity.c, one per backend) but into an executable, which then
 * *is* the process's malloc, and it reaches dropin.c's state to put the
 * calling thread back "inside init".
 *   dropin_boot_arena, dropin_boot_freelist: exit 0 and "ok", or a message */
#include "dropin_unity.c"

#include <stdio.h>

static int failed;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "dropin_boot (%s): %s\n", HB_DROPIN_NAME, what);
        failed = 1;
    }
}

int main(void)
{
    void *warm = malloc(24); /* makes the instance */
    check(warm && is_ready(), "the instance is not up after a malloc");

    /* this thread back inside init: its calls take bootstrap blocks */
    atomic_store(&init_state, INITIALISING);
    atomic_store(&init_thread, pthread_self());
    void *a = malloc(100), *z = calloc(10, 5), *al = NULL;
    int rc = posix_memalign(&al, 64, 40);
    atomic_store(&init_state, READY);

    check(a && is_boot(a), "malloc inside init did not use the bootstrap buffer");
    check(z && is_boot(z) && ((unsigned char *)z)[49] == 0, "calloc inside init");
    check(rc == 0 && is_boot(al) && ((uintptr_t)al & 63) == 0, "posix_memalign inside init");
    check(malloc_usable_size(a) == 100, "malloc_usable_size of a bootstrap block");
    memset(a, 0xab, 100);

    /* freed once the instance is up: dropped by the backend, not taken
     * for one of its own (a large block's header would be read before
     * it) */
    size_t used = atomic_load(&boot_used);
    free(a);
    free(z);
    free(al);
    free(NULL);
    check(atomic_load(&boot_used) == used, "a free touched the bootstrap buffer's bump");

    /* realloc of a bootstrap block moves it to the backend */
    void *b = NULL;
    atomic_store(&init_state, INITIALISING);
    b = malloc(32);
    atomic_store(&init_state, READY);
    memset(b, 7, 32);
    void *c = realloc(b, 4000);
    check(c && !is_boot(c) && ((unsigned char *)c)[31] == 7, "realloc of a bootstrap block");

    /* and the backend is whole: small, medium and large blocks come and go */
    void *blocks[64];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 64; i++) {
            blocks[i] = malloc((size_t)(i % 3 == 0 ? 16 : i % 3 == 1 ? 3000 : 300000));
            check(blocks[i] && !is_boot(blocks[i]), "malloc after the bootstrap frees");
            if (blocks[i])
                memset(blocks[i], i, 16);
        }
        for (int i = 0; i < 64; i++)
            free(blocks[i]);
    }
    free(c);
    free(warm);
    if (failed)
        return 1;
    printf("dropin_boot (%s): ok\n", HB_DROPIN_NAME);
    return 0;
}
