"""Summarise a py-spy speedscope profile (``b1_import --profile out.json``) per thread: active
samples, and the functions with the largest inclusive and self shares.

    python -m bench.profile_summary /tmp/b1.json --top 25
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any


def _label(frame: dict[str, Any]) -> str:
    return f"{frame['name']} ({Path(frame.get('file', '')).name}:{frame.get('line', '')})"


def summarise(profile_path: Path, top: int, min_samples: int) -> str:
    data = json.loads(profile_path.read_text())
    labels = [_label(frame) for frame in data["shared"]["frames"]]
    out: list[str] = []
    for thread in data["profiles"]:
        samples: list[list[int]] = thread["samples"]
        if len(samples) < min_samples:
            continue
        inclusive: Counter[str] = Counter()
        own: Counter[str] = Counter()
        for stack in samples:
            names = [labels[index] for index in stack]
            inclusive.update(set(names))
            if names:
                own[names[-1]] += 1
        out.append(f"== {thread['name']}: {len(samples)} samples")
        out.append("-- inclusive")
        out += [f"{100 * n / len(samples):5.1f}% {name}" for name, n in inclusive.most_common(top)]
        out.append("-- self")
        out += [f"{100 * n / len(samples):5.1f}% {name}" for name, n in own.most_common(top)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("profile", type=Path, help="a speedscope JSON written by py-spy")
    parser.add_argument("--top", type=int, default=25, help="functions shown per list")
    parser.add_argument("--min-samples", type=int, default=20, help="skip quieter threads")
    args = parser.parse_args(argv)
    print(summarise(args.profile, args.top, args.min_samples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
