"""MediaPipe's native start-up lines stay off the terminal, and descriptor 2 works again afterwards."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_detector_and_face_mesh_print_nothing_and_stderr_still_works(tmp_path):
    script = textwrap.dedent(
        """
        import os, sys
        import numpy as np
        from skimage import data
        from moodsic_desktop.core.types import FaceBox
        from moodsic_desktop.perception.face_geometry import FaceGeometryExpert
        from moodsic_desktop.perception.faces import MediaPipeFaceDetector

        detector = MediaPipeFaceDetector(tiles=(2, 1))
        expert = FaceGeometryExpert()
        picture = data.astronaut()
        faces = detector.detect(picture)
        assert faces, "the astronaut's face is found"
        assert expert.estimate(picture, faces[0], 0.0) is not None
        os.write(2, b"native stderr works\\n")
        print("python stderr works", file=sys.stderr)
        """
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["native stderr works", "python stderr works"]
