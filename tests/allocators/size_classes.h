/* size_classes.h -- the size classes arena and freelist share (16 B steps to
 * 512 B, then 8 classes per doubling to 32 KiB), checked from the rule and
 * not from either allocator's table. For test_arena.c and test_freelist.c,
 * after cmocka.h and allocators/allocator.h. */
#ifndef HB_TEST_SIZE_CLASSES_H
#define HB_TEST_SIZE_CLASSES_H

/* The class every size should get. */
static size_t class_rule(size_t size)
{
    if (size <= 512)
        return size ? (size + 15) & ~(size_t)15 : 16;
    size_t s = size - 1, b = 63 - (size_t)__builtin_clzll(s), step = (size_t)1 << (b - 3);
    return (s / step + 1) * step;
}

/* Every size up to the last class, allocated and freed on instance s of A:
 * its usable size is its class's. */
static void check_every_size_class(const hb_allocator *A, void *s)
{
    for (size_t size = 0; size <= 32768; size++) {
        void *p = A->alloc(s, size);
        assert_non_null(p);
        assert_int_equal(A->usable_size(s, p), class_rule(size));
        A->free(s, p, size);
    }
}

#endif
