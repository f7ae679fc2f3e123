"""Incremental Server-Sent Events framing: split a byte stream into whole events, keeping their exact bytes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# An event ends at a blank line; servers use \n, \r\n or (rarely) \r line ends.
_BOUNDARY = re.compile(rb"\r\n\r\n|\n\n|\r\r")


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One event: its raw bytes (separator included, to forward unchanged), its `event:` name and data."""

    raw: bytes
    name: str | None
    data: str

    def json(self) -> Any:
        """The data as JSON, or None (`[DONE]`, a comment-only event, malformed text)."""
        if not self.data or self.data == "[DONE]":
            return None
        try:
            return json.loads(self.data)
        except ValueError:
            return None


def parse_event(raw: bytes) -> SSEEvent:
    name: str | None = None
    data: list[str] = []
    for line in re.split(r"\r\n|\n|\r", raw.decode("utf-8", "replace")):
        if not line or line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "event":
            name = value
        elif key == "data":
            data.append(value)
    return SSEEvent(raw, name, "\n".join(data))


class SSESplitter:
    """Feed chunks as they arrive; get back the events they complete (a partial event waits for its end)."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self._buf += chunk
        out: list[SSEEvent] = []
        start = 0
        for m in _BOUNDARY.finditer(self._buf):
            out.append(parse_event(self._buf[start:m.end()]))
            start = m.end()
        self._buf = self._buf[start:]
        return out

    def rest(self) -> bytes:
        """Bytes of an unfinished event (a stream cut mid-event): forwarded as they are."""
        rest, self._buf = self._buf, b""
        return rest


# With `stream_options.include_usage` OpenAI adds `"usage":null` to every chunk; a client that did not ask
# for usage never saw that key, so the gateway takes it out again (the chunk is otherwise byte for byte).
_NULL_USAGE = (re.compile(rb',\s*"usage"\s*:\s*null(?=\s*[,}])'), re.compile(rb'"usage"\s*:\s*null\s*,\s*'))


def without_null_usage(raw: bytes) -> bytes:
    if b'"usage"' not in raw:
        return raw
    for pattern in _NULL_USAGE:
        raw = pattern.sub(b"", raw)
    return raw
