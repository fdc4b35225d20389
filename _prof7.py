import sys, time
sys.path.insert(0, "bench")
import numpy as np
from compare_fusion import make_ensemble
from fastdet._validate import as_float_array, to_numeric_array
from fastdet.fusion import _whole_numbers
from fastdet.nms import _compact_groups
arrays = make_ensemble(5000, 3, 100, seed=1)
def tm(name, f, r=7):
    f(); b = 1e9
    for _ in range(r):
        t = time.process_time(); f(); b = min(b, time.process_time() - t)
    print(f"{name:30s} {b*1e3:7.1f} ms")
    return f()
parts = tm("as_float_array x3", lambda: [as_float_array(to_numeric_array(a, "a"), "a", dtype=np.float64) for a in arrays])
data = tm("concatenate", lambda: np.concatenate(parts))
tm("model repeat", lambda: np.repeat(np.arange(3), [len(p) for p in parts]))
ids = tm("whole ids", lambda: _whole_numbers(data[:, 0], "x"))
tm("whole labels", lambda: _whole_numbers(data[:, 6], "x"))
tm("compact ids", lambda: _compact_groups(ids))
tm("boxes copy", lambda: np.ascontiguousarray(data[:, 1:5]))
tm("score copy", lambda: data[:, 5].copy())
tm("np.empty n,4 + fill", lambda: np.empty((len(data), 4)).fill(0))
tm("out assembly", lambda: np.empty((1300000, 7)).fill(0))
