"""PyInstaller runtime hook of the frozen Moodsic app: a placeholder for matplotlib, which is not bundled.

MediaPipe's solutions package imports ``drawing_utils``, whose first lines import ``matplotlib.pyplot``
for ``plot_landmarks``, a drawing helper the program never calls. matplotlib with pillow, kiwisolver and
contourpy is about 40 MB of the bundle, so it is left out (``bundle_config.PLACEHOLDER_MODULES``) and this
hook, run before ``main.py``, puts a placeholder ``matplotlib`` and ``matplotlib.pyplot`` in
``sys.modules``: the import succeeds, and any use of them raises ``ImportError`` saying why.
``tests/test_bundle_config.py`` checks that MediaPipe touches ``plt`` only inside functions. Standard
library only."""

import sys
import types


class _NotBundled(types.ModuleType):
    """A module whose every public attribute raises ImportError (dunder lookups stay AttributeError)."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ImportError(f"{self.__name__}.{name}: matplotlib is not part of the frozen Moodsic app")


if "matplotlib" not in sys.modules:
    _package = _NotBundled("matplotlib")
    _package.__path__ = []
    _pyplot = _NotBundled("matplotlib.pyplot")
    _package.pyplot = _pyplot
    sys.modules["matplotlib"] = _package
    sys.modules["matplotlib.pyplot"] = _pyplot
