"""A minimal HTTP/1.1 keep-alive client on asyncio streams, for load tests: POSTs JSON and reads whole answers.

The gateway load test sends 10,000 requests; through aiohttp's client the client was a third of the test's CPU
(in the gateway's own process, so also in its way). This one writes a request in one call and reads the answer by
its Content-Length or its chunks (the gateway streams SSE chunked), nothing else of HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any


class LoadClient:
    """`connections` keep-alive connections to 127.0.0.1:`port`, each taking one request at a time."""

    def __init__(self, port: int, connections: int) -> None:
        self.port = port
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        self._size = connections
        self._all: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> "LoadClient":
        for _ in range(self._size):
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            self._all.append(writer)
            self._idle.put_nowait((reader, writer))
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for writer in self._all:
            writer.close()
        await asyncio.gather(*(w.wait_closed() for w in self._all), return_exceptions=True)

    async def post(self, path: str, body: Any, headers: dict[str, str]) -> tuple[int, bytes]:
        """(status, body) of one POST of `body` as JSON."""
        reader, writer = await self._idle.get()
        try:
            payload = json.dumps(body).encode()
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(payload)}\r\n{head}\r\n".encode() + payload)
            status, answer = await _read_response(reader)
        except BaseException:
            writer.close()  # a connection in an unknown state is not reused
            raise
        self._idle.put_nowait((reader, writer))
        return status, answer


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if fields.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readline()).split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers are sent: the blank line that ends the body
                return status, b"".join(parts)
            parts.append((await reader.readexactly(size + 2))[:-2])
    if "content-length" not in fields:
        raise AssertionError(f"an answer with neither Content-Length nor chunks: {lines[:8]}")
    return status, await reader.readexactly(int(fields["content-length"]))
