"""B4's baseline server: the bare endpoint of the same framework and server as ``serve``.

A FastAPI app with one route that returns a constant JSON document (B4 passes the list-details
answer it is compared with, so the size is the same), under uvicorn with the settings
``contactlists serve`` uses: one process, its default event loop and HTTP parser, no access
log. No middleware, no authentication, no database.

    python -m bench.bare_server --port 8001 --body answer.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

BARE_PATH = "/bare"


def build_app(body: Any) -> FastAPI:
    app = FastAPI()

    @app.get(BARE_PATH)
    async def bare() -> Any:
        return body

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True, help="the JSON document to return")
    args = parser.parse_args(argv)
    body = json.loads(args.body.read_text())
    uvicorn.run(
        build_app(body), host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
