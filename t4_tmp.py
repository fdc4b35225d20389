import time
import numpy as np
from fastdet.lvis import LVIS, LVISResults, LVISEval
from fastdet import _lvis_core as C, _lvis_adapter as A
gt='/tmp/fastdet_lvis_synth_5000_seed0/gt.json'; dt='/tmp/fastdet_lvis_synth_5000_seed0/dt.json'
g = LVIS(gt); d = LVISResults(g, dt); e = LVISEval(g, d); e.run()
p = e.params
for _ in range(3):
    t0=time.perf_counter()
    L = C.federated_layout(g._gt, d._dt, g._fed, np.array(p.img_ids), np.array(p.cat_ids), True)
    t1=time.perf_counter()
    run = C.evaluate(L, np.asarray(p.iou_thrs), np.asarray(p.area_rng, float))
    t2=time.perf_counter()
    P, R = C.accumulate(run, np.asarray(p.rec_thrs))
    t3=time.perf_counter()
    e.summarize(); t4=time.perf_counter()
    print(f"layout {t1-t0:.3f} match {t2-t1:.3f} acc {t3-t2:.3f} summ {t4-t3:.3f}", L.n_imgs, L.n_gt, L.n_dt, len(d._dt))
