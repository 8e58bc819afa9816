"""HTTP `Range` requests (RFC 9110 §14): which bytes of a file an answer carries."""

import re
from dataclasses import dataclass

# At most 19 digits (a 64-bit size): longer numbers are unsatisfiable, not a slow int().
_SPEC = re.compile(r"^\s*(\d{0,19})\s*-\s*(\d{0,19})\s*$")


class Unsatisfiable(Exception):
    """Answer 416 with `Content-Range: bytes */<size>`."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def byte_range(header: str | None, size: int) -> ByteRange | None:
    """The one range a `Range` header asks for, or None to send the whole file.

    - no header, another unit than bytes, or several ranges (browsers never ask for more
      than one; RFC 9110 lets a server ignore them): None, the whole file (200);
    - `bytes=a-b`, `bytes=a-` (to the end), `bytes=-n` (the last n bytes): that range,
      its end clipped to the file;
    - a malformed one, or one that starts at or past the end (every range of an empty
      file does): Unsatisfiable.
    """
    if not header:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    if "," in specs:
        return None
    match = _SPEC.match(specs)
    if match is None:
        raise Unsatisfiable
    first, last = match.groups()
    if first == "" and last == "":
        raise Unsatisfiable
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(start=max(size - suffix, 0), end=size - 1)
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        raise Unsatisfiable
    if start >= size:
        raise Unsatisfiable
    return ByteRange(start=start, end=end)
