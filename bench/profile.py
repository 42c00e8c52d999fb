"""Where a gateway's time goes, from the profiles a bench run leaves behind.

    BENCH_PROFILE_DIR=/tmp/prof scripts/bench objects --rounds 1
    .venv/bin/python -m bench.profile /tmp/prof [--top 20]

Every gateway a bench starts runs under cProfile when BENCH_PROFILE_DIR is set (bench/node.py);
this prints, per profile, the share of the process's CPU time by area (our feature folders, the
libraries, the interpreter's own event loop) and the functions with the most time of their own.
Profiling slows Python code more than C code, so shares lean towards our code: read them as a
ranking, not as exact fractions.
"""

from __future__ import annotations

import argparse
import pstats
from collections import Counter
from pathlib import Path

# First match wins: path fragments of a function's file -> the area it is counted under.
AREAS = [
    ("/federation/", None),  # federation/<folder>/..., named after the folder (below)
    ("/cryptography/", "cryptography"),
    ("/aiohttp/", "aiohttp"),
    ("/yarl/", "aiohttp"),
    ("/multidict/", "aiohttp"),
    ("/opentelemetry/", "opentelemetry"),
    ("/pydantic", "pydantic"),
    ("/json/", "json"),
    ("/asyncio/", "asyncio (event loop)"),
    ("/uvloop/", "asyncio (event loop)"),
    ("/logging/", "logging"),
]


IDLE = "idle (waiting in epoll)"
STARTUP = "startup (imports, compiling)"
NOT_BUSY = {IDLE, STARTUP}


STARTUP_FUNCTIONS = {
    "<built-in method builtins.compile>",
    "<built-in method builtins.exec>",
    "<built-in method marshal.loads>",
    "<built-in method _imp.create_dynamic>",
}


def area_of(filename: str, function: str) -> str:
    if filename == "~":  # a C function called from Python: name it by its method
        if "epoll" in function or "select" in function:
            return IDLE
        if function in STARTUP_FUNCTIONS:
            return STARTUP
        if "sqlite3" in function:
            return "sqlite3"
        if "cryptography" in function or "openssl" in function:
            return "cryptography"
        if "json" in function:
            return "json"
        return "builtins"
    for fragment, name in AREAS:
        if fragment in filename:
            if name is None:
                rest = filename.split("/federation/", 1)[1]
                return "federation/" + (rest.split("/", 1)[0] if "/" in rest else rest)
            return name
    return "other"


def report(path: Path, top: int) -> None:
    stats = pstats.Stats(str(path))
    raw = stats.stats  # type: ignore[attr-defined]  # pstats keeps its table untyped
    by_area: Counter[str] = Counter()
    for (filename, _line, function), entry in raw.items():
        by_area[area_of(filename, function)] += entry[2]
    total = sum(s for area, s in by_area.items() if area not in NOT_BUSY) or 1.0
    print(
        f"\n== {path.name}: {total:.2f} s busy; left out: "
        + ", ".join(f"{by_area[a]:.2f} s {a}" for a in sorted(NOT_BUSY))
    )
    for area, seconds in by_area.most_common():
        if area not in NOT_BUSY and seconds / total >= 0.005:
            print(f"  {100 * seconds / total:5.1f}%  {area}")
    print(f"  -- top {top} functions by own time (share of busy time)")
    busy = [item for item in raw.items() if area_of(item[0][0], item[0][2]) not in NOT_BUSY]
    ranked = sorted(busy, key=lambda item: item[1][2], reverse=True)[:top]
    for (filename, line, function), entry in ranked:
        where = function if filename == "~" else f"{Path(filename).name}:{line} {function}"
        print(f"  {100 * entry[2] / total:5.1f}%  {entry[1]:>9} calls  {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    for path in sorted(args.directory.glob("*.pstats")):
        report(path, args.top)


if __name__ == "__main__":
    main()
