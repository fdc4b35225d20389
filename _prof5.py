import sys, time
sys.path.insert(0, "bench")
import numpy as np
from compare_fusion import make_ensemble
from fastdet.fusion import fuse_arrays
from fastdet import _fusion
from fastdet._kernels import fusion as K
arrays = make_ensemble(5000, 3, 100, seed=1)
fuse_arrays(arrays)
# wrap kernels to time them
import functools
times = {}
def wrap(name):
    f = getattr(K, name)
    @functools.wraps(f)
    def g(*a, **k):
        t = time.process_time(); r = f(*a, **k); times[name] = times.get(name, 0) + time.process_time() - t; return r
    setattr(K, name, g)
for n in ("prefilter", "group_order", "wbf", "finish"):
    wrap(n)
best = 1e9
for _ in range(8):
    times.clear()
    t = time.process_time(); out = fuse_arrays(arrays); tot = time.process_time() - t
    if tot < best: best, bt = tot, dict(times)
print("total", round(best, 3), {k: round(v, 3) for k, v in bt.items()}, "out", len(out))
