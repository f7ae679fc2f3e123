"""Claude Code import vs ccusage on the same generated folder, side by side in one run: the first
`aicost import claude-code`, a re-import with nothing new, and `ccusage daily --json --offline`
(CLAUDE_CONFIG_DIR pointed at the folder), as wall times of fresh processes, with peak RSS.

    .venv/bin/python -m benchmarks.import_bench [--lines 300000] [--repeat 3]

ccusage is installed with npm into a scratch folder (/tmp/aicost-bench-ccusage) when it is not
there; without npm (or network) the ratios are left out and the reason printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
CCUSAGE_DIR = Path(tempfile.gettempdir()) / "aicost-bench-ccusage"
# The newest release whose native linux-x64 build the registry has; the npm package is a launcher
# for a per-platform binary package.
CCUSAGE_VERSION = "20.0.24"
FOLDERS = Path(tempfile.gettempdir()) / "aicost-bench-claude"
Line = Callable[..., None]


def default_line(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<52} {value:>22}   {target}", flush=True)


def folder(lines: int, seed: int = 1) -> tuple[Path, dict]:
    """The generated Claude config dir for `lines` (kept between runs: writing 1 GB takes a while)."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.claude_logs_gen import generate

    path = FOLDERS / f"{lines}-{seed}"
    stamp = path / "generated.json"
    if stamp.exists():
        return path, json.loads(stamp.read_text())
    shutil.rmtree(path, ignore_errors=True)
    gen = generate(path, target_lines=lines, seed=seed, collect=False)
    info = {"lines": gen.lines, "bytes": gen.bytes, "files": gen.files, "requests": gen.request_count}
    stamp.write_text(json.dumps(info))
    return path, info


def ccusage() -> tuple[list[str] | None, str]:
    """The ccusage command, installing it into the scratch folder when missing; or None and why."""
    exe = CCUSAGE_DIR / "node_modules" / ".bin" / "ccusage"
    if not exe.exists():
        npm = shutil.which("npm")
        if npm is None:
            return None, "npm not found: ccusage not installed, ratios left out"
        CCUSAGE_DIR.mkdir(parents=True, exist_ok=True)
        print(f"  installing ccusage@{CCUSAGE_VERSION} with npm into {CCUSAGE_DIR} ...", flush=True)
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(CCUSAGE_DIR),
                               f"ccusage@{CCUSAGE_VERSION}"], capture_output=True, text=True)
        if done.returncode != 0 or not exe.exists():
            return None, f"npm install ccusage failed: {(done.stderr or done.stdout).strip()[-200:]}"
    probe = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    if probe.returncode != 0:
        return None, f"ccusage does not run here: {(probe.stderr or probe.stdout).strip()[-200:]}"
    return [str(exe)], f"ccusage {probe.stdout.strip()} ({exe})"


# Linux keeps a process's peak RSS across fork and exec: a child forked straight from this process
# (which may hold a million generated rows when run from `python -m benchmarks`) would report this
# process's size as its own. A small launcher, started first, forks the measured command from its own
# fresh address space and reports the peak RSS of its children only.
_LAUNCH = """
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.call(sys.argv[2:])
el = time.perf_counter() - t
with open(sys.argv[1], "w") as fh:
    fh.write(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} {el!r}")
sys.exit(rc)
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in KB (the largest process of the command's tree) and stdout of one run."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        # The launcher times the command itself, so its own start-up is not counted.
        proc = subprocess.run([sys.executable, "-c", _LAUNCH, rss.name, *cmd], stdout=out, stderr=subprocess.PIPE,
                              env=env)
        err = proc.stderr.decode()
        out.seek(0)
        text = out.read().decode()
        peak_text, _, el_text = (rss.read() or "0 0").partition(" ")
        peak, el = int(peak_text), float(el_text or 0)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed ({proc.returncode}): {err.strip()[-300:]}")
    return el, peak, text


def aicost_env() -> dict[str, str]:
    """The CLI as installed: byte-compiled modules cached (outside the source tree), no debug env."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "CLAUDE_CONFIG_DIR")}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "aicost-bench-pycache")
    return env


def run(lines: int = 300_000, repeat: int = 3, line: Line = default_line) -> dict[str, float]:
    path, info = folder(lines)
    line("Claude Code folder", f"{info['lines']:,} lines", f"{info['bytes'] / 1e6:,.0f} MB, {info['files']:,} files, "
         f"{info['requests']:,} distinct requests")
    cc, why = ccusage()
    line("ccusage", "found" if cc else "missing", why)
    env = aicost_env()
    aicost = [sys.executable, "-m", "aicost_desktop.cli.main"]
    subprocess.run([*aicost, "--version"], env=env, capture_output=True)  # byte-compile once
    cc_env = {**{k: v for k, v in os.environ.items()}, "CLAUDE_CONFIG_DIR": str(path)}
    firsts, agains, cc_times, rss = [], [], [], {"aicost": 0, "ccusage": 0}
    result: dict[str, object] = {}
    for i in range(repeat):
        home = Path(tempfile.mkdtemp(prefix="aicost-bench-home-"))
        try:
            base = [*aicost, "--home", str(home), "--tz", "UTC", "import", "claude-code", "--path", str(path), "--json"]
            if cc:  # side by side: each aicost run next to a ccusage run, under the same machine load
                el, kb, out = timed([*cc, "daily", "--json", "--offline"], cc_env)
                cc_times.append(el)
                rss["ccusage"] = max(rss["ccusage"], kb)
                result["ccusage"] = json.loads(out)["totals"]
            el, kb, out = timed(base, env)
            firsts.append(el)
            rss["aicost"] = max(rss["aicost"], kb)
            result["first"] = json.loads(out)
            el, kb, out = timed(base, env)
            agains.append(el)
            result["again"] = json.loads(out)
            if i == repeat - 1:
                result["report"] = json.loads(timed(
                    [*aicost, "--home", str(home), "--tz", "UTC", "report", "--mode", "computed", "--group-by",
                     "day", "--from", "2000-01-01", "--to", "2100-01-01", "--json"], env)[2])
        finally:
            shutil.rmtree(home, ignore_errors=True)
    first, again = statistics.median(firsts), statistics.median(agains)
    first_report = result["first"]
    line("aicost first import", f"{first:.2f} s", f"added {first_report['added']:,} rows, "  # type: ignore[index]
         f"peak RSS {rss['aicost'] / 1024:.0f} MB (target < 150 MB)")
    line("aicost re-import, nothing new", f"{again:.2f} s", f"added {result['again']['added']}")  # type: ignore[index]
    figures = {"first_s": first, "again_s": again, "rss_mb": rss["aicost"] / 1024}
    if cc:
        c = statistics.median(cc_times)
        figures.update(ccusage_s=c, first_ratio=first / c, again_ratio=again / c)
        line("ccusage daily --json --offline", f"{c:.2f} s", f"peak RSS {rss['ccusage'] / 1024:.0f} MB")
        line("first import / ccusage", f"{first / c:.2f}x", "target <= 1.5x: " + ("OK" if first / c <= 1.5 else "MISS"))
        line("re-import / ccusage", f"{again / c:.2f}x", "target < 0.10x: " + ("OK" if again / c < 0.10 else "MISS"))
        _compare_tokens(result, line)
    line("re-import in the running app (import only)", f"{_in_process_reimport(path):.3f} s",
         "scheduled auto-import: no process start")
    return figures


def _compare_tokens(result: dict, line: Line) -> None:
    """Token totals against ccusage's (the same de-duplication rules: they should agree)."""
    ours = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}
    for r in result["report"]["rows"]:
        ours["input"] += r["input_tokens"]
        ours["output"] += r["output_tokens"]
        ours["cache_read"] += r["cache_read_tokens"]
        ours["cache_write"] += r["cache_write_tokens"]
    t = result["ccusage"]
    theirs = {"input": t["inputTokens"], "output": t["outputTokens"], "cache_read": t["cacheReadTokens"],
              "cache_write": t["cacheCreationTokens"]}
    same = ours == theirs
    line("token totals equal ccusage's", "yes" if same else "no",
         "" if same else "; ".join(f"{k} {ours[k]:,} vs {theirs[k]:,}" for k in ours if ours[k] != theirs[k]))
    line("computed cost (published rates) vs ccusage", f"${float(result['report']['total_exact']):,.2f}",
         f"ccusage ${t['totalCost']:,.2f} (LiteLLM rates)")


def _in_process_reimport(path: Path) -> float:
    """A second import in a process that already has the app loaded (the GUI's auto-import)."""
    sys.path.insert(0, str(ROOT))
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.importers.runner import import_claude_code

    home = Path(tempfile.mkdtemp(prefix="aicost-bench-home-"))
    try:
        ctx = AppContext(home=home, tz="UTC")
        import_claude_code(ctx.db, ctx.catalog.cost_of, path)
        t = time.perf_counter()
        import_claude_code(ctx.db, ctx.catalog.cost_of, path)
        el = time.perf_counter() - t
        ctx.close()
        return el
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print(f"Claude Code import vs ccusage ({os.cpu_count()} CPUs, medians of {a.repeat})")
    run(a.lines, a.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
