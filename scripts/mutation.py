"""Mutation testing of the trust boundary: run mutmut, then score each module.

The modules are the `only_mutate` globs of `[tool.mutmut]` in pyproject.toml (one report row
per glob: `federation/signatures/*` is the row `signatures/`). A mutant counts as killed when a
test failed, it timed out or the type checker caught it; every other result (survived, no
tests, suspicious) counts against the score. Mutants listed in tests/mutation_equivalents.txt,
each with the reason it cannot change behaviour, are left out of the count.

Usage (through scripts/mutation, which sets up .venv):
    scripts/mutation                      every module (incremental: mutants/ keeps results)
    scripts/mutation urn.py signatures/   only these rows
    scripts/mutation --changed REF        only the rows whose files differ from git REF
    scripts/mutation --report             print the table from the last run, run nothing
Options: --jobs N (parallel mutants, default 1), --threshold P (default 90).
Exit status 1 when a row that was run scores below the threshold.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS = ROOT / "tests" / "mutation_equivalents.txt"
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}  # test failure, timeouts, type checker
NOT_RUN = None


@dataclass
class Row:
    name: str  # e.g. "signatures/" or "urn.py"
    glob: str  # e.g. "federation/signatures/*"
    killed: int = 0
    counted: int = 0
    equivalent: int = 0
    unchecked: int = 0
    survivors: list[str] = field(default_factory=list)
    seconds: float | None = None
    only: list[str] = field(default_factory=list)  # mutant patterns of the changed files

    @property
    def pattern(self) -> str:
        """mutmut's mutant-name filter for this row, e.g. 'federation.signatures.*'."""
        return self.glob.removesuffix(".py").removesuffix("/*").replace("/", ".") + ".*"

    @property
    def score(self) -> float:
        return 100.0 * self.killed / self.counted if self.counted else 100.0


def load_rows() -> list[Row]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    rows = []
    for glob in config["only_mutate"]:
        name = glob.removeprefix("federation/").removesuffix("*")
        rows.append(Row(name, glob))
    return rows


def load_equivalents() -> dict[str, str]:
    """Mutant name -> the reason it is equivalent; a line without a reason is an error."""
    out: dict[str, str] = {}
    for number, line in enumerate(EQUIVALENTS.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            sys.exit(f"{EQUIVALENTS.name}:{number}: {name} needs a reason")
        out[name] = reason.strip()
    return out


def changed_rows(rows: list[Row], ref: str) -> list[Row]:
    """Rows with a file that differs from `ref`; every row when git cannot tell."""
    diff = subprocess.run(
        ["git", "diff", "--name-only", ref, "--"], cwd=ROOT, capture_output=True, text=True
    )
    if diff.returncode != 0:
        print(f"cannot compare with {ref} ({diff.stderr.strip()}): running every module")
        return rows
    paths = [path for path in diff.stdout.split() if path.endswith(".py")]
    changed = []
    for row in rows:
        # Only the changed files of a row are mutated: a change to cavage.py does not pay for
        # every mutant of signatures/.
        row.only = [_pattern(path) for path in paths if fnmatch.fnmatch(path, row.glob)]
        if row.only:
            changed.append(row)
    return changed


def _pattern(path: str) -> str:
    """mutmut's mutant-name filter for one file, e.g. 'federation.signatures.cavage.*'."""
    return path.removesuffix(".py").replace("/", ".") + ".*"


def run_mutmut(rows: list[Row], jobs: int, everything: bool) -> None:
    """Every row at once (resuming from mutants/), or row by row (re-running each, timed)."""
    env = {**os.environ, "FEDERATION_MUTATION": "1"}
    command = [str(Path(sys.executable).parent / "mutmut"), "run", "--max-children", str(jobs)]
    batches: list[tuple[str, list[str], Row | None]] = (
        [("every module", [], None)]
        if everything
        else [(row.name, row.only or [row.pattern], row) for row in rows]
    )
    for label, names, row in batches:
        print(f"== mutmut: {label}", flush=True)
        started = time.monotonic()
        done = subprocess.run([*command, *names], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            sys.exit(f"mutmut failed on {label} (exit {done.returncode})")
        elapsed = time.monotonic() - started
        print(f"   {elapsed:.0f} s", flush=True)
        if row is not None:
            row.seconds = elapsed


def tally(rows: list[Row], equivalents: dict[str, str]) -> set[str]:
    """Fill each row from mutants/*.meta; returns the equivalents that name no mutant."""
    unused = set(equivalents)
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        source = meta.relative_to(ROOT / "mutants").as_posix().removesuffix(".meta")
        row = next((r for r in rows if fnmatch.fnmatch(source, r.glob)), None)
        if row is None:
            continue
        results = json.loads(meta.read_text())["exit_code_by_key"]
        for name, code in results.items():
            if name in equivalents:
                unused.discard(name)
                row.equivalent += 1
            elif code is NOT_RUN:
                row.unchecked += 1
            else:
                row.counted += 1
                if code in KILLED:
                    row.killed += 1
                else:
                    row.survivors.append(name)
    return unused


def report(rows: list[Row], threshold: float) -> bool:
    ok = True
    print(f"\n{'module':<24}{'mutants':>9}{'killed':>8}{'score':>8}{'equiv':>7}{'time':>8}")
    for row in rows:
        seconds = f"{row.seconds:.0f}s" if row.seconds is not None else "-"
        print(
            f"{row.name:<24}{row.counted:>9}{row.killed:>8}{row.score:>7.1f}%"
            f"{row.equivalent:>7}{seconds:>8}"
        )
        if row.unchecked:
            print(f"  {row.unchecked} mutants not run yet: the score is incomplete")
        if row.counted and row.score < threshold:
            ok = False
    for row in rows:
        if row.survivors:
            print(f"\nsurviving in {row.name} (see one: .venv/bin/mutmut show NAME)")
            for name in sorted(row.survivors):
                print(f"  {name}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="report rows to run (default: all)")
    parser.add_argument("--changed", metavar="REF", help="run only rows changed since REF")
    parser.add_argument("--report", action="store_true", help="run nothing, print the table")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=90.0)
    args = parser.parse_args()

    rows = load_rows()
    equivalents = load_equivalents()
    selected = rows
    if args.modules:
        unknown = set(args.modules) - {row.name for row in rows}
        if unknown:
            sys.exit(f"unknown modules {sorted(unknown)}; known: {[row.name for row in rows]}")
        selected = [row for name in args.modules for row in rows if row.name == name]
    if args.changed:
        selected = changed_rows(selected, args.changed)
        if not selected:
            print(f"no trust-boundary module changed since {args.changed}")
            return
    if not args.report:
        run_mutmut(selected, args.jobs, everything=not args.modules and not args.changed)
    unused = tally(rows, equivalents)
    for name in sorted(unused):
        print(f"warning: {EQUIVALENTS.name} lists {name}, which is no longer a mutant")
    if not report(selected, args.threshold):
        sys.exit(f"\nmutation score below {args.threshold:.0f}% (README: Mutation testing)")


if __name__ == "__main__":
    main()
