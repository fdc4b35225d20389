import sys, time, cProfile, pstats
sys.path.insert(0, "bench")
from compare_fusion import make_ensemble, as_coco
from fastdet.fusion import fuse_arrays, fuse_coco_results
arrays = make_ensemble(1000, 3, 100, seed=1)
coco = as_coco(arrays)
fuse_arrays(arrays); fuse_coco_results(coco)
for f in (lambda: fuse_arrays(arrays), lambda: fuse_coco_results(coco)):
    t = time.perf_counter(); f(); print(time.perf_counter() - t)
cProfile.run("fuse_arrays(arrays)", "/tmp/p1")
pstats.Stats("/tmp/p1").sort_stats("tottime").print_stats(8)
cProfile.run("fuse_coco_results(coco)", "/tmp/p2")
pstats.Stats("/tmp/p2").sort_stats("tottime").print_stats(8)
