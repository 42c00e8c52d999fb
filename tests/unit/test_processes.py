"""`serve --processes`: how many sibling processes a value asks for, and what it refuses."""

from __future__ import annotations

import os

import pytest

from federation.cli import build_parser
from federation.processes import process_count


def test_auto_is_one_process_per_cpu_this_process_may_use() -> None:
    assert process_count("auto") == len(os.sched_getaffinity(0))
    assert process_count("3") == 3


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_serve_refuses_a_count_that_is_not_a_positive_number_or_auto(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve", "--processes", value])
    assert exited.value.code == 2
    assert f"a number >= 1 or auto, not {value!r}" in capsys.readouterr().err


def test_serve_runs_one_process_unless_asked() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.processes, args.sibling) == (1, False)
