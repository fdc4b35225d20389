import sys, time, gc
sys.path.insert(0, "bench")
from compare_fusion import make_ensemble, as_coco
from fastdet.fusion import fuse_arrays, fuse_coco_results
arrays = make_ensemble(1000, 3, 100, seed=1)
coco = as_coco(arrays)
out = fuse_coco_results(coco); print(len(out))
for off in (False, True, False, True):
    if off: gc.disable()
    t = time.perf_counter(); fuse_coco_results(coco); print("gc off" if off else "gc on", time.perf_counter() - t)
    gc.enable()
