"""Log lines as the portal writes them (portal.logging's JSON renderer), captured from the
test process, or read back from a server's or worker's log file."""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from portal.logging import structlog_formatter


class JsonLines(logging.Handler):
    """Every record logged meanwhile, rendered to the JSON line the console handler prints."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.renderer = structlog_formatter("json")
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.renderer.format(record)))


@contextmanager
def captured_lines() -> Iterator[list[dict[str, Any]]]:
    """On the root logger and on "django" (which does not propagate: settings.LOGGING)."""
    handler = JsonLines()
    loggers = [logging.getLogger(), logging.getLogger("django")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON lines of a process's output (other lines, a banner, are skipped)."""
    lines = []
    for raw in text.splitlines():
        if raw.startswith("{"):
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue
    return lines


def events(lines: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("event") == name]
