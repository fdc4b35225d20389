"""Record torch's and torchvision's answers on fixed inputs in ``tests/golden/torch.npz``.

CI installs neither torch nor torchvision (they are far too heavy for it), so the
tests that compare fastdet with them would be skipped there. This script runs
them once where they are installed and stores inputs and outputs together, with
the versions that produced them; ``tests/test_golden.py`` compares fastdet with
the file in every run, and also recomputes the outputs with the live torch when
it is installed (so a new torch release that changes an answer shows up).

    python tests/make_golden.py            rewrite tests/golden/torch.npz
    python tests/make_golden.py --check    recompute and compare with the file, write nothing

Cases (every array is stored under ``<case>/<name>``; inputs are ``in_*``):

- ``boxes/*``: ``box_iou``, ``generalized_box_iou``, ``distance_box_iou``,
  ``complete_box_iou`` of random boxes and of degenerate ones (zero width,
  zero height, points, shared edges; torch's NaN where it divides 0 by 0 is
  kept), ``box_convert``, ``clip_boxes_to_image``, ``remove_small_boxes``, in
  float32 and float64;
- ``losses/*``: ``l1_loss``, ``mse_loss``, ``smooth_l1_loss`` (four betas),
  ``sigmoid_focal_loss`` (five alpha/gamma pairs, logits up to +-1000) and
  ``binary_cross_entropy_with_logits`` with the three reductions;
- ``conv/*``, ``pool/*``: ``conv2d``, ``max_pool2d`` and ``avg_pool2d`` over
  strides, padding, dilation, groups, ``ceil_mode`` and ``count_include_pad``;
- ``nms/*``: ``nms`` and per-class NMS (``batched_nms``) of clustered detector
  output, of boxes with many tied scores, and of zero-area boxes;
- ``arch/*``: parameter, buffer and FLOP counts of torchvision's AlexNet, VGG-16,
  ResNet-18 and ResNet-50 (``torch.utils.flop_counter``) and every module's
  output shape.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import platform
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "torch.npz"

Arrays = dict[str, np.ndarray]

# --------------------------------------------------------------------------- inputs


def _random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    xy = rng.uniform(0, 100, (n, 2))
    wh = rng.uniform(0.5, 40, (n, 2))
    return np.concatenate([xy, xy + wh], 1)


#: Degenerate and touching boxes: zero width, zero height, points, repeated, sharing edges.
DEGENERATE = np.array(
    [
        [0, 0, 10, 10], [0, 0, 10, 10], [10, 0, 20, 10], [5, 5, 5, 15], [5, 5, 15, 5], [5, 5, 5, 5],
        [5, 5, 5, 5], [0, 0, 0, 0], [20, 20, 20, 20], [0, 0, 10, 0], [0, 10, 10, 10], [10, 0, 10, 10],
        [2, 2, 8, 8], [3, 0, 3, 20], [-5, -5, 0, 0], [0, 0, 1e-300, 1e-300], [0, 0, 1e6, 1e-6],
    ],
    np.float64,
)  # fmt: skip

CONV_CASES = [  # (n, c_in, c_out, h, w, kh, kw, stride, padding, dilation, groups, bias)
    (1, 3, 4, 7, 6, 3, 3, (1, 1), (1, 1), (1, 1), 1, True),
    (2, 4, 6, 9, 8, 3, 2, (2, 1), (0, 2), (1, 2), 2, False),
    (1, 6, 6, 8, 8, 3, 3, (2, 2), (1, 1), (2, 2), 6, True),
    (1, 2, 3, 5, 11, 1, 4, (1, 3), (0, 1), (1, 1), 1, True),
    (1, 3, 2, 4, 4, 4, 4, (1, 1), (2, 2), (1, 1), 1, False),
]
POOL_CASES = [  # (n, c, h, w, kernel, stride, padding, dilation, ceil_mode)
    (1, 2, 7, 6, (3, 3), (2, 2), (1, 1), (1, 1), False),
    (1, 2, 7, 6, (3, 3), (2, 2), (1, 1), (1, 1), True),
    (2, 1, 5, 5, (2, 2), (2, 2), (1, 1), (1, 1), True),  # ceil mode: a window past the padding
    (1, 3, 9, 8, (3, 2), (2, 3), (1, 1), (1, 1), True),
    (1, 1, 10, 9, (4, 4), (3, 3), (2, 2), (1, 1), True),
    (1, 2, 8, 8, (2, 3), (1, 2), (0, 1), (2, 1), False),  # dilation: max pool only
    (1, 1, 6, 7, (3, 2), (3, 1), (1, 0), (2, 3), True),
]
FOCAL = [(0.25, 2.0), (-1.0, 0.0), (0.5, 1.5), (0.75, 0.0), (0.25, 3.5)]
BETAS = (0.0, 0.5, 1.0, 2.0)
REDUCTIONS = ("none", "mean", "sum")
NMS_THRESHOLDS = {"clustered": (0.3, 0.5, 0.7), "ties": (0.0, 0.1, 0.5, 0.9, 1.0), "degenerate": (0.0, 0.5)}
NETWORKS = ("alexnet", "vgg16", "resnet18", "resnet50")
NETWORK_INPUT = (3, 96, 112)  # small and non-square: fast, and it exercises adaptive pooling


def _clustered(n: int, seed: int, n_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    spec = importlib.util.spec_from_file_location(
        "fastdet_bench_generate", HERE.parent / "bench" / "generate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    boxes, scores, labels = gen.clustered_boxes(n, seed=seed, n_classes=n_classes)
    return boxes, scores, labels


def inputs() -> dict[str, Arrays]:
    """Every case's inputs (deterministic)."""
    rng = np.random.default_rng(20261203)
    cases: dict[str, Arrays] = {}
    a, b = _random_boxes(rng, 40), _random_boxes(rng, 30)
    extra = _random_boxes(rng, 6)
    for suffix, dtype in (("f64", np.float64), ("f32", np.float32)):
        cases[f"boxes/random-{suffix}"] = {"in_a": a.astype(dtype), "in_b": b.astype(dtype)}
        cases[f"boxes/degenerate-{suffix}"] = {
            "in_a": DEGENERATE.astype(dtype),
            "in_b": np.concatenate([DEGENERATE, extra]).astype(dtype),
        }
    x = rng.normal(size=(7, 4)) * 3
    y = rng.normal(size=(7, 4)) * 3
    logits = np.concatenate(
        [rng.normal(size=40) * 4, [-1000, -100, -40, -20, -1e-3, 0, 1e-3, 20, 40, 100, 1000]]
    )
    targets = np.concatenate([(rng.random(40) < 0.3) * 1.0, [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1]])
    for suffix, dtype in (("f64", np.float64), ("f32", np.float32)):
        cases[f"losses/regression-{suffix}"] = {"in_x": x.astype(dtype), "in_y": y.astype(dtype)}
        cases[f"losses/focal-{suffix}"] = {"in_x": logits.astype(dtype), "in_t": targets.astype(dtype)}
    for i, (n, ci, co, h, w, kh, kw, s, p, d, g, bias) in enumerate(CONV_CASES):
        case = {
            "in_x": rng.standard_normal((n, ci, h, w)),
            "in_w": rng.standard_normal((co, ci // g, kh, kw)),
            "in_params": np.array([*s, *p, *d, g], np.int64),
        }
        if bias:
            case["in_b"] = rng.standard_normal(co)
        cases[f"conv/{i}"] = case
    for i, (n, c, h, w, k, s, p, d, ceil) in enumerate(POOL_CASES):
        cases[f"pool/{i}"] = {
            "in_x": rng.standard_normal((n, c, h, w)),
            "in_params": np.array([*k, *s, *p, *d, ceil], np.int64),
        }
    boxes, scores, labels = _clustered(2000, seed=1, n_classes=20)
    cases["nms/clustered-f32"] = {"in_boxes": boxes, "in_scores": scores, "in_labels": labels}
    cases["nms/clustered-f64"] = {
        "in_boxes": boxes.astype(np.float64), "in_scores": scores.astype(np.float64), "in_labels": labels
    }  # fmt: skip
    xy = rng.uniform(0, 50, (400, 2)).astype(np.float32)
    wh = rng.uniform(0, 20, (400, 2)).astype(np.float32)
    cases["nms/ties-f32"] = {
        "in_boxes": np.concatenate([xy, xy + wh], 1),
        "in_scores": rng.choice(np.linspace(0, 1, 7), 400).astype(np.float32),  # many ties
        "in_labels": rng.integers(0, 3, 400),
    }
    deg = np.concatenate([DEGENERATE, DEGENERATE[:6] + 1.0])
    cases["nms/degenerate-f64"] = {
        "in_boxes": deg,
        "in_scores": rng.choice([0.9, 0.5, 0.5, 0.2], len(deg)),
        "in_labels": rng.integers(0, 2, len(deg)),
    }
    for name in NETWORKS:
        cases[f"arch/{name}"] = {"in_shape": np.array(NETWORK_INPUT, np.int64)}
    return cases


# --------------------------------------------------------------------------- torch's answers


def _boxes(torch: Any, ops: Any, case: Arrays) -> Arrays:
    a, b = torch.from_numpy(case["in_a"]), torch.from_numpy(case["in_b"])
    out = {
        "iou": ops.box_iou(a, b),
        "giou": ops.generalized_box_iou(a, b),
        "diou": ops.distance_box_iou(a, b),
        "ciou": ops.complete_box_iou(a, b),
        "xywh": ops.box_convert(a, "xyxy", "xywh"),
        "cxcywh": ops.box_convert(a, "xyxy", "cxcywh"),
        "clip": ops.clip_boxes_to_image(a, (60, 80)),
        "small": ops.remove_small_boxes(a, 10.0),
    }
    return {k: v.numpy() for k, v in out.items()}


def _losses(torch: Any, ops: Any, name: str, case: Arrays) -> Arrays:
    fnn = torch.nn.functional
    out: Arrays = {}
    if "regression" in name:
        x, y = torch.from_numpy(case["in_x"]), torch.from_numpy(case["in_y"])
        for r in REDUCTIONS:
            out[f"l1_{r}"] = fnn.l1_loss(x, y, reduction=r).numpy()
            out[f"mse_{r}"] = fnn.mse_loss(x, y, reduction=r).numpy()
            for beta in BETAS:
                out[f"smooth_l1_{beta}_{r}"] = fnn.smooth_l1_loss(x, y, beta=beta, reduction=r).numpy()
        return out
    x, t = torch.from_numpy(case["in_x"]), torch.from_numpy(case["in_t"])
    for r in REDUCTIONS:
        for alpha, gamma in FOCAL:
            out[f"focal_{alpha}_{gamma}_{r}"] = ops.sigmoid_focal_loss(x, t, alpha, gamma, r).numpy()
        out[f"bce_{r}"] = fnn.binary_cross_entropy_with_logits(x, t, reduction=r).numpy()
    return out


def _conv(torch: Any, case: Arrays) -> Arrays:
    sh, sw, ph, pw, dh, dw, g = (int(v) for v in case["in_params"])
    bias = torch.from_numpy(case["in_b"]) if "in_b" in case else None
    y = torch.nn.functional.conv2d(
        torch.from_numpy(case["in_x"]), torch.from_numpy(case["in_w"]), bias, (sh, sw), (ph, pw), (dh, dw), g
    )
    return {"y": y.numpy()}


def _pool(torch: Any, case: Arrays) -> Arrays:
    f = torch.nn.functional
    kh, kw, sh, sw, ph, pw, dh, dw, ceil = (int(v) for v in case["in_params"])
    x = torch.from_numpy(case["in_x"])
    k, s, p, d = (kh, kw), (sh, sw), (ph, pw), (dh, dw)
    out = {"max": f.max_pool2d(x, k, s, p, d, bool(ceil)).numpy()}
    if d == (1, 1):
        out["avg_include_pad"] = f.avg_pool2d(x, k, s, p, bool(ceil), True).numpy()
        out["avg_exclude_pad"] = f.avg_pool2d(x, k, s, p, bool(ceil), False).numpy()
    return out


def _nms(torch: Any, ops: Any, name: str, case: Arrays) -> Arrays:
    boxes, scores, labels = case["in_boxes"], case["in_scores"], case["in_labels"]
    tb, ts = torch.from_numpy(boxes), torch.from_numpy(scores)
    out: Arrays = {}
    for thr in NMS_THRESHOLDS[name.split("/")[1].split("-")[0]]:
        out[f"nms_{thr}"] = ops.nms(tb, ts, thr).numpy()
        # per-class NMS from torchvision's own nms, class by class, merged by (score desc, index):
        # torchvision's batched_nms shifts coordinates below 1000 boxes, which rounds float32 boxes
        parts = [np.flatnonzero(labels == c)[ops.nms(tb[labels == c], ts[labels == c], thr).numpy()]
                 for c in np.unique(labels)]  # fmt: skip
        merged = np.concatenate(parts) if parts else np.empty(0, np.int64)
        out[f"per_class_{thr}"] = merged[np.lexsort((merged, -scores[merged].astype(np.float64)))]
    return out


def _arch(torch: Any, tv: Any, name: str, case: Arrays) -> Arrays:
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    model = getattr(tv.models, name)(weights=None).eval()
    shape = tuple(int(v) for v in case["in_shape"])
    shapes: dict[str, tuple[int, ...]] = {}

    def record(key: str) -> Callable[..., None]:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            shapes.setdefault(key, tuple(output.shape[1:]))  # shared modules (ReLU): the first call

        return hook

    modules = dict(model.named_modules())
    hooks = [m.register_forward_hook(record(key)) for key, m in modules.items() if key]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *shape))
    for h in hooks:
        h.remove()
    names = [k for k in modules if k]
    table = np.full((len(names), 5), -1, np.int64)  # params, buffers, output shape (up to 3 dims)
    for i, key in enumerate(names):
        table[i, 0] = sum(p.numel() for p in modules[key].parameters())
        table[i, 1] = sum(b.numel() for b in modules[key].buffers())
        for j, v in enumerate(shapes.get(key, ())):
            table[i, 2 + j] = v
    return {
        "params": np.array(sum(p.numel() for p in model.parameters()), np.int64),
        "buffers": np.array(sum(b.numel() for b in model.buffers()), np.int64),
        "flops": np.array(counter.get_total_flops(), np.int64),
        "module_names": np.array(names),
        "modules": table,
    }


def torch_outputs(name: str, case: Arrays) -> Arrays:
    """torch's / torchvision's outputs for one case (they must be importable)."""
    import torch
    import torchvision
    from torchvision import ops

    torch.set_num_threads(1)  # determinism of reductions does not depend on the thread count
    family = name.split("/")[0]
    if family == "boxes":
        return _boxes(torch, ops, case)
    if family == "losses":
        return _losses(torch, ops, name, case)
    if family == "conv":
        return _conv(torch, case)
    if family == "pool":
        return _pool(torch, case)
    if family == "nms":
        return _nms(torch, ops, name, case)
    if family == "arch":
        return _arch(torch, torchvision, name.split("/")[1], case)
    raise ValueError(name)


def versions() -> dict[str, str]:
    import torch
    import torchvision

    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "machine": platform.machine()}  # fmt: skip


# --------------------------------------------------------------------------- the file


def load(path: Path = GOLDEN) -> tuple[dict[str, Arrays], dict[str, Any]]:
    """(cases, metadata) from a golden file: ``cases[name]`` holds inputs and outputs."""
    cases: dict[str, Arrays] = {}
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        for key in data.files:
            if key == "meta":
                continue
            name, _, field = key.rpartition("/")
            cases.setdefault(name, {})[field] = data[key]
    return cases, meta


def _all() -> Iterator[tuple[str, Arrays]]:
    for name, case in inputs().items():
        yield name, {**case, **torch_outputs(name, case)}


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def main(argv: list[str] | None = None) -> int:
    """Write (or ``--check``) the golden file."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="compare with the file instead of writing it")
    parser.add_argument("--out", type=Path, default=GOLDEN)
    args = parser.parse_args(argv)
    cases = dict(_all())
    if args.check:
        stored, meta = load(args.out)
        bad = [f"{n}/{k}" for n, c in cases.items() for k, v in c.items()
               if n not in stored or k not in stored[n] or not _same(v, stored[n][k])]  # fmt: skip
        print(f"{args.out} was made with {meta['versions']}; now {versions()}")
        print("identical" if not bad else f"{len(bad)} arrays differ: {', '.join(bad[:20])}")
        return 1 if bad else 0
    flat = {f"{n}/{k}": v for n, c in cases.items() for k, v in c.items()}
    meta = {
        "versions": versions(),
        "made": datetime.date.today().isoformat(),
        "command": "python tests/make_golden.py",
        "cases": sorted(cases),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, meta=np.array(json.dumps(meta)), **flat)
    print(
        f"wrote {len(flat)} arrays of {len(cases)} cases to {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
