"""Reading Claude Code transcript files: usage lines to compact entries, fast and in bounded memory.

Only lines containing the token `"usage"` can carry usage, so a file is read in chunks and only
those lines are looked at (lines without it, most of the bytes, are never decoded). A usage line
in Claude Code's own layout (assistant role, scalar members up to `message.content`, exactly one
`"usage":{` whose object is a member of a member of the top level) is parsed without its content
blocks: the head up to `"content":` and the tail from `"usage":` are parsed as JSON, which is the
same result as parsing the whole line for those fields. Any other line (agent_progress lines,
spaced JSON, odd layouts, malformed lines) is parsed whole by json.loads.

The spliced text is parsed by orjson (twice as fast as the json module's scanner, half of a first
import's parsing time) and by json when orjson refuses it (NaN, 1e400, lone surrogates: json reads
them). orjson reads an integer beyond 64 bits as a float where json keeps the integer; every field a
request reads refuses such a value, so a line whose entry is refused is read again by json, whose
values the rejection names: a line's outcome is the same with or without orjson.

An entry is a tuple (see `Entry`) and its `rank` orders copies of one request: non-progress before
progress copies, non-sidechain before sidechain, then the larger token total, then fast mode set.
This module imports nothing heavy (the standard library and orjson) so it can run in worker processes.
"""

from __future__ import annotations

import hashlib
import json
import json.scanner
import os
import re
import struct
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Literal

import orjson

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.limits import (MAX_TOKENS, TEXT_LIMITS, check_name, check_row_money, check_usage_instant,
                                          usage_range_now)
from aicost_desktop.importers.base import MAX_REJECTED_DETAILS, parse_instant, token_count
from aicost_desktop.importers.file_state import probe

SYNTHETIC_MODEL = "<synthetic>"
KEY_PREFIX = "claude-code:"
CHUNK = 1 << 17  # 128 KiB: stays in cache while scanned; a longer line grows the buffer as needed
WINDOW = 64  # distinct copies held back per file (see _Window)
MAIN, SIDECHAIN, PROGRESS = 2, 1, 0  # copy classes; higher wins
LINE_ITEMS = {MAIN: None, SIDECHAIN: "sidechain", PROGRESS: "sidechain-progress"}

_USAGE_TOKEN = b'"usage"'
# The token is searched by re: bytes.find skips ahead by the needle's last byte, here a quote, the
# commonest byte in JSON, and re's literal scan took 25-40% less time over the benchmark folder (the
# search runs over every byte read: about a quarter of a worker's time before, ~5% less in all).
_search_usage = re.compile(re.escape(_USAGE_TOKEN)).search
_KEYLESS = KEY_PREFIX + "line:"
_PREFIX_LEN = len(KEY_PREFIX)
_USAGE_KEY = b'"usage":{'
_CONTENT_KEY = b'"content":'
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = 1_000_000
# ts (us since epoch), input, output, cache read, 5m write, 1h write, cost USD (NaN = none)
NUMBERS = struct.Struct("<qqqqqqd")
_NAN = float("nan")
# typeshed types make_scanner's context as a make_scanner (its own TODO): it takes any object with the
# decoder's attributes, which a JSONDecoder is.
_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_loads = json.loads
_fast_loads = orjson.loads
_FastError = orjson.JSONDecodeError
_NONE: Any = object()  # "not parsed yet" (orjson may return None)

# One usage copy: rank, dedup key, copy class, model, numbers (NUMBERS packed), service tier text,
# file index. Tuples, not objects: a big import keeps one per distinct request.
Entry = tuple[int, str, int, "str | None", bytes, str, int]


def rank_of(cls: int, total: int, fast: bool) -> int:
    """Copies of one request compare by this: class, then token total, then fast mode set."""
    return (cls << 62) | (total << 1) | (1 if fast else 0)


def unpack(entry: Entry) -> tuple[int, int, int, int, int, int, float]:
    return NUMBERS.unpack(entry[4])


@dataclass
class FileScan:
    """What reading one file (from an offset) found, and the bookkeeping for its file state."""

    index: int
    entries: list[Entry] = field(default_factory=list)  # when no `emit` was given, in file order
    usage_lines: int = 0       # lines that were usage entries (placeholders included, rejects not)
    ignored: int = 0           # synthetic and API-error placeholders
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason), the first ones
    rejected: int = 0          # all rejected lines
    offset: int = 0            # end of the last complete line read
    probe: str = ""
    error: str | None = None   # the file could not be read


class _Window:
    """The last WINDOW distinct copies read, so streaming snapshots of one request (adjacent lines)
    leave the file as one entry: the best, at the place of the first."""

    __slots__ = ("slots", "emit")

    def __init__(self, emit: Callable[[Entry], None]) -> None:
        self.slots: dict[str, Entry] = {}
        self.emit = emit

    def add(self, ident: str, e: Entry) -> None:
        slots = self.slots
        old = slots.get(ident)
        if old is not None:
            if e[0] > old[0]:
                slots[ident] = e
            return
        slots[ident] = e
        if len(slots) > WINDOW:
            first = next(iter(slots))
            self.emit(slots.pop(first))

    def flush(self) -> None:
        for e in self.slots.values():
            self.emit(e)
        self.slots.clear()


_OPEN = b",{"  # what may precede the opening quote of a key in compact JSON


def _spliced(buf: bytes | bytearray, ls: int, first: int, le: int,
             fast: bool = True) -> tuple[dict[str, Any], dict[str, Any], bool] | None:
    """`usage_of` the line buf[ls:le] in Claude Code's layout, parsed without its content blocks; None
    when the line is not in that layout (it is then parsed whole). `first` is where its first
    `"usage"` is (in buf).

    The line minus everything from its first `"content":` key up to its only `"usage":{` key is
    parsed. A `"content":` or `"usage"` with unescaped quotes is a key (inside a JSON string every
    quote is escaped; the `"usage":{` must follow a comma or brace, so its quote is not one), so the
    spliced usage object lands in the object that was open at the cut,
    and the text parses to its end only if the tail closes exactly what the head left open. The
    result has `message.usage` (or, for an agent_progress line, `data.message.message.usage`) only
    if the cut was in that message (no other usage key exists): its `content` is a direct member
    of an assistant message, and its usage object closes where that message does. The one layout
    this does not prove, a message without usage followed by a sibling object holding one, is not
    one Claude Code writes (the Task tool's `toolUseResult.usage` is on user lines, refused here
    for their role). `fast`: orjson first (see the module docstring), else json only.
    """
    if (not buf.startswith(_USAGE_KEY, first) or buf[first - 1] not in _OPEN
            or buf.find(_USAGE_TOKEN, first + 9, le) != -1):
        return None
    c = buf.find(_CONTENT_KEY, ls, first)
    if c <= ls or buf[c - 1] not in _OPEN:
        return None
    cut = buf[ls:c] + buf[first:le]
    data = _NONE
    if fast:
        try:
            data = _fast_loads(cut)  # trailing JSON whitespace allowed, anything else refused
        except _FastError:
            pass
    if data is _NONE:
        try:
            text = cut.decode("utf-8")
            data, end = _scan(text, 0)
        except (StopIteration, ValueError):  # the C scanner signals "no value here" with StopIteration
            return None
        if end != len(text) and text[end:].strip():
            return None
    got = usage_of(data)
    if got is None or got[1].get("role") != "assistant":
        return None
    return got


def usage_of(data: Any) -> tuple[dict[str, Any], dict[str, Any], bool] | None:
    """(entry fields, message, is_progress_copy) of a parsed line with usage, else None."""
    if type(data) is not dict:
        return None
    message = data.get("message")
    if type(message) is dict and type(message.get("usage")) is dict:
        return data, message, False
    # agent_progress (Claude Code 2.0-2.1): a sub-agent's transcript line embedded in the parent's
    # {"type":"progress","data":{"type":"agent_progress","agentId":...,"message":{"type":"assistant",
    # "timestamp":...,"requestId":...,"message":{...usage...}}}}. The sub-agent file has the same
    # message when it still exists; the copy here counts only when no other copy does.
    inner = data.get("data")
    if type(inner) is dict:
        entry = inner.get("message")
        if type(entry) is dict:
            message = entry.get("message")
            if type(message) is dict and type(message.get("usage")) is dict:
                if "timestamp" not in entry and "timestamp" in data:
                    entry = {**entry, "timestamp": data["timestamp"]}
                return entry, message, True
    return None


def parse_usage_line(line: bytes | bytearray, first: int = -1) -> tuple[dict[str, Any], dict[str, Any], bool] | None:
    """(entry fields, message, is_progress_copy) for a line with usage, None for other lines.
    InputError for malformed JSON (the reason json gives, with the column). `first`: where the
    line's first `"usage"` token is, when the caller knows."""
    if first < 0:
        first = line.find(_USAGE_TOKEN)
    fast = _spliced(line, 0, first, len(line)) if first > 0 else None
    return fast if fast is not None else _parse_whole(line)


def _parse_whole(line: bytes | bytearray) -> tuple[dict[str, Any], dict[str, Any], bool] | None:
    text = line.decode("utf-8", errors="replace")
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        raise InputError("line", text[:60], f"malformed JSON ({exc.msg} at column {exc.colno})") from None
    return usage_of(data)


def _count(u: dict[str, Any], key: str, prefix: str, required: bool = False) -> int:
    v = u.get(key)
    if type(v) is int and 0 <= v <= MAX_TOKENS:
        return v
    return token_count(u, key, required=required, prefix=prefix)


_P = "message.usage."
_PC = "message.usage.cache_creation."


def make_entry(fields: dict[str, Any], message: dict[str, Any], progress: bool, buf: bytes | bytearray,
               ls: int, le: int, index: int) -> Entry | None:
    """The entry of the usage line buf[ls:le]; None for placeholders that are not requests;
    InputError/ValueError naming the field for bad values."""
    u = message["usage"]
    nested = u.get("cache_creation")
    if type(nested) is dict:
        w5 = _count(nested, "ephemeral_5m_input_tokens", _PC)
        w1 = _count(nested, "ephemeral_1h_input_tokens", _PC)
    else:
        w5, w1 = _count(u, "cache_creation_input_tokens", _P), 0
    # The ranges are domain/limits.py's, checked here (not only by UsageRecord) because an entry is
    # packed and de-duplicated long before it becomes a record: a bad line must be rejected as a line.
    inp = u.get("input_tokens")
    if type(inp) is not int or not 0 <= inp <= MAX_TOKENS:
        inp = token_count(u, "input_tokens", required=True, prefix=_P)
    out = u.get("output_tokens")
    if type(out) is not int or not 0 <= out <= MAX_TOKENS:
        out = token_count(u, "output_tokens", required=True, prefix=_P)
    cr = u.get("cache_read_input_tokens", 0)
    if type(cr) is not int or not 0 <= cr <= MAX_TOKENS:
        cr = token_count(u, "cache_read_input_tokens", prefix=_P)
    dt = _instant(fields.get("timestamp"))
    if not _FIRST <= dt <= _LAST:  # outside the range as of this module's import: the exact check decides
        check_usage_instant("timestamp", dt)
    cost = fields.get("costUSD")
    if cost is not None:
        if type(cost) is bool or not isinstance(cost, (int, float)):
            raise InputError("costUSD", cost, "must be a number")
        # A log line reports what a request cost: never a refund, always a finite amount.
        check_row_money("costUSD", cost, allow_negative=False)
    model = message.get("model")
    if model == SYNTHETIC_MODEL or fields.get("isApiErrorMessage") is True:
        return None
    if model is not None and type(model) is not str:
        raise InputError("message.model", model, "must be text")
    if model and model not in _MODELS:
        check_name("message.model", model, TEXT_LIMITS["model"] - len("-fast"))
    mid = message.get("id")
    cls = PROGRESS if progress else SIDECHAIN if fields.get("isSidechain") is True else MAIN
    if type(mid) is str and mid:
        rid = fields.get("requestId")
        key = f"{KEY_PREFIX}{mid}:{rid}" if type(rid) is str else f"{KEY_PREFIX}{mid}:"
        if len(key) > TEXT_LIMITS["dedup_key"] or not key.isprintable():
            check_name("message.id", mid, TEXT_LIMITS["dedup_key"] // 2 - _PREFIX_LEN)
            if type(rid) is str:
                check_name("requestId", rid, TEXT_LIMITS["dedup_key"] // 2)
            check_name("dedup_key", key, TEXT_LIMITS["dedup_key"])  # both fit, but not together
    else:
        key = f"{_KEYLESS}{hashlib.sha256(buf[ls:le].strip()).hexdigest()[:24]}"
    tier = u.get("service_tier")
    return ((cls << 62) | ((inp + out + cr + w5 + w1) << 1) | (u.get("speed") == "fast"), key, cls,
            (_MODELS.get(model) or _shared(_MODELS, model)) if type(model) is str and model else None,
            NUMBERS.pack((dt - _EPOCH) // _ONE_US, inp, out, cr, w5, w1, _NAN if cost is None else float(cost)),
            (_TIER_NAMES.get(tier) or _shared(_TIER_NAMES, tier)) if type(tier) is str and tier else "standard",
            index)


# One string object per model / tier name (a big import holds one per request). A model name is in
# _MODELS only once checked.
_MODELS: dict[str, str] = {}
_TIER_NAMES: dict[str, str] = {}


def _shared(names: dict[str, str], text: str) -> str:
    got = names.get(text)
    if got is None:
        if len(names) > 10_000:
            return text
        got = names[text] = text
    return got


_ONE_US = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc) - _EPOCH
# The usage range of domain/limits.py, fixed when this module loads: two compares per line.
_FIRST, _LAST = usage_range_now()


def _instant(ts: Any) -> datetime:
    # fromisoformat (3.11) reads Claude Code's "2026-03-01T10:00:00.000Z" directly; anything else
    # goes through the shared parser for its error message.
    if type(ts) is str:
        try:
            dt = datetime.fromisoformat(ts)
        except ValueError:
            return parse_instant(ts, "timestamp")
        if dt.tzinfo is not None:
            return dt
    return parse_instant(ts, "timestamp")


def identity(e: Entry) -> str:
    """What copies of one request share: the dedup key, or for sidechain and progress copies the
    message id (they collapse whatever their requestId)."""
    key = e[1]
    if e[2] == MAIN or key.startswith(_KEYLESS):
        return key
    return key[_PREFIX_LEN:].rpartition(":")[0]


def iter_entries(path: str, start: int, scan: FileScan) -> Iterator[Entry]:
    """The entries of `path` from byte `start` to its last complete line, streaming snapshots merged;
    `scan` gets the bookkeeping (complete once the iterator is exhausted). Never raises for file
    content: bad lines become rejects, an unreadable file `scan.error`."""
    scan.offset = start
    rejects: list[tuple[int, str]] = []  # (byte offset, reason) until line numbers are known
    try:
        fh = open(path, "rb", buffering=0)
    except OSError as exc:
        scan.error = f"cannot read: {exc.strerror or exc}"
        return
    out: list[Entry] = []
    window = _Window(out.append)
    buf = _buffer()
    view = memoryview(buf)
    with fh:
        try:
            fh.seek(start)
            filled, base = 0, start  # bytes in buf; file offset of buf[0]
            while True:
                if len(buf) - filled < CHUNK:  # a line longer than the buffer: grow it
                    view.release()
                    buf.extend(bytes(len(buf)))
                    view = memoryview(buf)
                got = fh.readinto(view[filled:filled + CHUNK])
                if not got:
                    break
                filled += got
                end = buf.rfind(b"\n", 0, filled) + 1
                if not end:
                    continue
                _scan_lines(scan, window, buf, end, base, rejects)
                carry = bytes(view[end:filled])  # not view-to-view: the ranges may overlap
                buf[:len(carry)] = carry
                filled -= end
                base += end
                if out:
                    yield from out
                    out.clear()
            window.flush()
            yield from out
            scan.offset = base  # a partial last line (no newline yet) is read again next time
            scan.probe = probe(fh.fileno(), base)
            if rejects:
                scan.rejects = _line_numbers(fh.fileno(), rejects)
        except OSError as exc:
            scan.error = f"cannot read: {exc.strerror or exc}"
        finally:
            view.release()  # the buffer is reused: no view may outlive the file
            _keep(buf)


# One read buffer per thread, reused from file to file: a fresh 256 KiB per file (thousands of files) was
# new pages each time, zeroed and faulted in, then returned.
_BUFFERS = threading.local()
_KEEP_MAX = 8 * CHUNK  # a buffer grown past this for one long line is not kept


def _buffer() -> bytearray:
    buf: bytearray | None = getattr(_BUFFERS, "buf", None)
    if buf is None:
        return bytearray(2 * CHUNK)
    _BUFFERS.buf = None  # taken: a generator in the same thread that starts meanwhile gets its own
    return buf


def _keep(buf: bytearray) -> None:
    if len(buf) <= _KEEP_MAX:
        _BUFFERS.buf = buf


def scan_file(path: str, start: int, index: int) -> FileScan:
    """`iter_entries` collected: the file's entries and bookkeeping in one picklable result."""
    scan = FileScan(index=index)
    scan.entries = list(iter_entries(path, start, scan))
    return scan


def _scan_lines(scan: FileScan, window: _Window, buf: bytearray, end: int, base: int,
                rejects: list[tuple[int, str]]) -> None:
    find, rfind, search = buf.find, buf.rfind, _search_usage
    m = search(buf, 0, end)
    index = scan.index
    add = window.add
    while m is not None:
        first = m.start()
        ls = rfind(b"\n", 0, first) + 1
        le = find(b"\n", first, end)
        m = search(buf, le, end)
        try:
            try:
                e = _line_entry(buf, ls, first, le, index, True)
            except ValueError:  # orjson reads integers beyond 64 bits as floats: json reads the value named
                e = _line_entry(buf, ls, first, le, index, False)
        except ValueError as exc:  # InputError included
            scan.rejected += 1
            if len(rejects) < MAX_REJECTED_DETAILS:
                reason = exc.reason if isinstance(exc, InputError) and exc.field == "line" else str(exc)
                rejects.append((base + ls, reason))
            continue
        if e is False:
            continue
        scan.usage_lines += 1
        if e is None:
            scan.ignored += 1
        else:
            add(identity(e), e)


def _line_entry(buf: bytearray, ls: int, first: int, le: int, index: int,
                fast: bool) -> Entry | None | Literal[False]:
    """The entry of the line buf[ls:le] (its first `"usage"` at `first`), None for a placeholder, False
    for a line that carries no usage; ValueError for a bad line (see make_entry)."""
    parsed = (_spliced(buf, ls, first, le, fast) if first > ls else None) or _parse_whole(buf[ls:le])
    if parsed is None:
        return False
    return make_entry(parsed[0], parsed[1], parsed[2], buf, ls, le, index)


def _line_numbers(fd: int, rejects: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Byte offsets of rejected lines -> 1-based line numbers (counted only when a line was rejected)."""
    out: list[tuple[int, str]] = []
    pos, line = 0, 1
    for offset, reason in sorted(rejects):
        while pos < offset:
            chunk = os.pread(fd, min(CHUNK, offset - pos), pos)
            if not chunk:
                break
            line += chunk.count(b"\n")
            pos += len(chunk)
        out.append((line, reason))
    return out
