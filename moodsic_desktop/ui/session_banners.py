"""``SessionBanners``: the session's news as banners in the window's ``BannerArea``. Songs that could not
play, the library lost or back, problems of the mood reading, an expert replaced by its fallback, what the
day plan does now, and, once at the start, a mood model that could not be used or may not be used in a
café.

It draws the session's snapshots (``show_snapshot``, connected to the pipeline worker's ``snapshot_ready``)
and keeps one thing between them: the day plan's words shown now, so that its banner is shown again only
when they change. GUI thread only (a QObject there: the worker's signal is queued to it).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from moodsic_desktop.core.day_plan import PlanState
from moodsic_desktop.session.assembly import ExpertNotes
from moodsic_desktop.session.snapshot import SessionSnapshot
from moodsic_desktop.ui.banner_area import BannerArea


class SessionBanners(QObject):
    """Shows the session's news in ``banners`` (see the module docstring)."""

    def __init__(self, banners: BannerArea, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.banners = banners
        self._plan_words = ""  # the day plan's banner now

    def show_snapshot(self, snapshot: SessionSnapshot) -> None:
        """The snapshot's events, oldest first, then its step's notices and the day plan now."""
        banners = self.banners
        for message in snapshot.skipped:
            banners.show_banner("audio-file", message, "warning")
        change = snapshot.library_change
        if change is not None:  # after the skips that led to it: its banner replaces theirs
            banners.hide_banner("audio-file")  # the skips that told of it are old news now
            banners.show_banner("library", change.message, "warning" if change.lost else "info")
        for message in snapshot.problems:
            banners.show_banner("pipeline", message, "warning")
        self.show_day_plan(snapshot.day_plan)
        if snapshot.step is not None:
            for notice in snapshot.step.notices:  # an expert replaced by its fallback: said once, by the pipeline
                banners.show_banner("expert-replaced", notice, "warning")

    def show_day_plan(self, state: PlanState | None) -> None:
        """What the day plan does now ("Closed until 08:00", "Morning: the day plan keeps it calm, volume 40 %")
        in a banner, shown again only when it changes; none while the plan says nothing."""
        words = state.words() if state is not None else ""
        if words != self._plan_words:
            self._plan_words = words
            if words:
                self.banners.show_banner("day-plan", words, "info")
            else:
                self.banners.hide_banner("day-plan")

    def show_expert_notes(self, notes: ExpertNotes, open_models: Callable[[], None]) -> None:
        """A banner only when the owner has something to do about the experts (``notes``: what
        ``assembly.select_experts`` said, with a model's licence): a model that could not be used (its button
        calls ``open_models``), or one whose licence forbids commercial use. The notes themselves are in
        Diagnostics."""
        if notes.model_not_used:
            self.banners.show_banner(
                "model-broken",
                "A mood model could not be used, so a simpler reader stands in.",
                "warning",
                button=("Mood readers…", open_models),
            )
        if notes.non_commercial:
            self.banners.show_banner(
                "models",
                "A mood model installed here is licensed for non-commercial use only; "
                "see View → Diagnostics before using it in the café.",
                "warning",
            )
