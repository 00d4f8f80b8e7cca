"""Make the files in ``resources/``: the program icon and the self-test's face photograph.

``python resources/make_resources.py`` writes

* ``moodsic.png`` (256 x 256), ``moodsic.ico`` (Windows: 16-256 px) and ``moodsic.icns`` (macOS: 32-512 px):
  a rounded square shaded across the mood plane (calm blue at the bottom left, lively warm at the top right)
  with a white eighth note and a small dot for "the mood now";
* ``selftest_face.jpg``: a crop of ``skimage.data.astronaut()`` (a NASA photograph in the public domain),
  which ``--self-test`` pastes into the clip it generates so that MediaPipe has a real face to find.

The outputs are committed (each well under 100 KB), so only someone changing them runs this; it needs
Pillow (installed with matplotlib) and scikit-image (the ``test`` extra).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
MASTER = 1024  # the icon is drawn at this size (4x supersampled) and scaled down for every other size
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]
FACE_CROP = (120, 10, 340, 250)  # left, top, right, bottom in the 512 x 512 astronaut photograph


def _gradient(size: int) -> Image.Image:
    """The mood plane: blue (calm, unpleasant) at the bottom left to orange (lively, pleasant) at the top right."""
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)
    mix = (t[np.newaxis, :] + t[::-1, np.newaxis]) / 2.0  # 0 at the bottom left, 1 at the top right
    calm = np.array([38, 70, 160], np.float32)
    lively = np.array([250, 140, 60], np.float32)
    rgb = calm + (lively - calm) * mix[..., np.newaxis]
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def draw_icon(size: int = MASTER) -> Image.Image:
    """The icon as an RGBA image of ``size`` x ``size`` pixels."""
    scale = 4
    big = size * scale
    icon = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    mask = Image.new("L", (big, big), 0)
    margin = big // 16
    ImageDraw.Draw(mask).rounded_rectangle((margin, margin, big - margin, big - margin), radius=big // 5, fill=255)
    icon.paste(_gradient(big), (0, 0), mask)
    draw = ImageDraw.Draw(icon)
    white = (255, 255, 255, 255)
    unit = big / 100.0
    # An eighth note: a tilted oval head, a stem and a flag.
    head = Image.new("L", (big, big), 0)
    ImageDraw.Draw(head).ellipse((28 * unit, 60 * unit, 52 * unit, 78 * unit), fill=255)
    head = head.rotate(20, center=(40 * unit, 69 * unit), resample=Image.Resampling.BICUBIC)
    icon.paste(white, (0, 0), head)
    draw.rectangle((47 * unit, 24 * unit, 52.5 * unit, 70 * unit), fill=white)
    draw.polygon(
        [(52 * unit, 24 * unit), (70 * unit, 36 * unit), (68 * unit, 46 * unit), (52 * unit, 36 * unit)], fill=white
    )
    # The mood now: a dot with a soft halo in the lively corner.
    halo = Image.new("L", (big, big), 0)
    ImageDraw.Draw(halo).ellipse((66 * unit, 56 * unit, 82 * unit, 72 * unit), fill=140)
    halo = halo.filter(ImageFilter.GaussianBlur(3 * unit))
    icon.paste((255, 255, 255, 255), (0, 0), halo)
    draw.ellipse((70 * unit, 60 * unit, 78 * unit, 68 * unit), fill=white)
    # Keep the transparent corners transparent after the halo.
    alpha = np.minimum(np.asarray(icon.getchannel("A")), np.asarray(mask))
    icon.putalpha(Image.fromarray(alpha))
    return icon.resize((size, size), Image.Resampling.LANCZOS)


ICNS_TYPES = ((b"ic11", 32), (b"ic12", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512))
"""ICNS entries (PNG data) up to 512 px: enough for the Finder and the Dock, and a small file."""


def write_icns(master: Image.Image, path: Path) -> Path:
    """Write a macOS ``.icns`` holding PNG copies of ``master`` at the ``ICNS_TYPES`` sizes."""
    chunks = []
    for kind, size in ICNS_TYPES:
        stream = io.BytesIO()
        master.resize((size, size), Image.Resampling.LANCZOS).save(stream, "png", optimize=True)
        data = stream.getvalue()
        chunks.append(kind + struct.pack(">I", 8 + len(data)) + data)
    body = b"".join(chunks)
    path.write_bytes(b"icns" + struct.pack(">I", 8 + len(body)) + body)
    return path


def write_icons(folder: Path = HERE) -> list[Path]:
    """Write ``moodsic.png``, ``moodsic.ico`` and ``moodsic.icns`` into ``folder``."""
    master = draw_icon(MASTER)
    png = folder / "moodsic.png"
    master.resize((256, 256), Image.Resampling.LANCZOS).save(png, optimize=True)
    ico = folder / "moodsic.ico"
    master.save(ico, sizes=ICO_SIZES)
    icns = folder / "moodsic.icns"
    write_icns(master, icns)
    return [png, ico, icns]


def write_face(folder: Path = HERE) -> Path:
    """Write ``selftest_face.jpg``: the face and shoulders of skimage's astronaut photograph."""
    from skimage import data

    face = Image.fromarray(data.astronaut()).crop(FACE_CROP)
    path = folder / "selftest_face.jpg"
    face.save(path, quality=88, optimize=True)
    return path


if __name__ == "__main__":
    for written in [*write_icons(), write_face()]:
        print(f"{written.name}: {written.stat().st_size / 1024:.1f} KB")
