#!/usr/bin/env python3
# Reference values for test_stats.c, computed independently of harness/stats.c:
# the exact Mann-Whitney distribution by enumerating orderings and by the
# recursion f(m,n,u) = f(m,n-1,u-m) + f(m-1,n,u) with exact integers.
import itertools, math
from functools import lru_cache
from fractions import Fraction
@lru_cache(None)
def f(m,n,u):
    if u<0: return 0
    if m==0 or n==0: return 1 if u==0 else 0
    # largest element from b (n): exceeds all m a's -> contributes m
    return f(m,n-1,u-m)+f(m-1,n,u)
def U(a,b):
    return sum((y>x)+0.5*(y==x) for x in a for y in b)
def exact(a,b):
    m,n=len(a),len(b); u=int(U(a,b)); tot=math.comb(m+n,m)
    le=sum(f(m,n,k) for k in range(u+1)); ge=sum(f(m,n,k) for k in range(u,m*n+1))
    return u, ge/tot, le/tot, min(1,2*min(le,ge)/tot)
def brute(a,b):
    allv=sorted(a+b); m=len(a); u0=U(a,b); le=ge=tot=0
    for idx in itertools.combinations(range(len(allv)),m):
        aa=[allv[i] for i in idx]; bb=[allv[i] for i in range(len(allv)) if i not in idx]
        u=U(aa,bb); tot+=1; le+=u<=u0; ge+=u>=u0
    return ge/tot, le/tot
def normal(a,b):
    m,n=len(a),len(b); N=m+n; u=U(a,b)
    from collections import Counter
    t=sum(c**3-c for c in Counter(a+b).values())
    var=m*n/12*((N+1)-t/(N*(N-1))); sd=math.sqrt(var); d=u-m*n/2
    Phi=lambda z:0.5*math.erfc(-z/math.sqrt(2))
    ge=1-Phi((d-0.5)/sd); le=Phi((d+0.5)/sd)
    return u, ge, le, min(1,2*min(ge,le))
a=[1,2,3,4,5]; b=[6,7,8,9,10]; print(exact(a,b), brute(a,b))
a=[1.1,2.5,3.3,4.7,5.2,6.8,7.1]; b=[3.0,4.0,5.5,6.1,8.2,9.9]; print(exact(a,b), brute(a,b))
a=[1,2,2,3,3,3,4]; b=[2,3,4,4,5,5]; print(normal(a,b))
import random
random.seed(1)
a=[round(random.gauss(10,1),4) for _ in range(30)]; b=[round(random.gauss(10.5,1),4) for _ in range(30)]
print(a); print(b); print(normal(a,b))
a=list(range(1,26)); b=[x+3.5 for x in range(1,26)]; print(exact(a,b))
print([f(2,2,u) for u in range(5)], [f(3,4,u) for u in range(13)])
# HL
a=[10,11,12,13,14]; b=[2*x for x in a]
d=sorted(math.log(y)-math.log(x) for x in a for y in b); print(math.exp(d[2]), math.exp(d[22]))
