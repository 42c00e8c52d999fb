"""`python -m bench <bench>`: real processes on 127.0.0.1, ratios to baselines.

Benches: signatures, inbox, flood, fanout, peers, peers-big, resolve, objects, queue, scale, soak,
all.
`--json FILE` writes every result. The server under test is pinned to CPU 0, the load generator
to CPU 1.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    cores,
    fanout,
    flood,
    inbox,
    objects,
    peers,
    peers_big,
    resolve,
    scale,
    soak,
    telemetry,
)
from bench.common import Results, fmt_ratio, spread

# Goals for the signature rows (ratio to raw `cryptography`), by (scenario, operation).
SIGNATURE_GOALS = {("rsa2048-cavage", "verify"): 0.7, ("rsa2048-rfc9421", "verify"): 0.7}

DEFAULT_ROUNDS = 5
SCALE_ROUNDS = 3  # each a full 1k -> 100k series: minutes apiece

BENCHES = (
    "signatures",
    "inbox",
    "flood",
    "fanout",
    "peers",
    "peers-big",
    "resolve",
    "objects",
    "queue",
    "scale",
    "soak",
    "cores",
    "all",
)


def _rounds(args: argparse.Namespace) -> int:
    return int(args.rounds or DEFAULT_ROUNDS)


def _signatures(args: argparse.Namespace, results: Results) -> None:
    from bench import signatures

    rows = signatures.run(_rounds(args), 0.5)
    for row in rows:
        results.add("signatures", row)
        ratio = spread([row["ratio_min"], row["ratio_median"], row["ratio_max"]])
        goal = SIGNATURE_GOALS.get((row["scenario"], row["operation"]))
        results.line(
            "signatures",
            f"{row['scenario']} {row['operation']}/s" + (f" (goal >= {goal})" if goal else ""),
            fmt_ratio(ratio),
            f"{row['ours_per_s']:,.0f}/s (raw {row['raw_per_s']:,.0f}/s)",
        )
    width = max(len(r["scenario"]) for r in rows)
    for row in rows:
        print(
            f"signatures {row['scenario']:<{width}} {row['operation']:<6} "
            f"{row['ours_per_s']:>8.0f}/s raw {row['raw_per_s']:>8.0f}/s "
            f"ratio {row['ratio_median']:.2f} ({row['ratio_min']:.2f}-{row['ratio_max']:.2f})"
        )
    _proofs(args, results)
    _ld_signatures(args, results)


def _proofs(args: argparse.Namespace, results: Results) -> None:
    """FEP-8b32 eddsa-jcs-2022 proofs against raw Ed25519: part of the signatures bench."""
    from bench import proofs

    for row in proofs.run(_rounds(args), 0.5):
        results.add("signatures", {"scenario": "eddsa-jcs-2022 proof", **row})
        ratio = spread([row["ratio_min"], row["ratio_median"], row["ratio_max"]])
        results.line(
            "signatures",
            f"eddsa-jcs-2022 proof {row['operation']}/s (goal {row['goal']})",
            fmt_ratio(ratio),
            f"{row['ours_per_s']:,.0f}/s (raw Ed25519 {row['raw_per_s']:,.0f}/s)",
        )
        print(
            f"signatures eddsa-jcs-2022 proof {row['operation']:<6} "
            f"{row['ours_per_s']:>8.0f}/s raw {row['raw_per_s']:>8.0f}/s "
            f"ratio {row['ratio_median']:.2f} ({row['ratio_min']:.2f}-{row['ratio_max']:.2f})"
            f" goal {row['goal']}"
        )


def _ld_signatures(args: argparse.Namespace, results: Results) -> None:
    """RsaSignature2017 verify per activity, as ratios to proof verify and raw RSA on the same
    activity: part of the signatures bench. Four decimals: JSON-LD makes these ratios small."""
    from bench import ld_signatures

    for row in ld_signatures.run(_rounds(args), 0.5):
        results.add("signatures", {"scenario": "RsaSignature2017 LD signature", **row})
        for base, label in (("proof", "its eddsa-jcs-2022 proof"), ("raw", "raw RSA-2048")):
            if f"ratio_to_{base}" in row:
                low, high = row[f"ratio_to_{base}_range"]
                results.line(
                    "signatures",
                    f"LD signature verify/s, {row['activity']}, vs {label}",
                    f"{row[f'ratio_to_{base}']:.4f} ({low:.4f}-{high:.4f})",
                    f"{1000 / row['ld_per_s']:.2f} ms per activity"
                    f" ({label}: {1000 / row[f'{base}_per_s']:.3f} ms)",
                )
        print(f"signatures {ld_signatures.describe(row)}")


def _queue(args: argparse.Namespace, results: Results) -> None:
    """The queue bench belongs to its own module: run it as its own command, show its output."""
    try:
        importlib.import_module("bench.queue")
    except ImportError:
        print("queue: bench.queue is not available in this checkout; skipped")
        results.line("queue", "(module missing)", "-", "skipped")
        return
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.queue"],
        capture_output=True,
        text=True,
        check=False,
    )
    print(done.stdout, end="")
    if done.returncode:
        print(done.stderr, end="", file=sys.stderr)
    results.add("queue", {"stdout": done.stdout, "returncode": done.returncode})
    results.line(
        "queue",
        "see the queue table above",
        "-",
        f"exit {done.returncode} in {time.perf_counter() - start:.0f} s",
    )


def _all(args: argparse.Namespace, results: Results) -> None:
    quick = argparse.Namespace(**{**vars(args), "rounds": min(_rounds(args), 5)})
    for name in ("signatures", "inbox", "flood", "fanout", "resolve", "objects", "queue"):
        print(f"\n== {name} ==", flush=True)
        RUNNERS[name](quick, results)
    print("\n== scale ==", flush=True)
    RUNNERS["scale"](args, results)  # its own default: three whole series
    print("\n== soak (short) ==", flush=True)
    soak.run(soak.SoakOptions(seconds=min(args.seconds_soak, 30.0)), results)


def _inbox(args: argparse.Namespace, results: Results) -> None:
    """The inbox rows, then the telemetry rows measured on the same kind of node."""
    opts = inbox.InboxOptions(
        rounds=_rounds(args),
        peer_key=args.peer_key,
        peer_proofs=args.peer_proofs,
        peer_fedify=args.peer_fedify,
    )
    inbox.run(opts, results)
    telemetry.run(opts, results)


RUNNERS: dict[str, Callable[[argparse.Namespace, Results], Any]] = {
    "signatures": _signatures,
    "inbox": _inbox,
    "flood": lambda a, r: flood.run(flood.FloodOptions(rounds=a.rounds or 3), r),
    "fanout": lambda a, r: fanout.run(fanout.FanoutOptions(rounds=_rounds(a)), r),
    "peers": lambda a, r: peers.run(
        peers.PeersOptions(
            rounds=a.rounds or peers.PeersOptions.rounds,
            rtt=a.rtt if a.rtt is not None else peers.PeersOptions.rtt,
        ),
        r,
    ),
    "peers-big": lambda a, r: peers_big.run(
        peers_big.BigOptions(
            rounds=a.rounds or peers_big.BigOptions.rounds,
            rtt=a.rtt if a.rtt is not None else peers_big.BigOptions.rtt,
            scale=a.scale,
        ),
        r,
    ),
    "resolve": lambda a, r: resolve.run(resolve.ResolveOptions(rounds=_rounds(a)), r),
    "objects": lambda a, r: objects.run(objects.ObjectsOptions(rounds=_rounds(a)), r),
    "queue": _queue,
    "scale": lambda a, r: scale.run(
        scale.ScaleOptions(sizes=a.sizes, rounds=a.rounds or SCALE_ROUNDS), r
    ),
    "soak": lambda a, r: soak.run(
        soak.SoakOptions(seconds=a.seconds_soak, followers=a.followers, load=a.load), r
    ),
    "cores": lambda a, r: cores.run(cores.CoresOptions(rounds=_rounds(a)), r),
    "all": _all,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("bench", choices=BENCHES)
    parser.add_argument("--json", type=Path, help="write every result to this file")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help=f"measured rounds per figure (default {DEFAULT_ROUNDS}; scale: whole series, "
        f"default {SCALE_ROUNDS})",
    )
    parser.add_argument(
        "--peer-key",
        choices=["ed25519", "rsa"],
        default="ed25519",
        help="inbox: the key the simulated peer signs with (Mastodon peers sign with RSA)",
    )
    parser.add_argument(
        "--peer-proofs",
        action="store_true",
        help="inbox: the peer also proves each activity (FEP-8b32), as Fedify peers do",
    )
    parser.add_argument(
        "--peer-fedify",
        action="store_true",
        help="inbox: the peer sends what a Fedify server sends (RFC 9421, proof, LD signature)",
    )
    parser.add_argument(
        "--seconds",
        dest="seconds_soak",
        type=float,
        default=180.0,
        help="soak duration (all: at most 30 s)",
    )
    parser.add_argument(
        "--followers",
        type=int,
        default=0,
        help="soak: seed this many followers, cached blocks and queued deliveries first",
    )
    parser.add_argument(
        "--load", type=float, default=0.8, help="soak: share of measured capacity to offer"
    )
    parser.add_argument(
        "--rtt",
        type=float,
        default=None,
        help="peers, peers-big: the receivers' round-trip time (s; default 0.2 and 0.1)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="peers-big: share of its 5,000 hosts and 100,000 followers to run",
    )
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1_000, 10_000, 100_000],
        help="scale: work sizes, e.g. 1000,10000",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    results = Results()
    start = time.perf_counter()
    try:
        RUNNERS[args.bench](args, results)
    finally:
        print(f"\n== summary ({args.bench}, {time.perf_counter() - start:.0f} s) ==")
        results.print_summary()
        if args.json is not None:
            results.write_json(args.json)
            print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
