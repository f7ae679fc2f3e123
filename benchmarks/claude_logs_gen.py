"""Realistic Claude Code `projects/` folders, written the way Claude Code writes them, with the distinct
API requests known independently of any parser (shared by the held-out import test and the benchmark).

What a folder holds (research/providers.md 6.1, ccusage's claude adapter, tests and fixtures):

* one `<session-id>.jsonl` per session under `projects/<cwd with / as ->/`: user prompts, tool results
  (large, with `toolUseResult`), `summary`, `file-history-snapshot`, `system` and hook/bash `progress`
  lines, none with usage; assistant lines, one per content block (thinking, text, tool_use), each
  repeating the message's `message.id`, `requestId` and usage. Old-style sessions (Claude Code 1.0.x)
  wrote streaming snapshots: earlier blocks carry a smaller `output_tokens` than the last;
* nested `cache_creation` with 5-minute and 1-hour writes, prompts above 200K tokens on Sonnet 4.5,
  `speed: "fast"` on Opus 4.6, `<synthetic>` API-error placeholders;
* resumed sessions: a new session file that starts with a copy of an earlier session;
* sub-agents (Task tool): `<session-id>/subagents/agent-<agentId>.jsonl` with `isSidechain: true`
  lines, and in the parent an `agent_progress` line per sub-agent message (the message embedded under
  `data.message`, usage included). Some sub-agent files are missing (the progress copy is all there
  is), some runs have no progress lines (newer Claude Code);
* `/btw` side questions: `subagents/agent-aside_question-<hex>.jsonl` replaying parent messages with
  the same message id, a new requestId and the parent's usage, then one answer of its own.

`generate` returns the distinct requests (what the API billed), so a test can price them itself.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-6"
HAIKU = "claude-haiku-4-5-20251001"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WORDS = ("the function returns a value when called with the right arguments so we should check the "
          "module import path and update tests accordingly before running the suite again note that "
          "config files live under src and the parser reads them lazily résumé naïve → ✓ 日本語 données "
          "cache invalidation retry backoff schema migration index query plan").split()


@dataclass(frozen=True, slots=True)
class Request:
    """One request the API billed: its instant (UTC), model as priced (`-fast` for fast mode), tokens."""

    at: datetime
    model: str
    input: int
    output: int
    cache_read: int
    w5: int
    w1: int

    @property
    def prompt(self) -> int:
        return self.input + self.cache_read + self.w5 + self.w1


@dataclass
class Generated:
    """What was written: line/byte/file counts and the distinct requests (when collected)."""

    lines: int = 0
    bytes: int = 0
    files: int = 0
    requests: list[Request] = field(default_factory=list)
    request_count: int = 0
    paths: list[Path] = field(default_factory=list)
    # How often each case was written (a test checks every case is there).
    cases: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CASES, 0))


CASES = ("streaming_copies", "resumed_sessions", "subagent_files", "missing_subagent_files",
         "progress_copies", "sidechain_replays", "one_hour_writes", "long_context", "fast", "api_errors")


class _Gen:
    def __init__(self, root: Path, rng: random.Random, collect: bool, keep_files: bool) -> None:
        self.root, self.rng, self.collect, self.keep_files = root, rng, collect, keep_files
        self.out = Generated()
        pool = [rng.choice(_WORDS) for _ in range(60_000)]
        self.text_pool = " ".join(pool)
        self.b64_pool = "".join(rng.choice(_B62 + "+/") for _ in range(8192))

    # ids and text ------------------------------------------------------------------------------------
    def b62(self, n: int) -> str:
        return "".join(self.rng.choice(_B62) for _ in range(n))

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def text(self, lo: int, hi: int) -> str:
        n = self.rng.randint(lo, hi)
        start = self.rng.randrange(0, len(self.text_pool) - n - 1)
        return self.text_pool[start:start + n]

    # files ---------------------------------------------------------------------------------------------
    def write(self, path: Path, lines: list[dict[str, Any]]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n" for d in lines)
        raw = data.encode("utf-8")
        path.write_bytes(raw)
        self.out.lines += len(lines)
        self.out.bytes += len(raw)
        self.out.files += 1
        if self.keep_files:
            self.out.paths.append(path)

    def count(self, at: datetime, model: str, fast: bool, u: dict[str, int]) -> None:
        self.out.request_count += 1
        cases = self.out.cases
        cases["one_hour_writes"] += u["w1"] > 0
        cases["fast"] += fast
        cases["long_context"] += u["input_tokens"] + u["cache_read_input_tokens"] + u["w5"] + u["w1"] > 200_000
        if self.collect:
            self.out.requests.append(Request(at, f"{model}-fast" if fast else model, u["input_tokens"],
                                             u["output_tokens"], u["cache_read_input_tokens"], u["w5"], u["w1"]))


@dataclass
class _Session:
    """State of one conversation while its lines are produced."""

    sid: str
    cwd: str
    version: str
    model: str
    now: datetime
    context: int = 0
    lines: list[dict[str, Any]] = field(default_factory=list)
    parent: str | None = None
    assistant_lines: list[dict[str, Any]] = field(default_factory=list)


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class _Writer(_Gen):
    def envelope(self, s: _Session, kind: str, extra: dict[str, Any], sidechain: bool = False,
                 agent: str | None = None) -> dict[str, Any]:
        uid = self.uuid()
        d: dict[str, Any] = {"parentUuid": s.parent, "isSidechain": sidechain, "userType": "external",
                             "cwd": s.cwd, "sessionId": s.sid, "version": s.version, "gitBranch": "main"}
        if agent:
            d["agentId"] = agent
        d.update(extra)
        d["type"] = kind
        d["uuid"] = uid
        d["timestamp"] = _stamp(s.now)
        s.parent = uid
        return d

    def tick(self, s: _Session, lo: float, hi: float) -> None:
        s.now += timedelta(seconds=self.rng.uniform(lo, hi))

    def user_prompt(self, s: _Session, sidechain: bool = False, agent: str | None = None) -> dict[str, Any]:
        d = self.envelope(s, "user", {"message": {"role": "user", "content": self.text(40, 1500)}},
                          sidechain, agent)
        s.lines.append(d)
        return d

    def tool_result(self, s: _Session, tool_id: str, sidechain: bool = False,
                    agent: str | None = None) -> dict[str, Any]:
        body = self.text(200, 12_000)
        d = self.envelope(s, "user", {
            "message": {"role": "user", "content": [{"tool_use_id": tool_id, "type": "tool_result",
                                                     "content": body, "is_error": False}]},
            "toolUseResult": {"stdout": body[: len(body) // 2], "stderr": "", "interrupted": False}},
            sidechain, agent)
        s.lines.append(d)
        return d

    def noise(self, s: _Session) -> None:
        r = self.rng.random()
        if r < 0.3:
            s.lines.append({"type": "file-history-snapshot", "messageId": self.uuid(), "isSnapshotUpdate": False,
                            "snapshot": {"messageId": self.uuid(), "trackedFileBackups": {},
                                         "timestamp": _stamp(s.now)}})
        elif r < 0.6:
            s.lines.append(self.envelope(s, "system", {"subtype": "turn_duration", "durationMs": 5321,
                                                       "isMeta": False}))
        else:
            s.lines.append(self.envelope(s, "progress", {
                "data": {"type": "hook_progress", "hookEvent": "PostToolUse", "hookName": "PostToolUse:Edit",
                         "command": "npx prettier --write"}, "parentToolUseID": "toolu_01" + self.b62(22),
                "toolUseID": "toolu_01" + self.b62(22)}))

    def usage(self, s: _Session, model: str, big: bool) -> dict[str, int]:
        """Tokens of the next request: the context so far read from cache, new tokens written to it."""
        rng = self.rng
        if big:  # near or above 200K prompt tokens (long-context rates apply to that request alone)
            s.context = max(s.context, rng.randint(185_000, 320_000))
        new = rng.randint(200, 9_000)
        one_hour = rng.random() < 0.3
        u = {"input_tokens": rng.randint(1, 12), "cache_read_input_tokens": s.context,
             "output_tokens": rng.randint(20, 2_500), "w5": 0 if one_hour else new, "w1": new if one_hour else 0}
        s.context += new
        # Auto-compact: Sonnet 4.5 runs past 200K (long-context rates); Opus and Haiku stay below it.
        if s.context > (330_000 if model == SONNET else 189_000):
            s.context = rng.randint(15_000, 40_000)
        if rng.random() < 0.05:  # a request with no cache at all
            u.update(input_tokens=rng.randint(500, 6_000), cache_read_input_tokens=0, w5=0, w1=0)
        return u

    def wire_usage(self, u: dict[str, int], output: int, fast: bool, old: bool) -> dict[str, Any]:
        w = {"input_tokens": u["input_tokens"], "cache_creation_input_tokens": u["w5"] + u["w1"],
             "cache_read_input_tokens": u["cache_read_input_tokens"]}
        if not old:
            w["cache_creation"] = {"ephemeral_5m_input_tokens": u["w5"], "ephemeral_1h_input_tokens": u["w1"]}
        elif u["w1"]:  # 1.0.x had no nested split; keep 1h writes on new-style sessions only
            raise AssertionError("old-style sessions write 5-minute caches only")
        w["output_tokens"] = output
        w["service_tier"] = "standard"
        if fast:
            w["speed"] = "fast"
        elif not old and self.rng.random() < 0.5:
            w["speed"] = "standard"
        return w

    def request(self, s: _Session, model: str, *, sidechain: bool = False, agent: str | None = None,
                big: bool = False, fast: bool = False, tool: bool = True, progress_to: _Session | None = None,
                progress_meta: dict[str, Any] | None = None, counted: bool = True) -> str | None:
        """One API request: 1-3 assistant lines (one per content block); returns the tool_use id if any."""
        old = s.version.startswith("1.0")
        u = self.usage(s, model, big)
        if old:
            u["w5"], u["w1"] = u["w5"] + u["w1"], 0
        mid, rid = "msg_01" + self.b62(22), "req_011C" + self.b62(21)
        blocks: list[dict[str, Any]] = []
        if self.rng.random() < 0.5:
            blocks.append({"type": "thinking", "thinking": self.text(200, 2_500),
                           "signature": self.b64_pool[: self.rng.randint(300, 900)]})
        if self.rng.random() < 0.8 or not tool:
            blocks.append({"type": "text", "text": self.text(30, 1_500)})
        tool_id = None
        if tool:
            tool_id = "toolu_01" + self.b62(22)
            blocks.append({"type": "tool_use", "id": tool_id, "name": self.rng.choice(["Read", "Edit", "Bash", "Grep"]),
                           "input": {"file_path": f"{s.cwd}/src/mod_{self.rng.randint(1, 90)}.py",
                                     "old_string": self.text(0, 800), "new_string": self.text(0, 900)}})
        at = s.now
        for i, block in enumerate(blocks):
            last = i == len(blocks) - 1
            out = u["output_tokens"] if (last or not old) else self.rng.randint(1, max(1, u["output_tokens"] // 3))
            self.out.cases["streaming_copies"] += out != u["output_tokens"]
            message = {"model": model, "id": mid, "type": "message", "role": "assistant", "content": [block],
                       "stop_reason": "tool_use" if (last and tool) else None, "stop_sequence": None,
                       "usage": self.wire_usage(u, out, fast, old)}
            d = self.envelope(s, "assistant", {"message": message, "requestId": rid}, sidechain, agent)
            s.lines.append(d)
            if not sidechain:
                s.assistant_lines.append(d)
            if progress_to is not None:
                self.progress(progress_to, d, progress_meta or {})
            self.tick(s, 0.05, 1.5)
        if counted:
            self.count(at, model, fast, u)
        return tool_id

    def progress(self, parent: _Session, sub_line: dict[str, Any], meta: dict[str, Any]) -> None:
        """The parent's agent_progress line embedding one sub-agent message (as Claude Code 2.0-2.1 wrote)."""
        inner = {"type": sub_line["type"], "message": sub_line["message"], "uuid": sub_line["uuid"],
                 "timestamp": sub_line["timestamp"]}
        if "requestId" in sub_line:
            inner["requestId"] = sub_line["requestId"]
        parent.now = max(parent.now, datetime.fromisoformat(sub_line["timestamp"].replace("Z", "+00:00")))
        parent.now += timedelta(milliseconds=self.rng.randint(1, 40))
        self.out.cases["progress_copies"] += "requestId" in sub_line
        parent.lines.append(self.envelope(parent, "progress", {
            "data": {"message": inner, "normalizedMessages": [], "type": "agent_progress",
                     "prompt": meta["prompt"], "agentId": meta["agent"]},
            "toolUseID": "agent_msg_01" + self.b62(20), "parentToolUseID": meta["tool"]}))

    # a whole session -----------------------------------------------------------------------------------
    def session(self, project: Path, cwd: str, start: datetime, turns: int, *, version: str, model: str,
                copy_of: _Session | None = None) -> _Session:
        rng = self.rng
        s = _Session(sid=self.uuid(), cwd=cwd, version=version, model=model, now=start)
        if copy_of is not None:
            # A resumed session begins with the earlier conversation copied line for line (same ids,
            # usage and timestamps); only sessionId changes.
            self.out.cases["resumed_sessions"] += 1
            for d in copy_of.lines:
                s.lines.append({**d, "sessionId": s.sid} if "sessionId" in d else dict(d))
            s.context, s.parent = copy_of.context, copy_of.parent
            s.now = max(start, copy_of.now + timedelta(minutes=2))
        if rng.random() < 0.3:
            s.lines.append({"type": "summary", "summary": self.text(20, 80), "leafUuid": self.uuid()})
        subagent_dir = project / s.sid / "subagents"
        for _ in range(turns):
            if s.now.time() > time(23, 0):  # keep every copy of a request on its day
                break
            self.user_prompt(s)
            self.tick(s, 1, 4)
            for _step in range(rng.randint(1, 4)):
                r = rng.random()
                fast = model == OPUS and r < 0.25 and not version.startswith("1.0")
                big = model == SONNET and r > 0.9
                tool_id = self.request(s, model, big=big, fast=fast)
                if rng.random() < 0.04:  # an API error placeholder (not a request)
                    self.out.cases["api_errors"] += 1
                    s.lines.append(self.envelope(s, "assistant", {
                        "message": {"model": "<synthetic>", "id": self.uuid(), "type": "message", "role": "assistant",
                                    "content": [{"type": "text", "text": "API Error: 529 overloaded"}],
                                    "stop_reason": "stop_sequence", "stop_sequence": "",
                                    "usage": {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                                              "cache_read_input_tokens": 0}},
                        "isApiErrorMessage": True}))
                if tool_id is None:
                    break
                if rng.random() < 0.12 and not version.startswith("1.0"):
                    self.subagent(s, subagent_dir, tool_id)
                self.tick(s, 0.5, 6)
                self.tool_result(s, tool_id)
                if rng.random() < 0.3:
                    self.noise(s)
            if rng.random() < 0.08 and s.assistant_lines and not version.startswith("1.0"):
                self.aside(s, subagent_dir)
            self.tick(s, 20, 400)
        self.write(project / f"{s.sid}.jsonl", s.lines)
        return s

    def subagent(self, parent: _Session, folder: Path, tool_id: str) -> None:
        """A Task sub-agent: its own file (unless deleted) and, on 2.0-2.1, progress lines in the parent."""
        rng = self.rng
        agent = f"{rng.getrandbits(68):017x}"
        sub = _Session(sid=parent.sid, cwd=parent.cwd, version=parent.version,
                       model=rng.choice([HAIKU, SONNET, parent.model]), now=parent.now + timedelta(seconds=1))
        sub.context = rng.randint(8_000, 20_000)
        file_kept = rng.random() < 0.7
        progress = (not file_kept) or rng.random() < 0.6
        meta = {"prompt": self.text(30, 200), "agent": agent, "tool": tool_id}
        first = self.user_prompt(sub, sidechain=True, agent=agent)
        if progress:
            self.progress(parent, first, meta)
        for _ in range(rng.randint(1, 5)):
            t = self.request(sub, sub.model, sidechain=True, agent=agent, fast=sub.model == OPUS and rng.random() < 0.2,
                             progress_to=parent if progress else None, progress_meta=meta)
            if t is None:
                break
            self.tick(sub, 0.3, 3)
            result = self.tool_result(sub, t, sidechain=True, agent=agent)
            if progress:
                self.progress(parent, result, meta)
        parent.now = max(parent.now, sub.now)
        if file_kept:
            self.out.cases["subagent_files"] += 1
            self.write(folder / f"agent-{agent}.jsonl", sub.lines)
        else:
            self.out.cases["missing_subagent_files"] += 1

    def aside(self, parent: _Session, folder: Path) -> None:
        """A /btw side question: replays of parent messages (dropped) and one answer of its own (counted)."""
        rng = self.rng
        agent = "aside_question-" + f"{rng.getrandbits(64):016x}"
        side = _Session(sid=parent.sid, cwd=parent.cwd, version=parent.version, model=parent.model,
                        now=parent.now + timedelta(seconds=2))
        side.context = parent.context
        for d in rng.sample(parent.assistant_lines, min(len(parent.assistant_lines), rng.randint(1, 4))):
            replay = self.envelope(side, "assistant", {"message": d["message"], "requestId": "req_011C" + self.b62(21)},
                                   sidechain=True)
            side.lines.append(replay)
            self.out.cases["sidechain_replays"] += 1
            self.tick(side, 0.01, 0.2)
        self.user_prompt(side, sidechain=True)
        self.request(side, parent.model, sidechain=True, tool=False)
        parent.now = max(parent.now, side.now)
        self.write(folder / f"agent-{agent}.jsonl", side.lines)


def generate(root: Path, *, days: int = 5, start: date = date(2026, 3, 2), sessions_per_day: int = 4,
             turns: tuple[int, int] = (3, 12), target_lines: int | None = None, seed: int = 1,
             collect: bool = True, keep_files: bool = False) -> Generated:
    """Write a `projects/` folder under `root` (a Claude config dir); returns counts and the requests.

    With `target_lines`, sessions are added (days wrap around) until at least that many lines exist.
    """
    rng = random.Random(seed)
    g = _Writer(root, rng, collect, keep_files)
    projects = root / "projects"
    names = ["/Users/alice/work/api-server", "/Users/alice/work/web-app", "/Users/alice/oss/parser",
             "/home/alice/infra"]
    done: list[tuple[Path, str, _Session]] = []
    n = 0
    while True:
        day = start + timedelta(days=n % days)
        for _ in range(sessions_per_day):
            cwd = rng.choice(names)
            project = projects / cwd.replace("/", "-")
            when = datetime.combine(day, time(rng.randint(6, 19), rng.randint(0, 59)), timezone.utc)
            model = rng.choice([SONNET, SONNET, OPUS])
            version = rng.choice(["1.0.98", "2.0.37", "2.1.31", "2.1.63"])
            previous = [d for d in done if d[1] == cwd and d[2].version == version and d[2].now.date() == day]
            copy_of = previous[-1][2] if previous and rng.random() < 0.35 else None
            s = g.session(project, cwd, when, rng.randint(*turns), version=version, model=model, copy_of=copy_of)
            done.append((project, cwd, s))
            if len(done) > 8:
                done.pop(0)
        n += 1
        if target_lines is None and n >= days:
            break
        if target_lines is not None and g.out.lines >= target_lines:
            break
    return g.out


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--lines", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    out = generate(a.root, target_lines=a.lines, seed=a.seed, collect=False)
    print(f"{out.lines:,} lines, {out.bytes / 1e6:.0f} MB, {out.files:,} files, {out.request_count:,} requests")
