"""``moodsic models fetch``: resume, checksums, licences, and the offline instructions. No test touches the
network: downloads come from a server on 127.0.0.1 or fail as if the network were unreachable."""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from moodsic_desktop.cli._common import ProgressBar
from moodsic_desktop.cli.main import main
from moodsic_desktop.perception.model_download import (
    SOURCES,
    ChecksumError,
    OfflineError,
    Source,
    download,
    manual_instructions,
)

_HEADER = b'{"w":{"dtype":"U8","shape":[1024000],"data_offsets":[0,1024000]}}'
PAYLOAD = struct.pack("<Q", len(_HEADER)) + _HEADER + bytes(range(256)) * 4000  # a 1 MB safetensors file


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection but to a loopback address fails as an unreachable network would (before any DNS)."""
    real = socket.create_connection

    def guarded(address, *args, **kwargs):
        if not str(address[0]).startswith("127."):
            raise OSError(101, "Network is unreachable")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)


@pytest.fixture
def server():
    """Serves PAYLOAD at /file with range support; records the Range headers it saw."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Range"))
            start = 0
            if self.headers.get("Range"):
                start = int(self.headers["Range"].split("=")[1].split("-")[0])
                self.send_response(206)
            else:
                self.send_response(200)
            body = PAYLOAD[start:]
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Linked-Etag", f'"{hashlib.sha256(PAYLOAD).hexdigest()}"')
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/file", seen
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_download_resumes_a_partial_file_and_checks_the_hub_checksum(tmp_path, server):
    url, seen = server
    dest = tmp_path / "model.safetensors"
    (tmp_path / "model.safetensors.part").write_bytes(PAYLOAD[:300_000])
    assert download(url, dest) == dest
    assert dest.read_bytes() == PAYLOAD
    assert seen == ["bytes=300000-"]
    assert not (tmp_path / "model.safetensors.part").exists()


def test_a_checksum_mismatch_removes_the_download(tmp_path, server):
    url, _ = server
    with pytest.raises(ChecksumError, match="differs from the expected"):
        download(url, tmp_path / "x.bin", sha256="0" * 64)
    assert not list(tmp_path.iterdir())


def test_offline_is_its_own_error():
    with pytest.raises(OfflineError, match=r"cannot reach github\.com"):
        download(SOURCES["emonet-8"].files[0][0], "/nonexistent/never/written")


def test_offline_fetch_says_exactly_what_to_download_and_where(tmp_path, capsys):
    assert main(["models", "fetch", "emonet-8", "--accept-licence", "--dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "CC BY-NC-ND 4.0" in captured.out  # the licence is shown before anything else
    err = captured.err
    assert "cannot reach github.com" in err
    url = "https://github.com/face-analysis/emonet/raw/master/pretrained/emonet_8.pth"
    assert f"{url}  →  {tmp_path / 'downloads' / 'emonet_8.pth'}" in err
    assert f"then run: moodsic models export emonet --checkpoint {tmp_path / 'downloads'}/emonet_8.pth" in err


def test_gated_backbones_mention_the_hub_login(tmp_path):
    text = manual_instructions(SOURCES["dinov3-s16"], tmp_path)
    assert "model.safetensors" in text and "gated" in text
    assert str(tmp_path / "hub" / "dinov3-s16") in text


def test_a_non_commercial_licence_must_be_accepted(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["models", "fetch", "emonet-5", "--dir", str(tmp_path)]) == 1
    assert "run again with --accept-licence" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert main(["models", "fetch", "emonet-5", "--dir", str(tmp_path)]) == 1
    assert "licence not accepted: nothing downloaded" in capsys.readouterr().err
    assert not (tmp_path / "downloads").exists()


def test_files_already_there_are_not_downloaded_again(tmp_path, capsys):
    folder = tmp_path / "hub" / "clip-b32"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "clip"}')
    with zipfile.ZipFile(folder / "pytorch_model.bin", "w") as checkpoint:  # torch.save's zip format
        checkpoint.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    assert main(["models", "fetch", "clip-b32", "--dir", str(tmp_path)]) == 0  # the guard forbids any download
    out = capsys.readouterr().out
    assert "licence: OpenAI CLIP weights: MIT licence." in out
    assert f"already downloaded: {folder / 'pytorch_model.bin'}" in out
    assert "next: moodsic models train-scene --findingemo FINDINGEMO_FOLDER --backbone clip-b32" in out


def test_the_command_downloads_with_a_progress_bar_of_bytes(tmp_path, server, capsys, monkeypatch):
    url, _ = server
    source = Source("clip-b32", ((url, "model.safetensors", None),), "hub/test", "A test licence.", False, False, "x")
    monkeypatch.setitem(SOURCES, "clip-b32", source)
    shown = []
    real_update = ProgressBar.update
    monkeypatch.setattr(
        ProgressBar, "update", lambda bar, done, total: (shown.append((done, total)), real_update(bar, done, total))
    )
    assert main(["models", "fetch", "clip-b32", "--dir", str(tmp_path), "--quiet"]) == 0
    dest = tmp_path / "hub" / "test" / "model.safetensors"
    assert dest.read_bytes() == PAYLOAD
    assert shown[0] == (0, len(PAYLOAD)) and shown[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert f"saved {dest} (SHA-256 {hashlib.sha256(PAYLOAD).hexdigest()})" in capsys.readouterr().out
