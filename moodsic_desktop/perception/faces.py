"""Face detection (MediaPipe face detection) and face cropping.

:class:`MediaPipeFaceDetector` implements ``core.types.FaceDetector``: ``detect(image)`` takes an RGB
uint8 H x W x 3 array and returns :class:`~moodsic_desktop.core.types.FaceBox` es in frame pixels,
clamped to the frame, largest first.

It uses MediaPipe's full-range model (``model_selection=1``, 192 x 192 input, meant for faces up to
about 5 m), because a shop camera sees people at 2-5 m. The whole frame is letterboxed into the model
input, so what counts is the face width relative to the frame: measured on ``skimage.data.astronaut()``
pasted into a grey 1280 x 720 frame, the full-range model finds faces from about 80 px wide reliably
(56-75 px sometimes, not below), the short-range model (128 x 128 input) finds none of those sizes.
``tiles=(nx, ny)`` additionally runs the model on an nx x ny grid of overlapping tiles (25 % overlap), which
brings faces of about 35 px in a 1280 x 720 frame within reach (``(3, 2)``), at 1 + nx * ny model runs per
frame, or fewer in turns (below). ``also_short_range=True`` also runs the short-range model on the whole
frame (better for large, close faces: the full-range model misses the close-up ``45-m7-di-ph.jpg`` of the
real fixtures, the short-range one finds it). Duplicates from the passes are merged (highest score wins)
when they overlap by IoU > 0.3, or when the smaller box lies mostly inside the larger one (intersection over
the smaller box's area > ``MERGE_NESTED`` = 0.6): faces do not nest, so a box inside a face's box is a
second look at the same face. A tile whose edge crosses a close face sees only its lower half and calls that
a face: CREMA-D's actor cropped to fill 1280 x 720 (face 400-630 px wide) gave such a box (scores 0.6-0.76,
wholly or 89 % inside the face's box, IoU about 0.25) in up to a third of the frames, and the closer look
confirms it, since it finds the whole face around it. Different people's face boxes barely overlap: two real
faces pasted ever closer, one in front of the other, reach 10-15 % of the smaller box before the one behind
is no longer found; the group photo still gives 5 faces, the bench's crowd 8
(``tests/perception/test_face_merging.py``).

Tiles in turns (``tile_turns=n``; the program's 2): each call runs the whole-frame passes and one n-th of
the tiles (tile *i* when *i* mod *n* is the call's turn: with 3 x 2 tiles, a checkerboard), so each tile is
looked at every n-th call, 5 model runs a call instead of 8 with the program's settings. What a tile saw
carries over to the calls until its next run: such a box, one call old (33 ms at 30 frames per second),
joins a call's faces only where it touches no fresh face at all (a face moves less than its own width
from one frame to the next, so a face is not counted twice), and, with confirmation, only if it was
confirmed on its own call. After a cut, when the frame's grey thumbnail (32 x 18) differs from the last
call's by more than ``CUT_LEVEL`` = 50 grey levels on average (consecutive frames of the real fixtures
differ by 5 at most, the flickering "tense" part of the demo clip by 41 at 10 frames a second, and the
fixtures' cuts by 75 to 145), on the first call, after ``reset()`` and when the frame size changes, every
tile runs and nothing is carried.

Confirmation (``confirm=True``): the full-range model, tiled, also fires on things that are not faces
(a blurred cartoon title, a patch of a suit: scores 0.6-0.7, 20-70 px). So every candidate is looked at
again, closer: the square around it with a margin of half its size on each side, resized to 192 x 192,
goes through the short-range model, and the candidate is kept only when that finds a face with a score
of at least ``CONFIRM_SCORE`` (0.75) whose centre lies inside the candidate. Measured on the real
fixtures and the astronaut photograph pasted at 33-72 px: every real face re-detects at 0.89-0.95,
every false one at 0.62 or below, or not at all. A candidate that overlaps (IoU > 0.5) a box confirmed in
the previous call is kept without looking again, so a face that stays costs nothing more; each new
candidate costs one short-range run (about 2 ms on one core). ``rejected`` counts the candidates turned
down by the last call, ``model_runs`` its model runs (passes and closer looks).

:func:`crop_face` cuts a square around a face box (enlarged by a margin, padded where it leaves the
frame, optionally resized): the face experts use it.

Lanes: the passes of one call (with the program's settings 5: about 5 ms of one core for each full-range
pass, 1.6 ms for the short-range one) are independent, so they are shared out over ``lanes`` (default:
one per core the process may use, at most ``MAX_LANES`` = 4), each with its own full-range graph: each
pass in turn goes to the lane with the least work so far (a short-range pass counts ``SHORT_RANGE_COST``
of a full-range one); lane 0 runs on the calling thread, the others on the detector's worker threads; the
call waits for all of them and joins their boxes in pass order, so the result is the same as with one
lane (``tests/perception/test_faces.py`` checks it on real footage). Measured on 2 cores with eight faces
in a 1280 x 720 frame: see the README, "How fast it runs".

Threads: a detector holds MediaPipe graphs, which are not thread-safe: call ``detect`` and ``close``
from the capture/pipeline thread, one call at a time (creating it on another thread first is fine); each
graph is used by one thread at a time (a lane's worker, or the caller). ``crop_face`` is a pure function,
safe on any thread.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_all
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from mediapipe.python.solutions import face_detection as _mp_face_detection

from moodsic_desktop.closing import ClosesOnExit
from moodsic_desktop.core.types import FaceBox
from moodsic_desktop.perception.mediapipe_quiet import started_quietly

__all__ = [
    "MAX_LANES",
    "MERGE_NESTED",
    "MediaPipeFaceDetector",
    "as_rgb_image",
    "crop_face",
    "default_lanes",
    "iou",
    "merge_boxes",
    "overlap_of_smaller",
]

log = logging.getLogger(__name__)

FULL_RANGE = 1
SHORT_RANGE = 0
_TILE_OVERLAP = 0.25
_MERGE_IOU = 0.3
MERGE_NESTED = 0.6
CONFIRM_SCORE = 0.75
CONFIRM_MARGIN = 0.5
CONFIRM_SIZE = 192
_TRACK_IOU = 0.5
MAX_LANES = 4
THUMBNAIL_SIZE = (32, 18)  # width, height of the grey thumbnail that tells a cut
CUT_LEVEL = 50.0  # mean difference of two thumbnails (grey levels, 0-255) above which a frame is a cut
SHORT_RANGE_COST = 0.3  # a short-range pass's time over a full-range one's (1.6 ms vs 5.1 ms on one core)


def default_lanes() -> int:
    """Detection lanes for this computer: one per core this process may run on, at most ``MAX_LANES``."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_LANES))


@dataclass(frozen=True)
class _Pass:
    """One model run of a ``detect`` call: which model, on which part of the frame (pixels, end exclusive),
    which sides of that part lie inside the frame (``None``: the whole frame) and which tile of the grid it
    is (``None``: a whole-frame pass)."""

    short_range: bool
    x0: int
    y0: int
    x1: int
    y1: int
    inner_edges: tuple[bool, bool, bool, bool] | None
    tile: int | None = None


def as_rgb_image(frame: np.ndarray) -> np.ndarray:
    """Check that ``frame`` is an RGB uint8 H x W x 3 array and return it C-contiguous.

    Raises ``ValueError`` with the offending shape/dtype otherwise. Pure; any thread.
    """
    image = np.asarray(frame)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image of shape (H, W, 3), got {image.dtype} {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected a non-empty image, got shape {image.shape}")
    return np.ascontiguousarray(image)


def _intersection(a: FaceBox, b: FaceBox) -> float:
    """The area two boxes share, in square pixels."""
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    return max(x1 - x0, 0.0) * max(y1 - y0, 0.0)


def iou(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes, in [0, 1]."""
    inter = _intersection(a, b)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def overlap_of_smaller(a: FaceBox, b: FaceBox) -> float:
    """The share of the smaller box's area that lies inside the other box, in [0, 1]: 1 when one box lies
    wholly inside the other (whatever their sizes), 0 when they do not touch."""
    smaller = min(a.area, b.area)
    return _intersection(a, b) / smaller if smaller > 0 else 0.0


def merge_boxes(
    boxes: Sequence[FaceBox], iou_threshold: float = _MERGE_IOU, nested_threshold: float = MERGE_NESTED
) -> list[FaceBox]:
    """Greedy non-maximum suppression: keep the highest-scoring box of every group of boxes that overlap by
    IoU > ``iou_threshold`` or of which one lies mostly inside another (``overlap_of_smaller`` >
    ``nested_threshold``; faces do not nest: see the module docstring). Returns boxes largest first. Pure;
    any thread."""
    kept: list[FaceBox] = []
    for box in sorted(boxes, key=lambda b: b.score, reverse=True):
        if all(
            iou(box, other) <= iou_threshold and overlap_of_smaller(box, other) <= nested_threshold for other in kept
        ):
            kept.append(box)
    return sorted(kept, key=lambda b: b.area, reverse=True)


class MediaPipeFaceDetector(ClosesOnExit):
    """Face detector on MediaPipe's full-range model (optionally also short-range, optionally tiled, optionally
    confirming every candidate with a closer look; see the module docstring).

    ``min_score`` in [0, 1] is the detector confidence threshold. ``tile_turns`` (>= 1) shares the tiles
    out over that many calls (module docstring, "Tiles in turns"). ``lanes`` (>= 1; ``None``:
    :func:`default_lanes`, one per core) is how many threads share a call's passes, at most one per pass
    (``self.lanes`` says how many it uses). ``detect`` returns boxes in frame pixels clamped to the frame,
    largest first. Call from the capture/pipeline thread, one call at a time.
    """

    def __init__(
        self,
        min_score: float = 0.5,
        also_short_range: bool = False,
        *,
        tiles: tuple[int, int] = (1, 1),
        confirm: bool = False,
        tile_turns: int = 1,
        lanes: int | None = None,
    ) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {min_score}")
        nx, ny = (int(t) for t in tiles)
        if nx < 1 or ny < 1:
            raise ValueError(f"tiles must be at least (1, 1), got {tiles}")
        if tile_turns < 1:
            raise ValueError(f"tile_turns must be at least 1, got {tile_turns}")
        if lanes is not None and lanes < 1:
            raise ValueError(f"lanes must be at least 1, got {lanes}")
        self.min_score = float(min_score)
        self.also_short_range = bool(also_short_range)
        self.tiles = (nx, ny)
        self.tile_turns = int(tile_turns)
        self._turn = 0
        self._tile_faces: dict[int, list[FaceBox]] = {}  # what each tile saw on its last run
        self._thumbnail: np.ndarray | None = None  # the last call's frame, grey, 32 x 18, when in turns
        self._frame_size: tuple[int, ...] = ()
        detection = functools.partial(_mp_face_detection.FaceDetection, min_detection_confidence=self.min_score)
        passes = 1 + int(self.also_short_range) + (nx * ny if nx > 1 or ny > 1 else 0)
        self.lanes = min(default_lanes() if lanes is None else int(lanes), passes)
        full_range = functools.partial(detection, model_selection=FULL_RANGE)
        # One full-range graph per lane (a graph runs one image at a time); lane 0's is ``_full``.
        self._lane_graphs = [started_quietly(full_range) for _ in range(self.lanes)]
        self._full: _mp_face_detection.FaceDetection | None = self._lane_graphs[0]
        self._workers = (
            ThreadPoolExecutor(self.lanes - 1, thread_name_prefix="face-detection") if self.lanes > 1 else None
        )
        self._short = (
            started_quietly(functools.partial(detection, model_selection=SHORT_RANGE))
            if self.also_short_range
            else None
        )
        self.confirm = bool(confirm)
        self._closer = (
            started_quietly(
                functools.partial(
                    _mp_face_detection.FaceDetection,
                    min_detection_confidence=min(CONFIRM_SCORE, self.min_score),
                    model_selection=SHORT_RANGE,
                )
            )
            if self.confirm
            else None
        )
        self._confirmed: list[FaceBox] = []
        self.rejected = 0
        self.model_runs = 0

    @property
    def closed(self) -> bool:
        return self._full is None

    def detect(self, frame: np.ndarray) -> list[FaceBox]:
        """Faces in an RGB uint8 H x W x 3 frame, as pixel boxes clamped to the frame, largest first.

        An empty list when there is none. Raises ``RuntimeError`` after ``close()``.
        """
        if self._full is None:
            raise RuntimeError("MediaPipeFaceDetector is closed")
        image = as_rgb_image(frame)
        every_tile = self.tile_turns == 1 or self._after_a_cut(image)
        if every_tile:
            self._tile_faces.clear()
        height, width = image.shape[:2]
        passes = self._passes(height, width, every_tile)
        self._turn = (self._turn + 1) % self.tile_turns
        self.model_runs = len(passes)
        found = self._run_passes(image, passes)
        for run, boxes in zip(passes, found, strict=True):
            if run.tile is not None and self.tile_turns > 1:
                self._tile_faces[run.tile] = boxes
        fresh = merge_boxes([box for boxes in found for box in boxes])
        if self._closer is not None:
            kept = [box for box in fresh if self._looks_like_a_face(image, box)]
            self.rejected = len(fresh) - len(kept)
            fresh = kept
        looked_at = {run.tile for run in passes}
        carried = [box for tile, seen in self._tile_faces.items() if tile not in looked_at for box in seen]
        carried = [box for box in merge_boxes(carried) if all(iou(box, other) == 0.0 for other in fresh)]
        if self._closer is not None:  # a carried box was a candidate of the last call: kept only if confirmed then
            carried = [box for box in carried if any(iou(box, known) > _TRACK_IOU for known in self._confirmed)]
        boxes = sorted(fresh + carried, key=lambda b: b.area, reverse=True)
        self._confirmed = boxes
        return boxes

    def _after_a_cut(self, image: np.ndarray) -> bool:
        """Whether ``image`` starts afresh: the first call (or the first after ``reset``), another frame size,
        or a cut (module docstring, "Tiles in turns"). Remembers its thumbnail for the next call."""
        thumbnail = cv2.resize(image, THUMBNAIL_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32).mean(axis=2)
        last, self._thumbnail = self._thumbnail, thumbnail
        if last is None or self._frame_size != image.shape:
            self._frame_size = image.shape
            return True
        return float(np.abs(thumbnail - last).mean()) > CUT_LEVEL

    def _passes(self, height: int, width: int, every_tile: bool) -> list[_Pass]:
        """The model runs of one call, in the order their boxes are joined (see the module docstring): the
        whole frame, and every tile or this call's turn of them."""
        passes = [_Pass(False, 0, 0, width, height, None)]
        if self._short is not None:
            passes.append(_Pass(True, 0, 0, width, height, None))
        nx, ny = self.tiles
        if nx > 1 or ny > 1:
            for tile, (x0, y0, x1, y1) in enumerate(_tile_grid(width, height, nx, ny)):
                if not every_tile and tile % self.tile_turns != self._turn:
                    continue  # another call's turn
                if x1 - x0 < 1 or y1 - y0 < 1:
                    continue  # a frame of a few pixels has empty tiles; MediaPipe's graph fails on them
                inner = (x0 > 0, y0 > 0, x1 < width, y1 < height)
                passes.append(_Pass(False, x0, y0, x1, y1, inner, tile))
        return passes

    def _run_passes(self, image: np.ndarray, passes: list[_Pass]) -> list[list[FaceBox]]:
        """Each pass's boxes, in pass order, the passes shared out over the lanes (:func:`_share_out`; lane 0
        here, the others on the workers). Waits for every lane, also when one fails, before returning or
        raising."""
        shares = _share_out(passes, len(self._lane_graphs))
        pending: list[Future[list[list[FaceBox]]]] = []
        if self._workers is not None:
            pending = [
                self._workers.submit(self._run_lane, lane, image, [passes[i] for i in shares[lane]])
                for lane in range(1, len(shares))
            ]
        try:
            results = [self._run_lane(0, image, [passes[i] for i in shares[0]])]
        finally:
            wait_for_all(pending)
        results += [future.result() for future in pending]
        found: list[list[FaceBox]] = [[] for _ in passes]
        for share, lane_found in zip(shares, results, strict=True):
            for index, boxes in zip(share, lane_found, strict=True):
                found[index] = boxes
        return found

    def _run_lane(self, lane: int, image: np.ndarray, passes: list[_Pass]) -> list[list[FaceBox]]:
        """The boxes of each of ``passes`` (lane ``lane``'s full-range graph; the one short-range graph)."""
        height, width = image.shape[:2]
        found = []
        for run in passes:
            model = self._short if run.short_range else self._lane_graphs[lane]
            whole = run.inner_edges is None
            part = image if whole else np.ascontiguousarray(image[run.y0 : run.y1, run.x0 : run.x1])
            found.append(
                self._run(
                    model,
                    part,
                    offset_x=run.x0,
                    offset_y=run.y0,
                    frame_width=width,
                    frame_height=height,
                    drop_inner_edges=run.inner_edges,
                )
            )
        return found

    def _looks_like_a_face(self, image: np.ndarray, box: FaceBox) -> bool:
        """True when ``box`` was confirmed in the previous call, or the short-range model finds a face at the
        candidate's place in a closer view of it (see the module docstring)."""
        if any(iou(box, known) > _TRACK_IOU for known in self._confirmed):
            return True
        crop = crop_face(image, box, margin=CONFIRM_MARGIN, size=CONFIRM_SIZE)
        self.model_runs += 1
        result = self._closer.process(crop)  # type: ignore[union-attr]
        for detection in result.detections or ():
            score = float(detection.score[0]) if detection.score else 0.0
            rel = detection.location_data.relative_bounding_box
            cx, cy = rel.xmin + rel.width / 2.0, rel.ymin + rel.height / 2.0
            inner = 1.0 / (1.0 + 2.0 * CONFIRM_MARGIN)  # the candidate's share of the crop, centred
            if score >= CONFIRM_SCORE and abs(cx - 0.5) <= inner / 2.0 and abs(cy - 0.5) <= inner / 2.0:
                return True
        return False

    def _run(
        self,
        model: _mp_face_detection.FaceDetection,
        image: np.ndarray,
        *,
        offset_x: int,
        offset_y: int,
        frame_width: int,
        frame_height: int,
        drop_inner_edges: tuple[bool, bool, bool, bool] | None,
    ) -> list[FaceBox]:
        """Run one model on ``image`` (the frame or a tile at the offset) and return frame-pixel boxes.

        With ``drop_inner_edges`` (left, top, right, bottom: whether that tile side is inside the
        frame), boxes cut by an inner tile edge are dropped: a neighbouring tile or the whole-frame pass
        sees those faces whole.
        """
        result = model.process(image)
        height, width = image.shape[:2]
        boxes: list[FaceBox] = []
        for detection in result.detections or ():
            rel = detection.location_data.relative_bounding_box
            x0, y0 = rel.xmin * width, rel.ymin * height
            x1, y1 = x0 + rel.width * width, y0 + rel.height * height
            if drop_inner_edges is not None:
                left, top, right, bottom = drop_inner_edges
                edge = 1.0
                if (
                    (left and x0 < edge)
                    or (top and y0 < edge)
                    or (right and x1 > width - edge)
                    or (bottom and y1 > height - edge)
                ):
                    continue
            fx0 = float(np.clip(x0 + offset_x, 0, frame_width))
            fy0 = float(np.clip(y0 + offset_y, 0, frame_height))
            fx1 = float(np.clip(x1 + offset_x, 0, frame_width))
            fy1 = float(np.clip(y1 + offset_y, 0, frame_height))
            if fx1 - fx0 < 1.0 or fy1 - fy0 < 1.0:
                continue
            score = float(detection.score[0]) if detection.score else 0.0
            landmarks = tuple(
                (point.x * width + offset_x, point.y * height + offset_y)
                for point in detection.location_data.relative_keypoints
            )
            boxes.append(FaceBox(x=fx0, y=fy0, width=fx1 - fx0, height=fy1 - fy0, score=score, landmarks=landmarks))
        return boxes

    def reset(self) -> None:
        """Forget the last calls (the faces confirmed, what the tiles saw, the last frame): a new source.
        Same thread as ``detect``."""
        self._confirmed = []
        self._tile_faces.clear()
        self._thumbnail = None
        self._turn = 0
        self.rejected = self.model_runs = 0

    def close(self) -> None:
        """Free the MediaPipe graphs. Safe to call twice, and never raises: a graph that failed earlier
        reports that failure again when it is closed, which is logged. Same thread as ``detect``."""
        if self._workers is not None:
            self._workers.shutdown(wait=True)
            self._workers = None
        models = (*self._lane_graphs, self._short, self._closer)
        self._full = self._short = self._closer = None
        self._lane_graphs = []
        self.reset()
        for model in models:
            if model is not None:
                try:
                    model.close()
                except Exception as error:  # the graph's earlier failure; nothing is left to free
                    log.warning("MediaPipe face detector: closing reported %s", str(error).splitlines()[0])


def _share_out(passes: Sequence[_Pass], lanes: int) -> list[list[int]]:
    """Which passes (their indices, in order) each of ``lanes`` lanes runs: each pass in turn goes to the lane
    with the least work so far (the lowest-numbered on a tie), a short-range pass counting
    ``SHORT_RANGE_COST`` of a full-range one. Pure."""
    shares: list[list[int]] = [[] for _ in range(lanes)]
    work = [0.0] * lanes
    for index, run in enumerate(passes):
        lane = min(range(lanes), key=lambda k: work[k])
        shares[lane].append(index)
        work[lane] += SHORT_RANGE_COST if run.short_range else 1.0
    return shares


def _tile_grid(width: int, height: int, nx: int, ny: int) -> list[tuple[int, int, int, int]]:
    """``(x0, y0, x1, y1)`` of an nx x ny grid of tiles overlapping by ``_TILE_OVERLAP``."""
    tile_w = round(width / (nx - (nx - 1) * _TILE_OVERLAP))
    tile_h = round(height / (ny - (ny - 1) * _TILE_OVERLAP))
    tiles = []
    for j in range(ny):
        for i in range(nx):
            x0 = round(i * (width - tile_w) / (nx - 1)) if nx > 1 else 0
            y0 = round(j * (height - tile_h) / (ny - 1)) if ny > 1 else 0
            tiles.append((x0, y0, min(x0 + tile_w, width), min(y0 + tile_h, height)))
    return tiles


def crop_face(
    frame: np.ndarray,
    face: FaceBox,
    margin: float = 0.25,
    size: int | None = None,
    *,
    pad: Literal["constant", "edge"] = "constant",
) -> np.ndarray:
    """Square RGB uint8 crop centred on ``face``.

    The side is ``max(width, height) * (1 + 2 * margin)`` pixels (``margin`` is the fraction of the box
    size added on each side), at least 1 px. Where the square leaves the frame it is padded with black
    (``pad="constant"``) or by repeating the border pixels (``pad="edge"``). With ``size`` the crop is
    resized to ``size x size`` (area interpolation when shrinking, linear when enlarging). Returns a new
    array. Pure; any thread.
    """
    image = as_rgb_image(frame)
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if size is not None and size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    height, width = image.shape[:2]
    cx, cy = face.center
    side = max(round(max(face.width, face.height) * (1.0 + 2.0 * margin)), 1)
    x0 = round(cx - side / 2.0)
    y0 = round(cy - side / 2.0)
    x1, y1 = x0 + side, y0 + side
    sx0, sy0 = min(max(x0, 0), width), min(max(y0, 0), height)
    sx1, sy1 = min(max(x1, 0), width), min(max(y1, 0), height)
    inside = image[sy0:sy1, sx0:sx1]
    pads = ((sy0 - y0, y1 - sy1), (sx0 - x0, x1 - sx1), (0, 0))
    crop: np.ndarray
    if inside.size == 0:
        crop = np.zeros((side, side, 3), dtype=np.uint8)
    elif any(p for pair in pads for p in pair):
        crop = np.pad(inside, pads, mode=pad)
    else:
        crop = inside.copy()
    if size is not None and size != side:
        interpolation = cv2.INTER_AREA if size < side else cv2.INTER_LINEAR
        crop = cv2.resize(crop, (size, size), interpolation=interpolation)
    return np.ascontiguousarray(crop)
