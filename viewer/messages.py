"""Warnings and notices from the loader, the worker and the review, kept in order (Qt-free).

Every message is kept (none replaces another, unlike a status bar); the messages panel shows
them all and the log can be read back by tests or written to a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum


class Level(Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Source(Enum):
    LOADER = "loader"
    WORKER = "worker"
    REVIEW = "review"
    SETTINGS = "settings"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Message:
    source: Source
    level: Level
    text: str
    context: str = ""  # the scan or study it concerns
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def line(self) -> str:
        where = f" [{self.context}]" if self.context else ""
        return f"{self.at.astimezone():%H:%M:%S} {self.level.value} · {self.source.value}{where}: {self.text}"


class MessageLog:
    """All messages of the session, oldest first; subscribers hear about each new one."""

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._listeners: list[Callable[[Message], None]] = []

    def post(self, source: Source, text: str, level: Level = Level.WARNING, context: str = "") -> Message:
        m = Message(source, level, " ".join(str(text).split()), context)
        self._messages.append(m)
        for listener in list(self._listeners):
            listener(m)
        return m

    def subscribe(self, listener: Callable[[Message], None]) -> None:
        self._listeners.append(listener)

    @property
    def messages(self) -> tuple[Message, ...]:
        return tuple(self._messages)

    def count(self, level: Level | None = None) -> int:
        return sum(level is None or m.level is level for m in self._messages)
