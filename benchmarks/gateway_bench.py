"""Gateway benchmark: latency the gateway adds to non-streamed calls (median, p99) and to a stream's first byte,
and requests/s through it, each against direct calls to the same local fake upstream in the same run; beside
it the same figures for LiteLLM's proxy in front of the same fake upstream.

    .venv/bin/python -m benchmarks.gateway_bench [--requests 2000] [--seconds 5] [--concurrency 50]
                                                 [--no-litellm] [--litellm-venv DIR]

The fake upstream, the gateway (`aicost gateway`, the real command) and LiteLLM's proxy run as separate
processes, the client here, so they share the machine's cores as they would on a user's laptop.
LiteLLM (`litellm[proxy]` from PyPI) is installed by this benchmark into a scratch venv (reused on later
runs); when that fails the LiteLLM figures are skipped with the reason printed.
Targets (issue 13): <= 2 ms added at the median, <= 10 ms at p99, <= 5 ms to first byte, >= 500 req/s; and
less added latency and more requests/s than LiteLLM's proxy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 64}
FAKE = {"X-Fake-Prompt": "120", "X-Fake-Output": "40", "X-Fake-Chunks": "20"}

# LiteLLM's proxy set up as its docs describe (docs.litellm.ai/docs/proxy/configs and /cost_tracking): a
# model_list entry pointing at the upstream, a master key, spend computed per call by its cost map (returned
# as x-litellm-response-cost). Without its database: LiteLLM keeps spend logs only in PostgreSQL through
# Prisma, whose engine it downloads on first use. Client x- headers are forwarded (general_settings
# forward_client_headers_to_llm_api) so the fake upstream gets the same X-Fake-* steering as through ours.
LITELLM_CONFIG = """model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {upstream}/v1
      api_key: sk-bench-client-key
general_settings:
  master_key: sk-bench-litellm-master
  forward_client_headers_to_llm_api: true
"""
LITELLM_KEY = "sk-bench-litellm-master"
DEFAULT_LITELLM_VENV = Path(tempfile.gettempdir()) / "aicost-bench-litellm-venv"

SERVE_FAKE = r"""
import sys, threading
sys.path.insert(0, sys.argv[1])
from tests.unit.gateway.fake_upstream import FakeUpstream
fake = FakeUpstream().start()
print(fake.port, flush=True)
sys.stdin.read()  # until the benchmark closes our stdin
fake.stop()
"""


def _env(tmp: Path) -> dict[str, str]:
    return dict(os.environ, AICOST_TZ="UTC", PYTHON_KEYRING_BACKEND="tests.fakes.file_keyring.FileKeyring",
                AICOST_TEST_KEYRING_FILE=str(tmp / "keychain.json"),
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH")])))


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def latencies(url: str, headers: dict[str, str], n: int) -> list[float]:
    import httpx

    out = []
    with httpx.Client(timeout=30) as c:
        for _ in range(50):  # warm the connection, the catalog and the code paths
            c.post(url, json=CHAT, headers=headers)
        for _ in range(n):
            t = time.perf_counter()
            r = c.post(url, json=CHAT, headers=headers)
            out.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text[:200]
    return out


def first_bytes(url: str, headers: dict[str, str], n: int) -> list[float]:
    import httpx

    out = []
    with httpx.Client(timeout=30) as c:
        for i in range(n + 20):
            t = time.perf_counter()
            with c.stream("POST", url, json={**CHAT, "stream": True}, headers=headers) as r:
                it = r.iter_raw()
                next(it)
                ttfb = (time.perf_counter() - t) * 1000
                for _ in it:
                    pass
            if i >= 20:
                out.append(ttfb)
    return out


def throughput(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> float:
    import aiohttp

    async def run() -> int:
        done = 0
        stop = time.perf_counter() + seconds
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
            async def worker() -> None:
                nonlocal done
                while time.perf_counter() < stop:
                    async with s.post(url, json=CHAT, headers=headers) as r:
                        await r.read()
                        assert r.status == 200
                    done += 1
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done

    t = time.perf_counter()
    n = asyncio.run(run())
    return n / (time.perf_counter() - t)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def litellm_exe(venv: Path) -> tuple[Path | None, str]:
    """LiteLLM's proxy command in the scratch venv, installing `litellm[proxy]` from PyPI there on first use;
    (None, why) when that cannot be done."""
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    exe, marker = bindir / "litellm", venv / ".aicost-installed"
    if exe.exists() and marker.exists():
        return exe, f"litellm[proxy] {marker.read_text().strip()} from the scratch venv {venv}"
    print(f"  installing litellm[proxy] from PyPI into the scratch venv {venv} (once; several hundred MB) ...",
          flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        pip = subprocess.run([str(bindir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "litellm[proxy]"], capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not make the venv or run pip: {exc}"
    if pip.returncode != 0 or not exe.exists():
        errors = [ln for ln in (pip.stderr or "").splitlines() if ln.startswith("ERROR")] or \
            (pip.stderr or "").strip().splitlines()[-1:]
        return None, f"pip install litellm[proxy] failed: {errors[-1] if errors else 'no litellm command'}"
    version = subprocess.run([str(bindir / "python"), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
                             capture_output=True, text=True).stdout.strip()
    marker.write_text(version)
    return exe, f"litellm[proxy] {version}, installed now into the scratch venv {venv}"


def start_litellm(exe: Path, upstream: str, tmp: Path) -> tuple[subprocess.Popen[bytes] | None, str, str]:
    """LiteLLM's proxy on a free loopback port: (process, base URL, '') or (None, '', why not)."""
    import httpx

    cfg = tmp / "litellm.yaml"
    cfg.write_text(LITELLM_CONFIG.format(upstream=upstream))
    port = free_port()
    log = (tmp / "litellm.log").open("wb")
    # The bundled cost map instead of fetching one from the network at start (it would retry, then fall back).
    env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_LOG="ERROR")
    proc = subprocess.Popen([str(exe), "--config", str(cfg), "--host", "127.0.0.1", "--port", str(port),
                             "--num_workers", "1"], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (tmp / "litellm.log").read_text(errors="replace").strip().splitlines()[-1:]
            return None, "", f"the proxy exited ({proc.returncode}): {tail[0] if tail else 'no output'}"
        try:
            if httpx.get(f"{base}/health/liveliness", timeout=2).status_code == 200:
                return proc, base, ""
        except httpx.HTTPError:
            pass
        time.sleep(0.5)  # a benchmark waiting for another program's socket: polling is the only signal
    proc.kill()
    return None, "", "the proxy did not answer /health/liveliness within 180 s"


def check_litellm(url: str, headers: dict[str, str]) -> str:
    """One call through LiteLLM: its cost header and that the upstream got our X-Fake-* steering."""
    import httpx

    r = httpx.post(url, json=CHAT, headers=headers, timeout=30)
    if r.status_code != 200:
        raise RuntimeError(f"LiteLLM answered {r.status_code}: {r.text[:200]}")
    usage = r.json().get("usage") or {}
    if usage.get("prompt_tokens") != int(FAKE["X-Fake-Prompt"]):
        raise RuntimeError(f"LiteLLM did not forward the X-Fake-* headers (usage {usage})")
    cost = r.headers.get("x-litellm-response-cost")
    if cost is None:
        raise RuntimeError("LiteLLM answered without x-litellm-response-cost (no cost tracked)")
    return f"{Decimal(cost).quantize(Decimal('1e-12')).normalize():f}"  # it sends a float: 4.2000000000000004e-05


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--no-litellm", action="store_true", help="skip LiteLLM's proxy (no install, no figures)")
    ap.add_argument("--litellm-venv", type=Path, default=DEFAULT_LITELLM_VENV,
                    help=f"scratch venv for litellm[proxy] (default {DEFAULT_LITELLM_VENV})")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = _env(tmp)
        fake = subprocess.Popen([sys.executable, "-c", SERVE_FAKE, str(ROOT)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=env)
        port = int(fake.stdout.readline())  # type: ignore[union-attr]
        up = f"http://127.0.0.1:{port}"
        gw = subprocess.Popen([sys.executable, "-m", "aicost_desktop.cli.main", "--home", str(tmp / "home"),
                               "gateway", "--port", "0", "--upstream-openai", f"{up}/v1",
                               "--upstream-anthropic", f"{up}/anthropic/v1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        lite: subprocess.Popen[bytes] | None = None
        try:
            m = re.match(r"gateway listening on (\S+)", gw.stdout.readline())  # type: ignore[union-attr]
            if not m:
                raise SystemExit("gateway did not start: " + gw.stderr.read())  # type: ignore[union-attr]
            base = m.group(1)
            token = subprocess.run([sys.executable, "-m", "aicost_desktop.cli.main", "--home", str(tmp / "home"),
                                    "gateway", "token"], env=env, capture_output=True, text=True).stdout.strip()
            via_h = {**FAKE, "X-AICost-Token": token, "Authorization": "Bearer sk-bench-client-key"}
            direct_url, via_url = f"{up}/v1/chat/completions", f"{base}/openai/v1/chat/completions"
            lite_url, lite_h, lite_note = "", {**FAKE, "Authorization": f"Bearer {LITELLM_KEY}"}, ""
            if args.no_litellm:
                lite_note = "skipped (--no-litellm)"
            else:
                exe, about = litellm_exe(args.litellm_venv)
                if exe is None:
                    lite_note = f"skipped: {about}"
                else:
                    lite, lite_base, why = start_litellm(exe, up, tmp)
                    if lite is None:
                        lite_note = f"skipped: {why} ({about})"
                    else:
                        lite_url = f"{lite_base}/chat/completions"
                        try:
                            cost = check_litellm(lite_url, lite_h)
                        except (RuntimeError, OSError) as exc:
                            lite_url, lite_note = "", f"skipped: {exc}"
                        else:
                            lite_note = (f"{about}; config: model_list -> the same fake upstream, master_key, "
                                         f"no database (spend computed per call, x-litellm-response-cost "
                                         f"${cost}, not stored: its spend logs need PostgreSQL + Prisma)")
            print(f"gateway benchmark: {args.requests} sequential calls each way, then {args.seconds:.0f} s "
                  f"at {args.concurrency} concurrent; {os.cpu_count()} cores", flush=True)
            print(f"  LiteLLM proxy: {lite_note}", flush=True)
            # Interleave direct, gateway and LiteLLM runs so a busy moment of the machine hits all alike.
            half = args.requests // 2
            direct: list[float] = []
            via: list[float] = []
            lit: list[float] = []
            for _ in range(2):
                direct += latencies(direct_url, FAKE, half)
                via += latencies(via_url, via_h, half)
                if lite_url:
                    lit += latencies(lite_url, lite_h, half)
            dm, vm = statistics.median(direct), statistics.median(via)
            dp, vp = pct(direct, 99), pct(via, 99)
            print(f"  non-streamed latency   direct median {dm:6.2f} ms  p99 {dp:6.2f} ms")
            print(f"                         gateway median {vm:6.2f} ms  p99 {vp:6.2f} ms")
            print(f"  added by the gateway   median {vm - dm:+6.2f} ms (target <= 2)   p99 {vp - dp:+6.2f} ms "
                  f"(target <= 10)")
            if lit:
                lm, lp = statistics.median(lit), pct(lit, 99)
                print(f"                         LiteLLM median {lm:6.2f} ms  p99 {lp:6.2f} ms")
                print(f"  added by LiteLLM       median {lm - dm:+6.2f} ms             p99 {lp - dp:+6.2f} ms")
            n_stream = max(200, args.requests // 4)
            fd, fv = first_bytes(direct_url, FAKE, n_stream), first_bytes(via_url, via_h, n_stream)
            fdm, fvm = statistics.median(fd), statistics.median(fv)
            print(f"  stream first byte      direct median {fdm:6.2f} ms, gateway {fvm:6.2f} ms: added "
                  f"{fvm - fdm:+6.2f} ms (target <= 5)")
            if lite_url:
                flm = statistics.median(first_bytes(lite_url, lite_h, n_stream))
                print(f"                         LiteLLM {flm:6.2f} ms: added {flm - fdm:+6.2f} ms")
            rd = throughput(direct_url, FAKE, args.seconds, args.concurrency)
            rv = throughput(via_url, via_h, args.seconds, args.concurrency)
            print(f"  throughput             direct {rd:7.0f} req/s, gateway {rv:7.0f} req/s (target >= 500; "
                  f"client, gateway and upstream share the cores)")
            if lite_url:
                rl = throughput(lite_url, lite_h, args.seconds, args.concurrency)
                print(f"                         LiteLLM {rl:7.0f} req/s")
                ours, theirs = vm - dm, statistics.median(lit) - dm
                verdict = "OK" if ours < theirs and rv > rl else "MISS"
                print(f"  gateway vs LiteLLM     added median {ours:+.2f} vs {theirs:+.2f} ms, p99 {vp - dp:+.2f} vs "
                      f"{pct(lit, 99) - dp:+.2f} ms, {rv:.0f} vs {rl:.0f} req/s "
                      f"(target: less added, more req/s: {verdict})")
        finally:
            if lite is not None:
                lite.terminate()
                try:
                    lite.wait(30)
                except subprocess.TimeoutExpired:
                    lite.kill()
            gw.send_signal(2)
            out, _err = gw.communicate(timeout=120)
            fake.stdin.close()  # type: ignore[union-attr]
            fake.wait(30)
        tail = out.strip().splitlines()[-1] if out.strip() else ""
        print(f"  {tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
