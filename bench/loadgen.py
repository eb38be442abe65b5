"""A small HTTP/1.1 load generator: N keep-alive connections, each sending one GET after
another, for a given time; prints what it measured as one JSON object.

Why not httpx: on two cores the client shares the machine with the server, so it must cost
far less per request than the server does. httpx spends ~200 µs of CPU per request; this
sends one prebuilt request and reads the answer with asyncio streams (parsing the status line
and Content-Length only), a few tens of µs. It runs in its own process, so the two never share
an interpreter lock.

    python -m bench.loadgen --url http://127.0.0.1:8000/healthz --connections 64 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Tally:
    ok: int = 0
    errors: int = 0
    warmup_ok: int = 0  # answered during the warm-up (for CPU per request)
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


def build_request(url: str, headers: list[tuple[str, str]]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return parts.hostname or "127.0.0.1", parts.port or 80, request


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            break
    else:
        raise RuntimeError("the answer has no Content-Length (chunked answers are not read)")
    body = await reader.readexactly(length)
    return status, body


async def _connection(
    host: str, port: int, request: bytes, until: list[float], measure_from: float, tally: Tally
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            sent = time.perf_counter()
            if sent >= until[0]:
                return
            writer.write(request)
            status, _body = await _read_response(reader)
            done = time.perf_counter()
            if sent < measure_from or done > until[0]:
                # Warm-up, or finished after the end: not in the rate.
                tally.warmup_ok += status == 200
                continue
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            if status == 200:
                tally.ok += 1
                tally.latencies.append(done - sent)
            else:
                tally.errors += 1
    finally:
        writer.close()


async def run(
    url: str, headers: list[tuple[str, str]], connections: int, seconds: float, warmup: float
) -> dict[str, object]:
    host, port, request = build_request(url, headers)
    tally = Tally()
    start = time.perf_counter()
    measure_from = start + warmup
    until = [measure_from + seconds]
    await asyncio.gather(
        *(_connection(host, port, request, until, measure_from, tally) for _ in range(connections))
    )
    latencies = sorted(tally.latencies)

    def percentile(share: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, round(share * (len(latencies) - 1)))]

    return {
        "ok": tally.ok,
        "warmup_ok": tally.warmup_ok,
        "errors": tally.errors,
        "statuses": {str(code): count for code, count in sorted(tally.statuses.items())},
        "seconds": seconds,
        "rate": tally.ok / seconds,
        "p50_ms": percentile(0.5) * 1000,
        "p99_ms": percentile(0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--header", action="append", default=[], help="NAME: VALUE (repeat)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time first")
    args = parser.parse_args(argv)
    headers = [tuple(part.strip() for part in h.split(":", 1)) for h in args.header]
    result = asyncio.run(
        run(args.url, headers, args.connections, args.seconds, args.warmup)  # type: ignore[arg-type]
    )
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
