"""Settings → "Start Moodsic when this computer starts": the menu item that writes or removes the computer's
autostart entry (:mod:`moodsic_desktop.autostart`; ``moodsic autostart on|off|status`` does the same).
GUI thread.

The entry itself is the truth, not a saved setting: the item is ticked when the entry is there, looked at
again each time the menu opens (the command line may have changed it meanwhile).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from moodsic_desktop.autostart import AutostartEntry, AutostartError, autostart_entry
from moodsic_desktop.ui.banner_area import BannerArea

log = logging.getLogger(__name__)


class AutostartToggle:
    """Keeps ``action`` (checkable) in step with the entry, and turns the entry on or off when the owner
    ticks it. ``menu`` is the menu that holds it; a problem shows in ``banners`` (key "autostart") in plain
    words; ``entry`` (default: this computer's) is for tests. GUI thread."""

    def __init__(
        self,
        action: QAction,
        menu: QMenu,
        banners: BannerArea,
        entry: Callable[[], AutostartEntry] = autostart_entry,
    ) -> None:
        self.action = action
        self.banners = banners
        self.entry = entry
        action.setCheckable(True)
        self.refresh()
        action.toggled.connect(self._toggled)
        menu.aboutToShow.connect(self.refresh)

    def refresh(self) -> None:
        """Tick the item when the entry is there (without writing anything)."""
        try:
            on = self.entry().enabled()
        except AutostartError as error:
            log.warning("cannot read the autostart entry: %s", error)
            on = False
        self.action.blockSignals(True)
        self.action.setChecked(on)
        self.action.blockSignals(False)

    def _toggled(self, on: bool) -> None:
        try:
            entry = self.entry()
            if on:
                entry.enable()
            else:
                entry.disable()
        except AutostartError as error:
            what = "start with this computer" if on else "stop starting with this computer"
            self.banners.show_banner("autostart", f"Moodsic could not be set to {what}: {error}.", "warning")
        self.refresh()
