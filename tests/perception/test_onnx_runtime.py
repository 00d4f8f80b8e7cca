"""The onnxruntime session factory: provider plans, devices, quiet GPU fallbacks, clear errors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from moodsic_desktop.perception import onnx_runtime
from moodsic_desktop.perception.onnx_runtime import (
    CPU,
    CUDA,
    DIRECTML,
    ModelTerms,
    OnnxRuntimeError,
    RuntimeConfig,
    create_session,
    joint_terms,
    plan_providers,
)

onnx = pytest.importorskip("onnx", reason="building test models needs the onnx package (the models extra)")
from onnx import TensorProto, helper  # noqa: E402


def tiny_model(path, metadata: dict[str, str] | None = None):
    """y = x + 1 on a float vector of any length, with custom metadata."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "one"], ["y"])],
        "add",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])],
        initializer=[helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(model, str(path))
    return path


@pytest.fixture(autouse=True)
def fresh_failures(monkeypatch):
    """Each test starts without remembered provider failures."""
    monkeypatch.setattr(onnx_runtime, "_PROVIDER_FAILURES", {})


def test_plan_always_ends_on_the_cpu_and_skips_what_is_not_built_in():
    assert plan_providers("auto", available=[CPU]) == ([CPU], [])
    providers, notes = plan_providers("directml", available=[CPU])
    assert providers == [CPU]
    assert notes == ["DirectML is not available in this onnxruntime build"]
    assert plan_providers("auto", available=[DIRECTML, CPU])[0] == [DIRECTML, CPU]


def test_cuda_without_a_driver_is_skipped_with_one_plain_note(monkeypatch):
    monkeypatch.setattr(onnx_runtime, "_nvidia_driver_present", lambda: False)
    providers, notes = plan_providers("auto", available=[CUDA, CPU])
    assert providers == [CPU]
    assert notes == ["CUDA not usable (no NVIDIA driver found)"]


def test_session_runs_on_the_cpu_with_device_label_and_metadata(tmp_path):
    path = tiny_model(tmp_path / "add.onnx", {"moodsic.kind": "test"})
    model = create_session(path, RuntimeConfig(device="cpu", threads=1))
    assert model.device == "CPU"
    assert model.provider == CPU
    assert model.status is None
    assert model.metadata == {"moodsic.kind": "test"}
    assert model.input_names == ["x"] and model.output_names == ["y"]
    (y,) = model.run({"x": np.array([1.0, 2.0], np.float32)})
    np.testing.assert_allclose(y, [2.0, 3.0])


def test_a_model_s_licence_and_commercial_use_are_read_once_into_its_terms(tmp_path):
    labels = {"moodsic.licence": "MIT", "moodsic.commercial_use": "True"}
    free = create_session(tiny_model(tmp_path / "free.onnx", labels), RuntimeConfig(device="cpu"))
    assert free.terms == ModelTerms(licence="MIT", commercial_use=True, status=None)
    bare = create_session(tiny_model(tmp_path / "bare.onnx", {"moodsic.licence": ""}), RuntimeConfig(device="cpu"))
    assert bare.terms == ModelTerms(licence="unknown", commercial_use=False)  # a file that says nothing allows nothing


def test_a_licence_that_forbids_commercial_use_says_so_once():
    assert ModelTerms("MIT", commercial_use=True).licence_words == "MIT"
    assert ModelTerms("CC BY-NC-ND 4.0").licence_words == "CC BY-NC-ND 4.0, non-commercial use only"
    assert ModelTerms("research only, non-commercial").licence_words == "research only, non-commercial"


def test_an_expert_of_two_models_may_be_used_commercially_only_when_both_may():
    head = ModelTerms("CC BY-NC 4.0", commercial_use=False)
    backbone = ModelTerms("MIT", commercial_use=True, status="CUDA not usable: running on the CPU")
    joint = joint_terms(head, backbone)
    assert joint == ModelTerms("CC BY-NC 4.0", False, "CUDA not usable: running on the CPU")
    assert joint_terms(ModelTerms(), backbone).licence == "MIT"  # the first licence that is known
    assert joint_terms(backbone, replace(backbone, licence="Apache-2.0")).commercial_use


def test_a_gpu_that_cannot_start_becomes_one_status_line_and_no_native_noise(tmp_path, monkeypatch, capfd):
    """onnxruntime-gpu without usable CUDA libraries prints a red multi-line error; here it must be silent
    and turn into ``status``. (Where CUDA really works, the session runs on it instead.)"""
    if CUDA not in onnx_runtime.ort.get_available_providers():
        pytest.skip("this onnxruntime has no CUDA provider")
    monkeypatch.setattr(onnx_runtime, "_nvidia_driver_present", lambda: True)  # pretend: try CUDA for real
    model = create_session(tiny_model(tmp_path / "add.onnx"), RuntimeConfig(device="cuda"))
    captured = capfd.readouterr()
    if model.provider == CUDA:
        assert model.device == "GPU (CUDA)"
        return
    assert model.device == "CPU"
    assert model.status is not None and model.status.startswith("CUDA not usable (")
    assert model.status.endswith("running on the CPU")
    assert "onnxruntime" not in captured.err and "Failed to" not in captured.err
    # The failure is remembered: the next session does not try again (and says why).
    again = create_session(tmp_path / "add.onnx", RuntimeConfig(device="auto"))
    assert again.status == model.status


def test_environment_overrides_defaults_but_not_explicit_values(monkeypatch):
    monkeypatch.setenv("MOODSIC_ONNX_DEVICE", "CPU")
    monkeypatch.setenv("MOODSIC_ONNX_THREADS", "3")
    assert RuntimeConfig.from_environment() == RuntimeConfig("cpu", 3)
    assert RuntimeConfig.from_environment("auto", 1) == RuntimeConfig("auto", 1)
    with pytest.raises(ValueError, match="unknown ONNX device"):
        RuntimeConfig(device="tpu")


def test_missing_and_corrupt_files_raise_one_clear_error(tmp_path):
    with pytest.raises(OnnxRuntimeError, match="not found"):
        create_session(tmp_path / "absent.onnx")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not a model")
    with pytest.raises(OnnxRuntimeError, match="cannot load"):
        create_session(broken)
