"""Logging that a client cannot flood: a few lines a minute, then a count of the rest."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class Throttled:
    """At most ``per_minute`` lines a minute to ``logger``; what was held back is counted
    and reported with the next line that gets through."""

    def __init__(
        self,
        logger: logging.Logger,
        per_minute: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.per_minute, self.clock = logger, per_minute, clock
        self._window = clock()
        self._count = 0
        self.suppressed = 0

    def _allowed(self) -> bool:
        now = self.clock()
        if now - self._window >= 60:
            self._window, self._count = now, 0
        if self._count >= self.per_minute:
            self.suppressed += 1
            return False
        self._count += 1
        return True

    def log(self, level: int, message: str, *args: object, exc_info: bool = False) -> None:
        if not self._allowed():
            return
        if self.suppressed:
            message += " (and %d more like it not logged)"
            args = (*args, self.suppressed)
            self.suppressed = 0
        self.logger.log(level, message, *args, exc_info=exc_info)

    def info(self, message: str, *args: object) -> None:
        self.log(logging.INFO, message, *args)

    def error(self, message: str, *args: object, exc_info: bool = False) -> None:
        self.log(logging.ERROR, message, *args, exc_info=exc_info)
