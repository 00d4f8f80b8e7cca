"""``moodsic bench``: speed of the model experts, measured side by side in one run.

What it builds (no download; everything through the same export code as real models, in a scratch folder):
EmoNet-8 at full size with the synthetic state dict of the EmoNet fixture recipe, and a scene model — CLIP
ViT-B/32 at full size, randomly initialised (``--tiny``: a 2-layer, 32-wide stand-in) — with a randomly
initialised head. Weights do not change the speed.

What it prints (each comparison as ``ratio <name>: <times faster>``):

- ``emonet-onnxruntime-vs-pytorch``: one face (1 x 3 x 256 x 256), PyTorch eager vs onnxruntime; and
  EmoNet's milliseconds per face.
- ``scene-onnxruntime-vs-pytorch``: backbone + head (eval) on one frame, PyTorch eager vs onnxruntime.
- ``mc-dropout-head-only-vs-full-passes``: N MC-dropout samples as N full passes (backbone + head, each
  through onnxruntime) vs one backbone pass and N head samples in one batched call.
- ``fer2013-vs-emonet``: milliseconds per face of the face model in the box (FER-2013, read plain and
  mirrored, crops included) with one face and with eight faces in one batch, against EmoNet's one pass.
- ``end-to-end-fps``: frames per second of the program's pipeline (detector, EmoNet ONNX with one pass
  per frame, scene ONNX every 0.5 s of video, fusion, stabiliser, matcher) vs a research-prototype-style
  pipeline (same detector, PyTorch eager, EmoNet flip TTA on every frame, scene MC dropout by N full
  passes on every frame), over the same generated clip (10 fps, a face moving over the demo scene).
  ``end-to-end-fps-scene-every-frame`` repeats the program's side with the scene on every frame too.
- ``end-to-end-fps-8-faces-vs-1``: the program as a fresh install runs it (FER-2013, built-in scene) on
  1280 x 720 frames with eight faces of about 50 px in view (small enough that only the detector's tiles
  find them) against the same frames with one face, each pipeline on its own as in the program; the
  frames per second with eight faces are printed too, with the milliseconds per frame of each stage
  (detection and tracker, the faces' reading, the room's energy, the scene, the rest).
- ``end-to-end-fps-8-faces-lanes-vs-one-lane``, ``…-tiles-in-turns-vs-every-call`` and
  ``…-cues-vs-without``: the same eight faces with one of the program's defaults (``perception/faces.py``:
  the detector's passes shared out over its lanes; half of its tiles on each frame; the arousal cues: the
  faces' mesh cues, the tracker, the room's energy) against the same run without it, the two pipelines
  taking turns frame by frame (so that other work on a shared computer slows both alike); and the
  milliseconds per frame of each new cue: the face mesh (one face per frame), the room's energy, the
  tracker with eight faces.

Model timings are the fastest of ``repeats`` runs after one warm-up (the least disturbed by other
processes), on the CPU with the same thread count for both
runtimes. Main thread.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.pipeline import PipelineSettings
from moodsic_desktop.core.stations import fit_station_model
from moodsic_desktop.core.tracking import FaceTracker
from moodsic_desktop.core.types import Estimate, FaceBox
from moodsic_desktop.modelzoo.emonet import EmoNet, export_emonet, load_emonet_state, synthetic_state_dict
from moodsic_desktop.modelzoo.scene import (
    HeadCheckpoint,
    SceneBackbone,
    SceneHead,
    backbone_id,
    export_backbone,
    export_head,
    input_spec,
    load_backbone,
    save_random_backbone,
)
from moodsic_desktop.perception.face_cues import FaceCueReader
from moodsic_desktop.perception.faces import MediaPipeFaceDetector, crop_face
from moodsic_desktop.perception.fer_expert import FerExpert
from moodsic_desktop.perception.model_store import make_entry, register_model
from moodsic_desktop.perception.onnx_runtime import RuntimeConfig, create_session
from moodsic_desktop.perception.onnx_scene_expert import dropout_masks, prepare_image
from moodsic_desktop.perception.room_energy import RoomEnergyMeter
from moodsic_desktop.perception.synthetic import demo_frame
from moodsic_desktop.session.assembly import (
    BUILTIN_ORIGIN,
    EngineSettings,
    ExpertChoice,
    ExpertSelection,
    build_pipeline,
    select_experts,
)

__all__ = ["BenchOptions", "PrototypeEmoNet", "PrototypeScene", "bench_frames", "crowd_frames", "run_benchmarks"]

FPS = 10.0
FRAME_SIZE = (640, 360)
# The stages of a pipeline step (``StepRecord.timings_ms``) as the bench names them.
_STAGE_WORDS = {
    "detect": "detection and tracker",
    "face": "faces (FER-2013 and face mesh)",
    "room": "room energy",
    "scene": "scene",
    "rest": "fusion, stabiliser, matcher",
}


@dataclass
class BenchOptions:
    """``frames`` of the end-to-end run, ``repeats`` per model timing, ``threads`` (0: all cores), ``tiny``
    scene backbone, ``mc_samples`` N, and an optional ``workdir`` that keeps the built models."""

    frames: int = 20
    repeats: int = 5
    threads: int = 0
    tiny: bool = False
    mc_samples: int = 5
    workdir: Path | None = None


def bench_frames(count: int, size: tuple[int, int] = FRAME_SIZE) -> list[np.ndarray]:
    """RGB frames at 10 fps: the demo clip's scene with a real face (skimage's astronaut, about 150 px)
    drifting across it."""
    from skimage import data

    face = cv2.resize(data.astronaut()[20:260, 120:340], (150, 164), interpolation=cv2.INTER_AREA)
    width, height = size
    frames = []
    for index in range(count):
        frame = cv2.cvtColor(demo_frame(index, FPS, size, segment_s=max(count / FPS / 3, 0.5)), cv2.COLOR_BGR2RGB)
        x = int(width * 0.3 + 40 * np.sin(index / 7.0))
        y = int(height * 0.25)
        frame[y : y + face.shape[0], x : x + face.shape[1]] = face
        frames.append(frame)
    return frames


def crowd_frames(count: int, faces: int, size: tuple[int, int] = (1280, 720)) -> list[np.ndarray]:
    """RGB frames at 10 fps: the demo clip's scene with ``faces`` copies of the astronaut's face (about 120 px
    wide) in a 4 x 2 grid, each drifting a little."""
    from skimage import data

    face = cv2.resize(data.astronaut()[20:260, 120:340], (120, 131), interpolation=cv2.INTER_AREA)
    width, height = size
    frames = []
    for index in range(count):
        frame = cv2.cvtColor(demo_frame(index, FPS, size, segment_s=max(count / FPS / 3, 0.5)), cv2.COLOR_BGR2RGB)
        for k in range(faces):
            x = int(60 + (k % 4) * width / 4 + 10 * np.sin(index / 5.0 + k))
            y = int(80 + (k // 4) * height / 2)
            frame[y : y + face.shape[0], x : x + face.shape[1]] = face
        frames.append(frame)
    return frames


def _best_ms(function: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` timed calls after a warm-up, in ms (the least disturbed by other work)."""
    function()
    times = []
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000.0 * min(times)


class PrototypeEmoNet:
    """Prototype-style face expert: PyTorch eager EmoNet, the crop and its mirror image as one batch."""

    name = "emonet (PyTorch, flip TTA)"
    is_fallback = False
    device = "CPU"

    def __init__(self, model: EmoNet) -> None:
        self.model = model.eval()

    def estimate(self, frame: np.ndarray, face: FaceBox, now: float) -> Estimate | None:
        crop = crop_face(frame, face, margin=0.15, size=256)
        batch = np.stack([crop, crop[:, ::-1]]).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
        with torch.no_grad():
            out = self.model(torch.from_numpy(batch))
        v = out["valence"].clamp(-1, 1).numpy()
        a = out["arousal"].clamp(-1, 1).numpy()
        return Estimate(float(v.mean()), float(a.mean()), float(v.var()) + 0.01, float(a.var()) + 0.01, self.name)

    def reset(self) -> None:
        """Nothing to forget."""


class PrototypeScene:
    """Prototype-style scene expert: N full passes (backbone + head with dropout active) in PyTorch eager."""

    name = "scene (PyTorch, MC dropout by full passes)"
    is_fallback = False
    device = "CPU"

    def __init__(self, backbone: SceneBackbone, head: SceneHead, spec_input: dict[str, Any], passes: int) -> None:
        self.backbone, self.head, self.spec_input, self.passes = backbone.eval(), head, spec_input, passes

    def estimate(self, frame: np.ndarray, now: float) -> Estimate | None:
        pixels = torch.from_numpy(prepare_image(frame, self.spec_input))
        self.head.train()  # dropout on
        with torch.no_grad():
            samples = torch.cat([self.head(self.backbone(pixels)) for _ in range(self.passes)]).numpy()
        values = samples * 2.0 - 1.0
        mean, var = values.mean(axis=0), values.var(axis=0) + 0.01
        return Estimate(float(mean[0]), float(mean[1]), float(var[0]), float(var[1]), self.name)

    def reset(self) -> None:
        """Nothing to forget."""


def _build_models(folder: Path, tiny: bool, say: Callable[[str], None]) -> dict[str, Any]:
    say("building EmoNet-8 (synthetic weights) and exporting it …")
    emonet = load_emonet_state(synthetic_state_dict(8))
    emonet_path = folder / "emonet-8.onnx"
    export_emonet(emonet, emonet_path, source_name="synthetic", source_sha256=None)
    register_model(make_entry("emonet-8", "emonet", {"model": emonet_path}, folder, licence="CC BY-NC-ND 4.0"), folder)
    say(f"building a {'tiny' if tiny else 'full-size'} CLIP ViT-B/32 scene model (random weights) and exporting it …")
    backbone = load_backbone("clip-b32", save_random_backbone("clip-b32", folder / "hub" / "clip-b32", tiny=tiny))
    spec_input = input_spec(backbone.spec, backbone.spec.input_size)
    torch.manual_seed(0)
    head = SceneHead(backbone.feature_dim, hidden=256, dropout=0.3).eval()
    checkpoint = HeadCheckpoint(head, "clip-b32", backbone_id(backbone, spec_input), spec_input)
    files = {"backbone": folder / "scene.backbone.onnx", "head": folder / "scene.head.onnx"}
    export_backbone(backbone, files["backbone"], spec_input, name="scene-bench")
    export_head(checkpoint, files["head"], name="scene-bench", licence="bench")
    register_model(make_entry("scene-bench", "scene", files, folder, licence="bench"), folder)
    return {"emonet": emonet, "backbone": backbone, "head": head, "spec_input": spec_input, "files": files}


def _pipeline(experts: Any, scene_interval_s: float, settings: EngineSettings | None = None) -> Any:
    songs = builtin_songs()
    library = MusicLibrary(songs=songs, origin=BUILTIN_ORIGIN, stations=fit_station_model(songs))
    pipeline = PipelineSettings(scene_interval_s=scene_interval_s, simulate_song_end=True)
    settings = replace(settings or EngineSettings(), pipeline=pipeline)
    return build_pipeline(library, settings, experts=experts)


def _fps(pipeline: Any, frames: list[np.ndarray], stages: dict[str, float] | None = None) -> tuple[float, int]:
    """Frames per second and faces read over ``frames``; with ``stages``, fills it with the mean milliseconds
    per frame of each stage of the pipeline's step (see :func:`_side_by_side`)."""
    ((fps, faces, measured),) = _side_by_side([pipeline], frames)
    if stages is not None:
        stages.update(measured)
    return fps, faces


def _side_by_side(pipelines: list[Any], frames: list[np.ndarray]) -> list[tuple[float, int, dict[str, float]]]:
    """Each pipeline's frames per second, faces read and mean milliseconds per frame of each stage of its step
    (``StepRecord.timings_ms``; ``"rest"``: the rest of the step, fusion, stabiliser, matcher) over the same
    ``frames``. Several pipelines take turns frame by frame (the order turning round each frame), so that
    other work on the computer slows them alike. Closes them."""
    for pipeline in pipelines:
        pipeline.process(frames[0], 0.0)  # warm-up (not counted)
        pipeline.reset()
    elapsed = [0.0] * len(pipelines)
    faces = [0] * len(pipelines)
    totals: list[dict[str, float]] = [{} for _ in pipelines]
    for index, frame in enumerate(frames):
        turns = range(len(pipelines)) if index % 2 == 0 else reversed(range(len(pipelines)))
        for k in turns:
            start = time.perf_counter()
            step = pipelines[k].process(frame, index / FPS)
            elapsed[k] += time.perf_counter() - start
            faces[k] += step.faces_read if step.face_fresh else 0
            for stage, ms in step.timings_ms.items():
                totals[k][stage] = totals[k].get(stage, 0.0) + ms
    results = []
    for k, pipeline in enumerate(pipelines):
        pipeline.close()
        stages = {stage: total / len(frames) for stage, total in totals[k].items()}
        stages["rest"] = max(1000.0 * elapsed[k] / len(frames) - sum(stages.values()), 0.0)
        results.append((len(frames) / elapsed[k], faces[k], stages))
    return results


def run_benchmarks(options: BenchOptions, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Build, measure and print (see the module docstring); returns the measurements."""
    threads = options.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    # The synthetic EmoNet weights drive activations into denormal floats, which slow PyTorch's CPU kernels
    # down more than tenfold (onnxruntime's are immune); real weights do not. Flush them, for a fair race.
    torch.set_flush_denormal(True)
    runtime = RuntimeConfig(device="cpu", threads=threads)
    results: dict[str, Any] = {"threads": threads, "tiny": options.tiny, "ratios": {}}
    saved = {key: os.environ.get(key) for key in ("MOODSIC_ONNX_DEVICE", "MOODSIC_ONNX_THREADS")}
    os.environ["MOODSIC_ONNX_DEVICE"], os.environ["MOODSIC_ONNX_THREADS"] = "cpu", str(threads)  # for select_experts
    try:
        onnx_ms = _measure(options, threads, runtime, results, say)
    finally:
        torch.set_flush_denormal(False)  # the processor's default again: a caller's float maths stays exact
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    for name, value in results["ratios"].items():
        say(f"ratio {name}: {value:.2f}")
    say(f"emonet ms per face: {onnx_ms:.1f} (onnxruntime, {threads} thread(s))")
    fer = results["fer2013_ms_per_face"]
    say(f"fer2013 ms per face: {fer['batch_1']:.2f} (batch of 1), {fer['batch_8']:.2f} (batch of 8)")
    say(f"end-to-end fps with 8 faces in view: {results['end_to_end_fps_8_faces']['fps']:.2f}")
    cues = results["cues_ms_per_frame"]
    say(
        f"arousal cues ms per frame: face mesh {cues['face_mesh']:.2f}, room energy {cues['room_energy']:.2f}, "
        f"tracker {cues['tracker']:.3f}"
    )
    return results


def _measure(
    options: BenchOptions, threads: int, runtime: RuntimeConfig, results: dict[str, Any], say: Callable[[str], None]
) -> float:
    with tempfile.TemporaryDirectory(prefix="moodsic-bench-") as scratch:
        folder = options.workdir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        built = _build_models(folder, options.tiny, say)
        say(f"measuring on the CPU with {threads} thread(s) …")

        # EmoNet: PyTorch eager vs onnxruntime, one face.
        face = torch.rand(1, 3, 256, 256)
        emonet_session = create_session(folder / "emonet-8.onnx", runtime)
        with torch.no_grad():
            torch_ms = _best_ms(lambda: built["emonet"](face), options.repeats)
        onnx_ms = _best_ms(lambda: emonet_session.run({"image": face.numpy()}), options.repeats)
        say(f"emonet: onnxruntime {onnx_ms:.1f} ms/face, PyTorch eager {torch_ms:.1f} ms/face")
        results["emonet_ms_per_face"] = {"onnxruntime": onnx_ms, "pytorch": torch_ms}
        results["ratios"]["emonet-onnxruntime-vs-pytorch"] = torch_ms / onnx_ms

        # Scene: backbone + eval head, PyTorch eager vs onnxruntime.
        frame = bench_frames(1)[0]
        pixels = prepare_image(frame, built["spec_input"])
        backbone_session = create_session(built["files"]["backbone"], runtime)
        head_session = create_session(built["files"]["head"], runtime)
        dim = built["backbone"].feature_dim

        def onnx_scene(samples: int) -> np.ndarray:
            (features,) = backbone_session.run({"pixel_values": pixels})
            masks = dropout_masks(np.random.default_rng(0), 1, samples, dim, 0.3)
            return head_session.run({"features": features, "mask": masks})[0]

        def torch_scene() -> torch.Tensor:
            with torch.no_grad():
                return built["head"].eval()(built["backbone"](torch.from_numpy(pixels)))

        scene_torch_ms = _best_ms(torch_scene, options.repeats)
        scene_onnx_ms = _best_ms(lambda: onnx_scene(1), options.repeats)
        say(f"scene: onnxruntime {scene_onnx_ms:.1f} ms/frame, PyTorch eager {scene_torch_ms:.1f} ms/frame")
        results["scene_ms_per_frame"] = {"onnxruntime": scene_onnx_ms, "pytorch": scene_torch_ms}
        results["ratios"]["scene-onnxruntime-vs-pytorch"] = scene_torch_ms / scene_onnx_ms

        # MC dropout: N full passes vs one backbone pass + N head samples in one call (both onnxruntime).
        n = options.mc_samples
        full_ms = _best_ms(lambda: [onnx_scene(1) for _ in range(n)], options.repeats)
        head_only_ms = _best_ms(lambda: onnx_scene(n), options.repeats)
        say(f"MC dropout, N = {n}: {n} full passes {full_ms:.1f} ms, head-only {head_only_ms:.1f} ms")
        results["mc_dropout_ms"] = {"full_passes": full_ms, "head_only": head_only_ms, "n": n}
        results["ratios"]["mc-dropout-head-only-vs-full-passes"] = full_ms / head_only_ms

        # End to end over the same generated clip.
        frames = bench_frames(options.frames)
        ours = select_experts(EngineSettings(), folder)
        ours_fps, ours_faces = _fps(_pipeline(ours, 0.5), frames)
        ours_every = select_experts(EngineSettings(), folder)
        every_fps, _ = _fps(_pipeline(ours_every, 0.0), frames)
        prototype = ExpertSelection(
            face=ExpertChoice("face", "prototype", PrototypeEmoNet(built["emonet"]), None, "prototype"),
            scene=ExpertChoice(
                "scene", "prototype", PrototypeScene(built["backbone"], built["head"], built["spec_input"], n), None, ""
            ),
        )
        proto_fps, proto_faces = _fps(_pipeline(prototype, 0.0), frames)
        say(
            f"end to end ({len(frames)} frames, faces read {ours_faces}/{proto_faces}): pipeline {ours_fps:.2f} fps "
            f"(scene every frame: {every_fps:.2f} fps), prototype style {proto_fps:.2f} fps"
        )
        results["end_to_end_fps"] = {"pipeline": ours_fps, "scene_every_frame": every_fps, "prototype": proto_fps}
        results["ratios"]["end-to-end-fps"] = ours_fps / proto_fps
        results["ratios"]["end-to-end-fps-scene-every-frame"] = every_fps / proto_fps

        _measure_face_model_in_the_box(options, runtime, folder, onnx_ms, results, say)
    return onnx_ms


def _measure_face_model_in_the_box(
    options: BenchOptions,
    runtime: RuntimeConfig,
    folder: Path,
    emonet_ms: float,
    results: dict[str, Any],
    say: Callable[[str], None],
) -> None:
    """FER-2013's milliseconds per face (batch of 1 and of 8) and the end-to-end frames per second of a fresh
    install with eight faces in view against one."""
    # The face model in the box: one face, and eight faces in one call (crops and mirror pass included).
    fer = FerExpert(runtime=runtime)
    crowd = crowd_frames(1, 8)[0]
    boxes = [FaceBox(60 + (k % 4) * 320, 80 + (k // 4) * 360, 120, 131, 1.0) for k in range(8)]
    fer_one = _best_ms(lambda: fer.read_faces(crowd, boxes[:1], 0.0), options.repeats)
    fer_eight = _best_ms(lambda: fer.read_faces(crowd, boxes, 0.0), options.repeats) / 8
    say(f"fer2013: {fer_one:.2f} ms/face alone, {fer_eight:.2f} ms/face in a batch of 8")
    results["fer2013_ms_per_face"] = {"batch_1": fer_one, "batch_8": fer_eight}
    results["ratios"]["fer2013-vs-emonet"] = emonet_ms / fer_one

    # A fresh install (the face model in the box, built-in scene) with eight faces in view, and with one, each
    # pipeline on its own, as the program runs it.
    box = EngineSettings(face_expert="fer2013", scene_expert="scene-statistics")
    crowd_clip = crowd_frames(options.frames, 8)
    eight = _pipeline(select_experts(box, folder), 0.5)
    lanes = eight.detector.lanes
    ((eight_fps, eight_read, stages),) = _side_by_side([eight], crowd_clip)
    one_fps, _ = _fps(_pipeline(select_experts(box, folder), 0.5), crowd_frames(options.frames, 1))
    # Then side by side, frame by frame in turn, against the same without one of its speed-ups or its cues:
    # the detection's passes one after the other on one lane (perception/faces.py, "Lanes"), every tile on
    # every frame ("Tiles in turns"), no arousal cues.
    one_lane = _pipeline(select_experts(box, folder), 0.5)
    one_lane.detector.close()
    one_lane.detector = MediaPipeFaceDetector(
        also_short_range=box.face_detection_short_range,
        tiles=box.face_detection_tiles,
        confirm=box.face_detection_confirm,
        tile_turns=box.face_detection_tile_turns,
        lanes=1,
    )
    lanes_pair = _side_by_side([_pipeline(select_experts(box, folder), 0.5), one_lane], crowd_clip)
    every = replace(box, face_detection_tile_turns=1)
    turns_pair = _side_by_side(
        [_pipeline(select_experts(box, folder), 0.5), _pipeline(select_experts(every, folder), 0.5, every)], crowd_clip
    )
    plain = replace(box, face_cues=False, room_energy=False)
    cues_pair = _side_by_side(
        [_pipeline(select_experts(box, folder), 0.5), _pipeline(select_experts(plain, folder), 0.5, plain)], crowd_clip
    )
    say(
        f"end to end, 1280 x 720, FER-2013: {eight_fps:.2f} fps with 8 faces in view "
        f"({eight_read / options.frames:.1f} read per frame), {one_fps:.2f} fps with one"
    )
    say(
        "end to end with 8 faces, ms per frame: "
        + ", ".join(f"{_STAGE_WORDS[name]} {stages[name]:.1f}" for name in _STAGE_WORDS if name in stages)
        + f" (detection on {lanes} lane(s))"
    )
    say(
        f"side by side with 8 faces: {lanes_pair[0][0]:.2f} fps vs {lanes_pair[1][0]:.2f} on one lane; "
        f"{turns_pair[0][0]:.2f} fps vs {turns_pair[1][0]:.2f} with every tile on every frame; "
        f"{cues_pair[0][0]:.2f} fps vs {cues_pair[1][0]:.2f} without the arousal cues"
    )
    results["end_to_end_fps_8_faces"] = {
        "fps": eight_fps,
        "one_face_fps": one_fps,
        "faces_read": eight_read,
        "lanes": lanes,
        "stages_ms": stages,
        "side_by_side": {
            "one_lane": [lanes_pair[0][0], lanes_pair[1][0]],
            "every_tile": [turns_pair[0][0], turns_pair[1][0]],
            "without_cues": [cues_pair[0][0], cues_pair[1][0]],
        },
    }
    results["ratios"]["end-to-end-fps-8-faces-vs-1"] = eight_fps / one_fps
    results["ratios"]["end-to-end-fps-8-faces-lanes-vs-one-lane"] = lanes_pair[0][0] / lanes_pair[1][0]
    results["ratios"]["end-to-end-fps-8-faces-tiles-in-turns-vs-every-call"] = turns_pair[0][0] / turns_pair[1][0]
    results["ratios"]["end-to-end-fps-8-faces-cues-vs-without"] = cues_pair[0][0] / cues_pair[1][0]
    _measure_cues(options, crowd_clip, boxes, results, say)


def _measure_cues(
    options: BenchOptions,
    frames: list[np.ndarray],
    boxes: list[FaceBox],
    results: dict[str, Any],
    say: Callable[[str], None],
) -> None:
    """Milliseconds per frame of each arousal cue on the eight-face frames: one face mesh (the reader's
    budget per frame), the room's energy, the tracker."""
    reader = FaceCueReader(mesh_per_frame=1)
    tracked = [replace(box, track=k + 1) for k, box in enumerate(boxes)]
    clock = iter(range(10**9))
    mesh_ms = _best_ms(lambda: reader.read(frames[0], tracked, next(clock) * 0.1), options.repeats)
    reader.close()
    meter = RoomEnergyMeter()
    room_ms = _best_ms(lambda: meter.measure(frames[next(clock) % 2], tracked, next(clock) * 0.1), options.repeats)
    tracker = FaceTracker()
    track_ms = _best_ms(lambda: tracker.update(boxes, next(clock) * 0.1), options.repeats)
    say(
        f"arousal cues per frame: face mesh {mesh_ms:.2f} ms (one face), room energy {room_ms:.2f} ms, "
        f"tracker {track_ms:.3f} ms (8 faces)"
    )
    results["cues_ms_per_frame"] = {"face_mesh": mesh_ms, "room_energy": room_ms, "tracker": track_ms}
