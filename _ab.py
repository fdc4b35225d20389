import time, numpy as np
from fastdet._kernels.fusion import sort_pairs
import numba
rng = np.random.default_rng(0)
n_img, per = 5000, 270
count = n_img * per
score = rng.uniform(size=count)
@numba.njit(cache=False)
def run_pairs(score, per):
    count = score.shape[0]
    key = score.copy(); perm = np.arange(count); kb = np.empty(count); ib = np.empty(count, np.int64)
    for lo in range(0, count, per):
        sort_pairs(key, perm, lo, lo + per, kb, ib)
    return perm
@numba.njit(cache=False)
def run_np(score, per):
    count = score.shape[0]
    perm = np.empty(count, np.int64)
    for lo in range(0, count, per):
        perm[lo:lo+per] = lo + np.argsort(-score[lo:lo+per], kind="mergesort")
    return perm
run_pairs(score, per); run_np(score, per)
for _ in range(3):
    for f in (run_pairs, run_np):
        t = time.process_time(); f(score, per); print(f.__name__, round(time.process_time() - t, 3), end="  ")
    print()
t = time.process_time(); np.lexsort((np.arange(count), -score, np.repeat(np.arange(n_img), per))); print("lexsort", time.process_time() - t)
