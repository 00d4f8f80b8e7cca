"""Settings → Mood readers…: install (progress, cancel, resume, checksum, licence, offline), import and remove,
through the real dialog, its worker thread and ``model_download``. Downloads come from a server on 127.0.0.1
started by the test; nothing reaches the internet (the catalogue is the dialog's ``catalogue`` argument)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from moodsic_desktop.perception.model_download import Source
from moodsic_desktop.perception.model_store import MANIFEST_NAME, read_manifest, scan_models
from moodsic_desktop.ui.models_dialog import ModelsDialog

WAIT_MS = 20_000


def tiny_onnx(path: Path, name: str = "test-fer", kind: str | None = "fer2013", floats: int = 65536) -> Path:
    """A small ONNX model (an Identity with a ``floats``-value initialiser: about 4 bytes each) carrying
    Moodsic's labels, so that the models folder's checks accept it as a FER-2013 face model."""
    import onnx
    from onnx import TensorProto, helper

    weights = np.random.default_rng(0).standard_normal(floats).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [helper.make_tensor("w", TensorProto.FLOAT, [floats], weights.tobytes(), raw=True)],
    )
    model = helper.make_model(graph)
    if kind is not None:
        labels = {"kind": kind, "name": name, "format": "1", "licence": "MIT", "commercial_use": "true"}
        helper.set_model_props(model, {f"moodsic.{k}": v for k, v in labels.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)
    return path


class Server:
    """Serves ``files`` (URL path → bytes) with Range support, in ``piece``-byte writes ``delay_s`` apart;
    records (path, Range header) of every request."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.seen: list[tuple[str, str | None]] = []
        self.piece, self.delay_s = 8192, 0.0
        self.truncate_at: int | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.seen.append((self.path, self.headers.get("Range")))
                body = server.files[self.path]
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                end = len(body) if server.truncate_at is None else server.truncate_at
                try:
                    for at in range(start, end, server.piece):
                        self.wfile.write(body[at : min(at + server.piece, end)])
                        self.wfile.flush()
                        time.sleep(server.delay_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped (cancel)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"


@pytest.fixture
def server():
    served = Server()
    served.thread.start()
    yield served
    served.httpd.shutdown()
    served.httpd.server_close()
    served.thread.join()


@pytest.fixture
def models(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MOODSIC_HOME", str(tmp_path / "app"))
    return tmp_path / "app" / "models"


@pytest.fixture
def payload(tmp_path) -> bytes:
    return tiny_onnx(tmp_path / "served" / "test-fer.onnx").read_bytes()


def source(url: str, sha256: str | None, must_accept: bool = False, register_as: str | None = "fer2013",
           name: str = "test-fer.onnx") -> Source:  # fmt: skip
    licence = "Test licence: non-commercial use only." if must_accept else "MIT"
    return Source("test-fer", ((url, name, sha256),), "", licence, must_accept, False,
                  "moodsic models export test --checkpoint {folder}/test-fer.onnx", register_as)  # fmt: skip


def make_dialog(qtbot, models: Path, catalogue: dict | None, **kwargs) -> ModelsDialog:
    dialog = ModelsDialog(catalogue=catalogue, models_folder=models, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def wait_done(qtbot, dialog: ModelsDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.downloading(), timeout=WAIT_MS)


def test_install_downloads_with_progress_checks_and_registers(qtbot, server, models, payload):
    server.files["/m.onnx"] = payload
    server.piece, server.delay_s = 16384, 0.005
    catalogue = {"test-fer": source(server.url("/m.onnx"), hashlib.sha256(payload).hexdigest())}
    dialog = make_dialog(qtbot, models, catalogue)
    assert dialog.row("test-fer").state == "not installed" and dialog.row("test-fer").role == "face"
    values = []
    dialog.progress.valueChanged.connect(values.append)
    qtbot.mouseClick(dialog.row_buttons["test-fer (download)"]["install"], Qt.MouseButton.LeftButton)
    assert dialog.downloading() and dialog.progress.isVisible()
    wait_done(qtbot, dialog)
    assert "Installed test-fer" in dialog.message and "next start" in dialog.message
    assert len(set(values)) >= 3 and max(values) == len(payload) // 1024  # it moved, in kilobytes
    assert (models / "test-fer.onnx").read_bytes() == payload
    assert not (models / "test-fer.onnx.part").exists()
    status = scan_models(models).find("test-fer")
    assert status is not None and status.usable and status.licence == "MIT"
    row = dialog.row("test-fer")
    assert row.state == "installed" and "remove" in dialog.row_buttons[row.title]
    assert server.seen == [("/m.onnx", None)]


def test_cancel_keeps_the_part_and_install_resumes_it_with_a_range_request(qtbot, server, models, payload):
    server.files["/m.onnx"] = payload
    server.piece, server.delay_s = 4096, 0.03  # about 2 s in all
    catalogue = {"test-fer": source(server.url("/m.onnx"), hashlib.sha256(payload).hexdigest())}
    dialog = make_dialog(qtbot, models, catalogue)
    dialog.install("test-fer")
    part = models / "test-fer.onnx.part"
    qtbot.waitUntil(lambda: part.is_file() and part.stat().st_size >= 16384, timeout=WAIT_MS)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    wait_done(qtbot, dialog)
    assert "stopped" in dialog.message and "kept" in dialog.message
    kept = part.stat().st_size
    assert 0 < kept < len(payload)
    assert not (models / "test-fer.onnx").exists() and read_manifest(models) is None
    assert not dialog.progress.isVisible()

    server.delay_s = 0.0
    qtbot.mouseClick(dialog.row_buttons["test-fer (download)"]["install"], Qt.MouseButton.LeftButton)
    wait_done(qtbot, dialog)
    assert server.seen[-1] == ("/m.onnx", f"bytes={kept}-")
    assert (models / "test-fer.onnx").read_bytes() == payload
    assert "Installed test-fer" in dialog.message


def test_a_checksum_failure_leaves_nothing_in_the_models_folder(qtbot, server, models, payload):
    server.files["/m.onnx"] = payload
    wrong = hashlib.sha256(payload + b"x").hexdigest()
    dialog = make_dialog(qtbot, models, {"test-fer": source(server.url("/m.onnx"), wrong)})
    dialog.install("test-fer")
    wait_done(qtbot, dialog)
    assert "damaged" in dialog.message and "deleted" in dialog.message
    assert [p for p in models.rglob("*") if p.is_file()] == []
    assert dialog.row("test-fer").state == "not installed"


def test_a_non_commercial_licence_must_be_accepted_before_anything_is_downloaded(qtbot, server, models, payload):
    server.files["/m.onnx"] = payload
    catalogue = {"test-fer": source(server.url("/m.onnx"), None, must_accept=True)}
    dialog = make_dialog(qtbot, models, catalogue)
    dialog.install("test-fer")
    licence = dialog.licence_dialog
    assert licence.isVisible() and not dialog.downloading()
    assert not licence.accept_button.isEnabled()  # "I accept" needs the box ticked first
    qtbot.mouseClick(licence.cancel_button, Qt.MouseButton.LeftButton)
    assert "not accepted" in dialog.message
    assert server.seen == [] and not dialog.downloading() and not models.exists()

    dialog.install("test-fer")
    licence = dialog.licence_dialog
    licence.agree.setChecked(True)
    qtbot.mouseClick(licence.accept_button, Qt.MouseButton.LeftButton)
    wait_done(qtbot, dialog)
    assert server.seen == [("/m.onnx", None)] and (models / "test-fer.onnx").is_file()


def test_offline_it_says_what_to_download_from_where_and_where_to_put_it(qtbot, models):
    with socket.socket() as probe:  # a port nothing listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/emonet_8.pth"
    dialog = make_dialog(qtbot, models, {"test-fer": source(url, None)})
    dialog.install("test-fer")
    wait_done(qtbot, dialog)
    assert "Could not connect to the internet" in dialog.message
    assert url in dialog.message and str(models / "test-fer.onnx") in dialog.message
    assert not (models / "test-fer.onnx").exists()


def zip_checkpoint() -> bytes:
    """A small file of torch.save's zip format (the format checks of a download accept it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        archive.writestr("archive/data/0", b"weights" * 1000)
    return buffer.getvalue()


def test_a_download_that_needs_pytorch_is_not_called_installed(qtbot, server, models):
    server.files["/emonet_8.pth"] = zip_checkpoint()
    dialog = make_dialog(
        qtbot, models, {"test-fer": source(server.url("/emonet_8.pth"), None, register_as=None, name="emonet_8.pth")}
    )
    dialog.install("test-fer")
    wait_done(qtbot, dialog)
    assert "not ready yet" in dialog.message and "PyTorch" not in dialog.message  # plain words (issue 21)
    assert "Installed" not in dialog.message and read_manifest(models) is None
    row = dialog.row("test-fer")
    assert row.state == "downloaded" and "moodsic models export" in row.technical and "PyTorch" not in row.detail


def test_a_damaged_download_is_neither_shown_as_downloaded_nor_kept_as_one(qtbot, server, models):
    body = zip_checkpoint()
    server.files["/emonet_8.pth"] = body
    damaged = models / "emonet_8.pth"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(body[: len(body) // 2])  # an earlier download cut short
    dialog = make_dialog(
        qtbot, models, {"test-fer": source(server.url("/emonet_8.pth"), None, register_as=None, name="emonet_8.pth")}
    )
    assert dialog.row("test-fer").state == "not installed"
    dialog.install("test-fer")
    wait_done(qtbot, dialog)
    assert server.seen == [("/emonet_8.pth", None)] and damaged.read_bytes() == body
    assert dialog.row("test-fer").state == "downloaded"


def test_a_download_cut_short_keeps_its_part_and_says_so(qtbot, server, models, payload):
    server.files["/m.onnx"] = payload
    server.truncate_at = len(payload) // 2  # the server promises the whole file and sends half of it
    dialog = make_dialog(qtbot, models, {"test-fer": source(server.url("/m.onnx"), None)})
    dialog.install("test-fer")
    wait_done(qtbot, dialog)
    assert "cut off" in dialog.message and "kept" in dialog.message and "Installed" not in dialog.message
    assert (models / "test-fer.onnx.part").stat().st_size == len(payload) // 2
    assert not (models / "test-fer.onnx").exists() and read_manifest(models) is None


def test_a_web_page_in_place_of_the_model_is_deleted_and_said_plainly(qtbot, server, models):
    server.files["/m.onnx"] = b"<!DOCTYPE html><html><body>Please sign in</body></html>"
    dialog = make_dialog(qtbot, models, {"test-fer": source(server.url("/m.onnx"), None)})
    dialog.install("test-fer")
    wait_done(qtbot, dialog)
    assert dialog.message.startswith("The server sent something that is not the test-fer model file")
    assert "web page" in dialog.message and "Installed" not in dialog.message
    assert [p for p in models.rglob("*") if p.is_file()] == [] and dialog.row("test-fer").state == "not installed"


def test_the_real_catalogue_offers_emonet_with_its_licence_and_the_readers_in_use(qtbot, models):
    dialog = make_dialog(qtbot, models, None, face_in_use="fer2013-mini-xception (ONNX)",
                         scene_in_use="scene-statistics (built-in)")  # fmt: skip
    emonet = dialog.row("emonet-8")
    assert emonet.state == "not installed" and "CC BY-NC-ND 4.0" in emonet.licence
    assert "non-commercial" in emonet.licence and "PyTorch" in emonet.technical and "PyTorch" not in emonet.detail
    for row in dialog.rows:  # the window's words are plain; the tools and commands are in the tooltips
        for jargon in ("PyTorch", "FindingEmo", "train-scene", "ONNX"):
            assert jargon not in row.detail, (jargon, row.detail)
    assert "install" in dialog.row_buttons[emonet.title]
    box = dialog.row("FER-2013 (in the box)")
    assert box.state == "in use" and box.licence.startswith("MIT") and dialog.row_buttons[box.title] == {}
    assert dialog.row("Scene statistics").state == "in use" and dialog.row("Face geometry").state == "built in"


def test_import_registers_a_moodsic_file_and_refuses_others(qtbot, models, tmp_path):
    dialog = make_dialog(qtbot, models, {})
    assert dialog.import_file(tiny_onnx(tmp_path / "elsewhere" / "model.onnx", name="my-fer"))
    assert "Imported my-fer" in dialog.message and "next start" in dialog.message
    status = scan_models(models).find("my-fer")
    assert status is not None and status.usable and status.files["model"] == models / "my-fer.onnx"
    assert dialog.row("my-fer").state == "installed"

    assert not dialog.import_file(tiny_onnx(tmp_path / "plain.onnx", kind=None, floats=4))
    assert "not made for Moodsic" in dialog.message
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    assert not dialog.import_file(tmp_path / "junk.onnx")
    assert "not a model file" in dialog.message
    assert [m["name"] for m in read_manifest(models)["models"]] == ["my-fer"]


def test_remove_asks_naming_the_file_and_keeps_it_on_no(qtbot, models, tmp_path):
    dialog = make_dialog(qtbot, models, {})
    dialog.import_file(tiny_onnx(tmp_path / "model.onnx", name="my-fer"))
    path = models / "my-fer.onnx"
    title = dialog.row("my-fer").title
    qtbot.mouseClick(dialog.row_buttons[title]["remove"], Qt.MouseButton.LeftButton)
    assert dialog.confirm_box.isVisible() and str(path) in dialog.confirm_box.text()
    qtbot.mouseClick(dialog.confirm_keep, Qt.MouseButton.LeftButton)
    assert path.is_file() and scan_models(models).find("my-fer") is not None
    assert "Nothing removed" in dialog.message

    qtbot.mouseClick(dialog.row_buttons[dialog.row("my-fer").title]["remove"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.confirm_remove, Qt.MouseButton.LeftButton)
    assert not path.exists() and read_manifest(models)["models"] == []
    assert "Removed my-fer" in dialog.message
    assert not any(r.title.startswith("my-fer") for r in dialog.rows)


def test_closing_during_a_download_stops_it_first(qtbot, server, models, payload):
    server.files["/m.onnx"] = payload
    server.piece, server.delay_s = 4096, 0.05
    dialog = make_dialog(qtbot, models, {"test-fer": source(server.url("/m.onnx"), None)})
    dialog.install("test-fer")
    qtbot.waitUntil((models / "test-fer.onnx.part").is_file, timeout=WAIT_MS)
    dialog.reject()
    assert dialog.isVisible()  # waits for the worker, without blocking the GUI thread
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    assert not dialog.downloading() and not (models / "test-fer.onnx").exists()


def test_a_broken_model_shows_a_banner_that_opens_the_dialog(qtbot, open_window, models, tmp_path):
    models.mkdir(parents=True)
    tiny_onnx(models / "my-fer.onnx", name="my-fer")
    entry = {"name": "my-fer", "expert": "face", "kind": "fer2013", "licence": "MIT", "commercial_use": True,
             "files": {"model": {"path": "my-fer.onnx", "sha256": "0" * 64, "bytes": 12}}}  # fmt: skip
    (models / MANIFEST_NAME).write_text(json.dumps({"schema_version": 1, "models": [entry]}))
    window = open_window()
    assert "could not be used" in window.banners.text("model-broken")
    frame = window.banners._banners["model-broken"][0]
    button = next(b for b in frame.findChildren(type(window.source_bar.start_button)) if b.text() == "Mood readers…")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = window.models_dialog
    assert dialog.isVisible()
    broken = dialog.row("my-fer")
    assert broken.state == "broken" and "damaged or incomplete" in broken.detail
    assert set(dialog.row_buttons[broken.title]) == {"remove"}  # no Install over a broken file
    assert dialog.row("FER-2013 (in the box)").state == "in use"


def test_a_window_with_nothing_to_do_shows_no_models_banner(qtbot, open_window, models):
    window = open_window()
    assert window.banners.text("model-broken") is None
    window.menus.models_action.trigger()
    assert window.models_dialog.isVisible()


def test_the_running_program_does_not_load_the_download_code():
    code = (
        "import sys\nimport moodsic_desktop.ui.main_window, moodsic_desktop.ui.models_dialog, moodsic_desktop.ui.app\n"
        "print('moodsic_desktop.perception.model_download' in sys.modules)"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip().splitlines()[-1] == "False"
