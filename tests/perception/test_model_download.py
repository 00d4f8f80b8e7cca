"""Downloads against servers that misbehave, on loopback addresses started by the test (never the internet):
a body cut short of its Content-Length, a web page in place of the weights, a 416 to a stale partial file,
a transfer cut mid-chunk, a server that trickles, and redirects that must not carry the hub token along."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from moodsic_desktop.perception import model_download as md
from moodsic_desktop.perception.weights_format import file_problem

TOKEN = "hf_secret_token_for_the_test"


def zip_checkpoint(size: int) -> bytes:
    """A file of torch.save's zip format (``archive/data.pkl`` and one storage), about ``size`` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        archive.writestr("archive/version", b"3\n")
        archive.writestr("archive/data/0", bytes(range(256)) * (size // 256))
    return buffer.getvalue()


def safetensors_file(values: int) -> bytes:
    header = f'{{"w":{{"dtype":"F32","shape":[{values}],"data_offsets":[0,{4 * values}]}}}}'.encode()
    return struct.pack("<Q", len(header)) + header + bytes(4 * values)


CHECKPOINT = zip_checkpoint(1_024_000)


class Served:
    """One HTTP(S) server on ``host``: ``routes`` maps a path to a handler function(request) that writes the
    answer; ``seen`` holds (path, Range, Authorization) of every request."""

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict = {}
        self.seen: list[tuple[str, str | None, str | None]] = []
        served = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                served.seen.append((self.path, self.headers.get("Range"), self.headers.get("Authorization")))
                self.close_connection = True
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    served.routes[self.path](self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def serve():
    servers = []

    def start(host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> Served:
        servers.append(Served(host, tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def whole(body: bytes, content_type: str = "application/octet-stream"):
    """A handler that serves ``body`` with Range support (206 with Content-Range, 416 past the end)."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        start = 0
        if request.headers.get("Range"):
            start = int(request.headers["Range"].split("=")[1].split("-")[0])
            if start >= len(body):
                request.send_response(416)
                request.send_header("Content-Range", f"bytes */{len(body)}")
                request.send_header("Content-Length", "0")
                request.end_headers()
                return
            request.send_response(206)
            request.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            request.send_response(200)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body) - start))
        request.end_headers()
        request.wfile.write(body[start:])

    return handle


def short(body: bytes, sent: int):
    """Promises all of ``body`` and sends its first ``sent`` bytes, then closes the connection."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body[:sent])

    return handle


# ---------------------------------------------------------------------------------------------- 1: whole files
def test_a_body_cut_short_of_its_length_is_refused_and_kept_for_a_resume(tmp_path, serve):
    server = serve()
    server.routes["/pytorch_model.bin"] = short(CHECKPOINT, 512_000)
    dest = tmp_path / "pytorch_model.bin"
    with pytest.raises(md.IncompleteDownloadError, match=rf"512000 of {len(CHECKPOINT)} bytes"):
        md.download(server.url("/pytorch_model.bin"), dest)
    assert not dest.exists()
    part = tmp_path / "pytorch_model.bin.part"
    assert part.read_bytes() == CHECKPOINT[:512_000]

    server.routes["/pytorch_model.bin"] = whole(CHECKPOINT)  # the next try resumes and completes it
    assert md.download(server.url("/pytorch_model.bin"), dest) == dest
    assert dest.read_bytes() == CHECKPOINT and not part.exists()
    assert server.seen[-1][1] == "bytes=512000-"


def test_a_resume_whose_range_ends_short_of_the_total_is_refused(tmp_path, serve):
    server = serve()

    def partial_range(request):
        request.send_response(206)  # claims the rest of a 1,024,000-byte file, sends 1,000 bytes of it
        request.send_header("Content-Range", f"bytes 1000-{len(CHECKPOINT) - 1}/{len(CHECKPOINT)}")
        request.send_header("Content-Length", "1000")
        request.end_headers()
        request.wfile.write(CHECKPOINT[1000:2000])

    server.routes["/m.bin"] = partial_range
    (tmp_path / "m.bin.part").write_bytes(CHECKPOINT[:1000])
    with pytest.raises(md.IncompleteDownloadError, match=rf"2000 of {len(CHECKPOINT)} bytes"):
        md.download(server.url("/m.bin"), tmp_path / "m.bin")
    assert not (tmp_path / "m.bin").exists()


def test_a_web_page_in_place_of_the_weights_is_not_saved(tmp_path, serve):
    server = serve()
    page = b"<!DOCTYPE html><html><body>Sign in to continue</body></html>\n" * 40
    server.routes["/model.safetensors"] = whole(page, "text/html")
    dest = tmp_path / "model.safetensors"
    with pytest.raises(md.WrongFileError, match="web page"):
        md.download(server.url("/model.safetensors"), dest)
    assert list(tmp_path.iterdir()) == []  # nothing kept: resuming a web page makes no model


@pytest.mark.parametrize(
    ("name", "body", "cut"),
    [("model.safetensors", safetensors_file(10_000), 30_000), ("emonet_8.pth", CHECKPOINT, 600_000),
     ("config.json", b'{"hidden_size": 768, "num_layers": 12}', 20)],
)  # fmt: skip
def test_a_file_cut_short_without_a_length_is_caught_by_its_format(tmp_path, serve, name, body, cut):
    server = serve()

    def no_length(request):  # HTTP/1.0 style: the body ends when the connection closes
        request.send_response(200)
        request.end_headers()
        request.wfile.write(body[:cut])

    server.routes["/" + name] = no_length
    with pytest.raises(md.WrongFileError, match=r"cut-short|not a whole"):
        md.download(server.url("/" + name), tmp_path / name)
    assert not (tmp_path / name).exists()
    server.routes["/" + name] = whole(body)
    md.download(server.url("/" + name), tmp_path / name)
    assert (tmp_path / name).read_bytes() == body


def test_a_416_to_a_stale_part_starts_again_instead_of_installing_the_part(tmp_path, serve):
    server = serve()
    server.routes["/m.bin"] = whole(CHECKPOINT)
    part = tmp_path / "m.bin.part"
    part.write_bytes(b"\0" * (len(CHECKPOINT) + 5000))  # longer than the file: left from another version
    dest = md.download(server.url("/m.bin"), tmp_path / "m.bin")
    assert dest.read_bytes() == CHECKPOINT
    assert [range_ for _, range_, _ in server.seen] == [f"bytes={len(CHECKPOINT) + 5000}-", None]


def test_a_416_to_a_part_that_is_whole_installs_it_after_its_check(tmp_path, serve):
    server = serve()
    server.routes["/m.bin"] = whole(CHECKPOINT)
    (tmp_path / "m.bin.part").write_bytes(CHECKPOINT)
    assert md.download(server.url("/m.bin"), tmp_path / "m.bin").read_bytes() == CHECKPOINT
    assert len(server.seen) == 1


def test_a_damaged_file_already_there_is_reported_and_fetched_again(tmp_path, serve, capsys, monkeypatch):
    from moodsic_desktop.cli.main import main

    server = serve()
    server.routes["/emonet_8.pth"] = whole(CHECKPOINT)
    source = md.Source("emonet-8", ((server.url("/emonet_8.pth"), "emonet_8.pth", None),), "downloads",
                       md.EMONET_LICENCE_TEXT, True, False, "moodsic models export emonet --checkpoint x")  # fmt: skip
    monkeypatch.setitem(md.SOURCES, "emonet-8", source)
    truncated = tmp_path / "downloads" / "emonet_8.pth"
    truncated.parent.mkdir()
    truncated.write_bytes(CHECKPOINT[: len(CHECKPOINT) // 2])
    args = ["models", "fetch", "emonet-8", "--accept-licence", "--no-export", "--dir", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "already downloaded" not in out and "damaged" in out
    assert truncated.read_bytes() == CHECKPOINT
    assert (tmp_path / "downloads" / "emonet_8.pth.damaged").stat().st_size == len(CHECKPOINT) // 2  # kept
    assert main(args) == 0  # now whole: not fetched again
    assert f"already downloaded: {truncated}" in capsys.readouterr().out and len(server.seen) == 1


def test_the_command_refuses_a_short_download_in_one_line(tmp_path, serve, capsys, monkeypatch):
    from moodsic_desktop.cli.main import main

    server = serve()
    server.routes["/config.json"] = whole(b'{"model_type": "clip"}')
    server.routes["/pytorch_model.bin"] = short(CHECKPOINT, 512_000)
    files = tuple((server.url("/" + name), name, None) for name in ("config.json", "pytorch_model.bin"))
    monkeypatch.setitem(
        md.SOURCES, "clip-b32", md.Source("clip-b32", files, "hub/clip-b32", "MIT", False, False, "next")
    )
    assert main(["models", "fetch", "clip-b32", "--dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "saved" not in captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and f"512000 of {len(CHECKPOINT)} bytes" in lines[0] and "Traceback" not in captured.err
    assert not (tmp_path / "hub" / "clip-b32" / "pytorch_model.bin").exists()


# ---------------------------------------------------------------------------------------------- 2: the token
def test_no_token_goes_over_plain_http(tmp_path, serve):
    server = serve()
    server.routes["/m.bin"] = whole(CHECKPOINT)
    md.download(server.url("/m.bin"), tmp_path / "m.bin", headers={"Authorization": f"Bearer {TOKEN}"})
    assert server.seen == [("/m.bin", None, None)]


def test_a_plain_http_redirect_to_another_host_gets_no_token(tmp_path, serve, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    home, other = serve("127.0.0.1"), serve("127.0.0.2")
    other.routes["/m.bin"] = whole(CHECKPOINT)

    def redirect(request):
        request.send_response(302)
        request.send_header("Location", other.url("/m.bin"))
        request.send_header("Content-Length", "0")
        request.end_headers()

    home.routes["/m.bin"] = redirect
    md.download(home.url("/m.bin"), tmp_path / "m.bin", headers=md.request_headers(gated=True))
    assert home.seen == [("/m.bin", None, None)] and other.seen == [("/m.bin", None, None)]
    assert (tmp_path / "m.bin").read_bytes() == CHECKPOINT


@pytest.fixture
def tls(tmp_path, monkeypatch) -> ssl.SSLContext:
    """A server context with a self-signed certificate for 127.0.0.1 and 127.0.0.2, which the client trusts
    through ``SSL_CERT_FILE`` (nothing else is trusted during the test)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test's certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=loopback",
         "-addext", "subjectAltName=IP:127.0.0.1,IP:127.0.0.2", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def test_over_https_the_token_goes_to_its_host_only(tmp_path, serve, tls):
    home, other = serve("127.0.0.1", tls), serve("127.0.0.2", tls)
    other.routes["/blob"] = whole(CHECKPOINT)

    def to(url):
        def redirect(request):
            request.send_response(302)
            request.send_header("Location", url)
            request.send_header("Content-Length", "0")
            request.end_headers()

        return redirect

    home.routes["/resolve/m.bin"] = to("/api/resolve-cache/m.bin")  # the same host: the token goes along
    home.routes["/api/resolve-cache/m.bin"] = to(other.url("/blob"))  # another host: it does not
    md.download(home.url("/resolve/m.bin"), tmp_path / "m.bin", headers={"Authorization": f"Bearer {TOKEN}"})
    assert home.seen == [
        ("/resolve/m.bin", None, f"Bearer {TOKEN}"),
        ("/api/resolve-cache/m.bin", None, f"Bearer {TOKEN}"),
    ]
    assert other.seen == [("/blob", None, None)]
    assert (tmp_path / "m.bin").read_bytes() == CHECKPOINT


def test_an_https_redirect_down_to_plain_http_on_the_same_host_gets_no_token(tmp_path, serve, tls):
    home, plain = serve("127.0.0.1", tls), serve("127.0.0.1")
    plain.routes["/m.bin"] = whole(CHECKPOINT)

    def redirect(request):
        request.send_response(302)
        request.send_header("Location", plain.url("/m.bin"))
        request.send_header("Content-Length", "0")
        request.end_headers()

    home.routes["/m.bin"] = redirect
    md.download(home.url("/m.bin"), tmp_path / "m.bin", headers={"Authorization": f"Bearer {TOKEN}"})
    assert plain.seen == [("/m.bin", None, None)]


# ---------------------------------------------------------------------------------------------- 3: cut and slow
def test_a_transfer_cut_mid_chunk_is_one_clear_error_and_the_part_is_kept(tmp_path, serve):
    server = serve()

    def chunked_cut(request):
        request.send_response(200)
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        request.wfile.write(b"%x\r\n" % 100_000 + CHECKPOINT[:40_000])  # a chunk of 100,000 announced, 40,000 sent
        request.wfile.flush()

    server.routes["/m.bin"] = chunked_cut
    with pytest.raises(md.IncompleteDownloadError, match=r"cut off.*40000 bytes") as caught:
        md.download(server.url("/m.bin"), tmp_path / "m.bin")
    assert "\n" not in str(caught.value)
    assert (tmp_path / "m.bin.part").stat().st_size == 40_000 and not (tmp_path / "m.bin").exists()


def test_a_server_that_trickles_is_given_up_after_the_read_timeout(tmp_path, serve):
    server = serve()

    def trickle(request):
        request.send_response(200)
        request.send_header("Content-Length", str(len(CHECKPOINT)))
        request.end_headers()
        for at in range(200):  # one byte every 50 ms: never silent for a whole timeout
            request.wfile.write(CHECKPOINT[at : at + 1])
            request.wfile.flush()
            time.sleep(0.05)

    server.routes["/m.bin"] = trickle
    began = time.monotonic()
    with pytest.raises(md.IncompleteDownloadError, match=r"too slow") as caught:
        md.download(server.url("/m.bin"), tmp_path / "m.bin", timeout=0.5)
    assert time.monotonic() - began < 5.0  # well before the 10 s the trickle would last
    assert "\n" not in str(caught.value)
    kept = (tmp_path / "m.bin.part").read_bytes()
    assert 0 < len(kept) < 200 and kept == CHECKPOINT[: len(kept)]


def test_a_server_that_goes_silent_times_out(tmp_path, serve):
    server = serve()
    release = threading.Event()

    def silent(request):
        request.send_response(200)
        request.send_header("Content-Length", str(len(CHECKPOINT)))
        request.end_headers()
        request.wfile.write(CHECKPOINT[:1000])
        request.wfile.flush()
        release.wait(10)

    server.routes["/m.bin"] = silent
    with pytest.raises(md.IncompleteDownloadError, match=r"no data"):
        md.download(server.url("/m.bin"), tmp_path / "m.bin", timeout=0.5)
    release.set()
    assert (tmp_path / "m.bin.part").stat().st_size == 1000


def test_the_format_checks_know_each_kind_of_file(tmp_path):
    cases = {
        "ok.safetensors": safetensors_file(10),
        "ok.bin": zip_checkpoint(1000),
        "ok.json": b'{"a": 1}',
    }
    for name, body in cases.items():
        (tmp_path / name).write_bytes(body)
        assert file_problem(tmp_path / name) is None
    (tmp_path / "list.json").write_bytes(b"[1, 2]")
    assert "JSON object" in file_problem(tmp_path / "list.json")
    (tmp_path / "zip.pth").write_bytes(zipfile_without_pickle := _zip_of({"a.txt": b"x"}))
    assert zipfile_without_pickle and "no data.pkl" in file_problem(tmp_path / "zip.pth")
    (tmp_path / "empty.onnx").write_bytes(b"")
    assert "empty" in file_problem(tmp_path / "empty.onnx")
    (tmp_path / "junk.onnx").write_bytes(os.urandom(64))
    assert file_problem(tmp_path / "junk.onnx") is not None
    assert "cannot be read" in file_problem(tmp_path / "missing.bin")


def _zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_checkpoint_of_torchs_older_format_is_checked_to_its_last_byte(tmp_path):
    torch = pytest.importorskip("torch")
    state = {"a.weight": torch.zeros(30, 40), "a.steps": torch.arange(7), "half": torch.ones(5, dtype=torch.float16)}
    path = tmp_path / "old.pth"
    torch.save(state, path, _use_new_zipfile_serialization=False)
    assert file_problem(path) is None
    data = path.read_bytes()
    for cut in (len(data) - 1, len(data) - 100, 200):
        (tmp_path / "cut.pth").write_bytes(data[:cut])
        assert "cut-short" in file_problem(tmp_path / "cut.pth")
    torch.save(state, tmp_path / "new.pth")
    assert file_problem(tmp_path / "new.pth") is None


def test_unreachable_hosts_are_offline_errors(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(md.OfflineError, match=r"cannot reach 127\.0\.0\.1"):
        md.download(f"http://127.0.0.1:{port}/m.bin", tmp_path / "m.bin", timeout=2)
    assert not Path(tmp_path / "m.bin").exists()


def test_a_part_file_that_cannot_be_written_is_one_clear_error(tmp_path, serve):
    server = serve()
    server.routes["/m.bin"] = whole(CHECKPOINT)
    (tmp_path / "m.bin.part").mkdir()  # in the way of the part file, as a full or read-only disk would be
    with pytest.raises(md.FetchError, match=r"cannot write .*m\.bin\.part") as caught:
        md.download(server.url("/m.bin"), tmp_path / "m.bin")
    assert not isinstance(caught.value, md.IncompleteDownloadError) and not (tmp_path / "m.bin").exists()
