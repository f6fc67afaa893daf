#!/usr/bin/env python3
# Reference values for test_stats.c's paired tests, computed independently of
# harness/stats.c: the signed-rank p by enumerating all 2^n sign assignments,
# the Walsh interval from the enumerated null distribution of W+.

import itertools, math
def ranks(v):
    s = sorted(range(len(v)), key=lambda i: v[i]); r = [0]*len(v); i = 0
    while i < len(s):
        j = i
        while j < len(s) and v[s[j]] == v[s[i]]: j += 1
        for k in range(i, j): r[s[k]] = (i + 1 + j) / 2
        i = j
    return r
def wplus(d):
    d = [x for x in d if x != 0]; r = ranks([abs(x) for x in d])
    return sum(ri for ri, x in zip(r, d) if x > 0), r
def exact(d):
    w, r = wplus(d); n = len(r); ge = le = 0
    for signs in itertools.product([0, 1], repeat=n):
        s = sum(ri for ri, sg in zip(r, signs) if sg)
        ge += s >= w - 1e-9; le += s <= w + 1e-9
    return w, ge / 2**n, le / 2**n
def walsh_ci(a, b, conf=0.95):
    d = [math.log(y) - math.log(x) for x, y in zip(a, b)]; n = len(d)
    W = sorted((d[i] + d[j]) / 2 for i in range(n) for j in range(i, n))
    # null distribution of W+ for ranks 1..n
    cnt = {}
    for signs in itertools.product([0, 1], repeat=n):
        s = sum(k + 1 for k, sg in enumerate(signs) if sg); cnt[s] = cnt.get(s, 0) + 1
    acc = 0; c = -1
    for s in range(n*(n+1)//2 + 1):
        acc += cnt.get(s, 0)
        if acc / 2**n > (1 - conf) / 2: break
        c = s
    m = len(W); med = (W[m//2] if m % 2 else (W[m//2-1] + W[m//2]) / 2)
    return math.exp(med), math.exp(W[c]), math.exp(W[m-1-c])
a = [1.00, 1.02, 0.98, 1.01, 0.99, 1.03, 1.00, 0.97, 1.02, 1.01, 0.99, 1.00]
b = [1.06, 1.05, 1.04, 1.07, 1.03, 1.08, 1.02, 1.05, 1.06, 0.99, 1.04, 1.07]
d = [math.log(y) - math.log(x) for x, y in zip(a, b)]
print("shift", exact(d), walsh_ci(a, b))
b0 = [1.01, 1.00, 0.99, 1.02, 0.97, 1.04, 0.98, 0.99, 1.03, 1.00, 1.01, 0.98]
d0 = [math.log(y) - math.log(x) for x, y in zip(a, b0)]
print("none", exact(d0), walsh_ci(a, b0))
print("ties", exact([1, -1, 2, 2, 3, -0.5, 0, 4]))
def normal(d):
    # the normal approximation with the tie correction, as for ties stats.c must use it
    from collections import Counter
    w, r = wplus(d); n = len(r)
    t = sum(c**3 - c for c in Counter(abs(x) for x in d if x != 0).values())
    var = n*(n+1)*(2*n+1)/24 - t/48; z = (w - n*(n+1)/4 - 0.5) / math.sqrt(var)
    return w, 0.5 * math.erfc(z / math.sqrt(2))
print("none, normal", normal(d0))
print("ties, normal", normal([1, -1, 2, 2, 3, -0.5, 0, 4]))
