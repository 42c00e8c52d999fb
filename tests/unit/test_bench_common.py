"""The benchmark statistics helpers (no timed tests here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.common import (
    Results,
    Spread,
    fmt_mib,
    fmt_num,
    fmt_ratio,
    percentile,
    ratios,
    spread,
    table,
)
from bench.loadgen import _complete_response


def test_spread_is_median_and_range() -> None:
    assert spread([3.0, 1.0, 2.0, 10.0]) == Spread(2.5, 1.0, 10.0, 4)


def test_spread_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        spread([])


def test_ratios_pair_rounds() -> None:
    s = ratios([50.0, 60.0, 90.0], [100.0, 100.0, 100.0])
    assert (s.median, s.low, s.high) == (0.6, 0.5, 0.9)


def test_ratios_refuse_unpaired_rounds() -> None:
    with pytest.raises(ValueError):
        ratios([1.0], [1.0, 2.0])


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) == 0.0


def test_formatting() -> None:
    assert fmt_ratio(Spread(0.4234, 0.4, 0.45, 5)) == "0.42 (0.40-0.45)"
    assert fmt_num(12345.6) == "12,346"
    assert fmt_num(123.4) == "123"
    assert fmt_num(12.34) == "12.3"
    assert fmt_num(1.234) == "1.23"
    assert fmt_mib(2048) == "2.0 MiB"


def test_table_aligns_columns() -> None:
    text = table(("a", "bb"), [("long", "x")])
    assert text.splitlines() == ["a     bb", "----  --", "long  x"]


def test_results_write_json(tmp_path: Path) -> None:
    results = Results()
    results.add("inbox", {"ratio": 0.5})
    results.line("inbox", "accepted/s", "0.50 (0.40-0.60)", "100/s")
    out = tmp_path / "r.json"
    results.write_json(out)
    data = json.loads(out.read_text())
    assert data["results"] == {"inbox": [{"ratio": 0.5}]}
    assert data["summary"] == [["inbox", "accepted/s", "0.50 (0.40-0.60)", "100/s"]]


def test_response_parser_waits_for_the_whole_body() -> None:
    buf = bytearray(b"HTTP/1.1 202 Accepted\r\nContent-Length: 4\r\n\r\nab")
    assert _complete_response(buf) is None
    buf += b"cdHTTP/1.1 200 OK"
    assert _complete_response(buf) == 202
    assert bytes(buf) == b"HTTP/1.1 200 OK"


def test_response_parser_handles_chunked() -> None:
    buf = bytearray(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n")
    assert _complete_response(buf) == 200
    assert not buf
