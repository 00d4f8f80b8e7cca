"""Each platform's window icon loads in Qt (the .ico and .icns through Qt's image format plugins)."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from moodsic_desktop import paths


def test_the_window_icon_of_every_platform_loads_in_qt(qtbot):
    for name in paths.WINDOW_ICONS.values():
        icon = QIcon(str(paths.resources_dir() / name))
        assert not icon.pixmap(32, 32).isNull(), name
        assert not icon.pixmap(256, 256).isNull(), name
