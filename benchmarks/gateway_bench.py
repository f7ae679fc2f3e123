"""Gateway benchmark: latency the gateway adds to non-streamed calls (median, p99) and to a stream's first byte,
and requests/s through it, each against direct calls to the same local fake upstream in the same run.

    .venv/bin/python -m benchmarks.gateway_bench [--requests 2000] [--seconds 5] [--concurrency 50]

The fake upstream and the gateway (`aicost gateway`, the real command) run as separate processes, the
client here, so the three share the machine's cores as they would on a user's laptop.
Targets (issue 13): <= 2 ms added at the median, <= 10 ms at p99, <= 5 ms to first byte, >= 500 req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 64}
FAKE = {"X-Fake-Prompt": "120", "X-Fake-Output": "40", "X-Fake-Chunks": "20"}

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=50)
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
        try:
            m = re.match(r"gateway listening on (\S+)", gw.stdout.readline())  # type: ignore[union-attr]
            if not m:
                raise SystemExit("gateway did not start: " + gw.stderr.read())  # type: ignore[union-attr]
            base = m.group(1)
            token = subprocess.run([sys.executable, "-m", "aicost_desktop.cli.main", "--home", str(tmp / "home"),
                                    "gateway", "token"], env=env, capture_output=True, text=True).stdout.strip()
            via_h = {**FAKE, "X-AICost-Token": token, "Authorization": "Bearer sk-bench-client-key"}
            direct_url, via_url = f"{up}/v1/chat/completions", f"{base}/openai/v1/chat/completions"
            print(f"gateway benchmark: {args.requests} sequential calls each way, then {args.seconds:.0f} s "
                  f"at {args.concurrency} concurrent; {os.cpu_count()} cores", flush=True)
            # Interleave direct and gateway runs so a busy moment of the machine hits both alike.
            d1, v1 = latencies(direct_url, FAKE, args.requests // 2), latencies(via_url, via_h, args.requests // 2)
            d2, v2 = latencies(direct_url, FAKE, args.requests // 2), latencies(via_url, via_h, args.requests // 2)
            direct, via = d1 + d2, v1 + v2
            dm, vm = statistics.median(direct), statistics.median(via)
            dp, vp = pct(direct, 99), pct(via, 99)
            print(f"  non-streamed latency   direct median {dm:6.2f} ms  p99 {dp:6.2f} ms")
            print(f"                         gateway median {vm:6.2f} ms  p99 {vp:6.2f} ms")
            print(f"  added by the gateway   median {vm - dm:+6.2f} ms (target <= 2)   p99 {vp - dp:+6.2f} ms "
                  f"(target <= 10)")
            n_stream = max(200, args.requests // 4)
            fd, fv = first_bytes(direct_url, FAKE, n_stream), first_bytes(via_url, via_h, n_stream)
            print(f"  stream first byte      direct median {statistics.median(fd):6.2f} ms, gateway "
                  f"{statistics.median(fv):6.2f} ms: added {statistics.median(fv) - statistics.median(fd):+6.2f} ms "
                  f"(target <= 5)")
            rd = throughput(direct_url, FAKE, args.seconds, args.concurrency)
            rv = throughput(via_url, via_h, args.seconds, args.concurrency)
            print(f"  throughput             direct {rd:7.0f} req/s, gateway {rv:7.0f} req/s (target >= 500; "
                  f"client, gateway and upstream share the cores)")
        finally:
            gw.send_signal(2)
            out, _err = gw.communicate(timeout=120)
            fake.stdin.close()  # type: ignore[union-attr]
            fake.wait(30)
        tail = out.strip().splitlines()[-1] if out.strip() else ""
        print(f"  {tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
