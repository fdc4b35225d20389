"""COCO json I/O, a drop-in ``COCOeval`` (bbox, segm, keypoints) and the functional ``evaluate_coco``.

``COCO`` and ``COCOeval`` reproduce pycocotools' classes (same attributes, the
same printed summary and the same numbers, bit for bit), but keep annotations
as columnar NumPy arrays and run matching and accumulation as Numba kernels.
``evaluate_coco`` is the functional form: named statistics, per-class AP and the
precision/recall arrays, honouring custom ``max_detections`` in every statistic.

pycocotools behaviours reproduced on purpose (each is tested against it):

1. Crowd regions (``iscrowd`` != 0): IoU with a crowd ground truth is
   intersection / *detection* area, and a crowd region can be matched by any
   number of detections.
2. The ground-truth ``ignore`` flag is ``iscrowd``. pycocotools sets
   ``gt["ignore"]`` from ``iscrowd`` and so never reads an ``ignore`` key in
   the file; neither does fastdet.
3. Area ranges use the ``area`` field (the mask area for COCO ground truth),
   not the box area; ``loadRes`` sets a bbox result's ``area`` to ``w * h``.
   Unmatched detections outside the range are ignored; bounds are inclusive.
   A crowd region may lack ``area`` (pycocotools never reads an ignored ground
   truth's area), except in keypoint evaluation, whose OKS scale it is.
4. Ties in score keep input order (a stable sort, pycocotools' ``mergesort``):
   within an image by file order, across images by image id.
5. Only the best ``maxDets[-1]`` detections per (image, category) are matched.
6. ``summarize()`` reports stats[0] at ``maxDets=100`` literally (-1 when 100
   is not in ``params.maxDets``) and every other AP and the area-range ARs at
   ``params.maxDets[2]``, so it raises ``IndexError`` when ``maxDets`` has fewer
   than three entries. Averages are ``np.mean`` over entries > -1, which gives
   e.g. 0.6999999999999998 rather than 0.7.
7. -1 marks "no ground truth" in precision, recall and the statistics; after a
   category's last reachable recall, precision and scores are 0.
8. Ground-truth annotation id 0 (or a result id <= 0) changes matching exactly
   as it does in pycocotools, which stores ids in its match arrays and tests
   them for zero.

Loading: a JSON file is first read by a Numba scanner that pulls the fields
evaluation needs (ids, ``bbox``, ``area``, ``iscrowd``, ``score``) straight into
arrays, big arrays in chunks on several threads. Every number becomes the
double Python's ``float()`` gives for its text (Clinger's fast path, else the
Eisel-Lemire algorithm; a 19+ digit number whose dropped digits decide the
rounding goes to ``float()``), ids are exact integers or strings.
``dataset`` and the look-up tables are parsed from the kept file text only if
they are accessed. Whenever a file holds anything the scanner does not handle
(escaped keys, a repeated key, non-numeric or missing fields, ids mixing
integers and strings), it is parsed in full with orjson (or ``json`` when orjson
is not installed; ``json`` too when an id has 19 or more digits, so that it
stays exact), and malformed entries raise ``ValueError`` naming the file, the
entry and the field.

The package's parts: :mod:`~fastdet.coco.reading` (JSON scanning),
:mod:`~fastdet.coco.columns` (columnar annotations), :mod:`~fastdet.coco.dataset`
(``COCO``), :mod:`~fastdet.coco.params`, :mod:`~fastdet.coco.evaluation` (the
matching and accumulation core), :mod:`~fastdet.coco.keypoints` (OKS and keypoint
results), :mod:`~fastdet.coco.cocoeval` (``COCOeval``),
:mod:`~fastdet.coco.functional` (``evaluate_coco``) and :mod:`~fastdet.coco.dropin`
(pycocotools' per-image methods, the slow path for subclasses that override them,
``COCO.annToRLE`` / ``showAnns`` / ``download``, and ``install_as_pycocotools``);
:mod:`~fastdet.coco.segm` holds the
mask side of ``iouType="segm"`` (COCO segmentations as run lengths, mask IoU per cell).
"""

from __future__ import annotations

from fastdet.coco.cocoeval import COCOeval
from fastdet.coco.dataset import COCO
from fastdet.coco.dropin import install_as_pycocotools, uninstall_pycocotools
from fastdet.coco.functional import CocoEvalResult, evaluate_coco
from fastdet.coco.params import Params

__all__ = [
    "COCO",
    "COCOeval",
    "CocoEvalResult",
    "Params",
    "evaluate_coco",
    "install_as_pycocotools",
    "uninstall_pycocotools",
]
