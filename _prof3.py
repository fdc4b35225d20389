import sys, time, cProfile, pstats
sys.path.insert(0, "bench")
from compare_fusion import make_ensemble
from fastdet.fusion import fuse_arrays
from fastdet import _fusion
arrays = make_ensemble(5000, 3, 100, seed=1)
fuse_arrays(arrays)
t = time.perf_counter(); fuse_arrays(arrays); print("total", time.perf_counter() - t)
cProfile.run("fuse_arrays(arrays)", "/tmp/p3")
pstats.Stats("/tmp/p3").sort_stats("tottime").print_stats(10)
