"""``ClosesOnExit``: a ``with`` block closes the object (its ``close()``), whatever happened inside."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class ClosesOnExit:
    """Mixin for objects that hold something to release in ``close()`` (a capture, a MediaPipe graph, a
    file, a database connection): ``with obj:`` returns the object and calls ``close()`` on leaving."""

    def close(self) -> None:  # pragma: no cover - every user defines it
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
