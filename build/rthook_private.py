"""PyInstaller runtime hook of the frozen Moodsic app: runs before ``main.py`` and before any bundled
module is imported, so onnxruntime is never loaded with its telemetry on (it writes a device id into
``~/.cache/Microsoft`` and sends usage events unless ``ORT_DISABLE_TELEMETRY=1`` is set before it loads).
``moodsic_desktop`` sets the same on import (``paths.keep_libraries_private``); this hook makes the frozen
app safe even if something imported onnxruntime first. Standard library only."""

import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"
