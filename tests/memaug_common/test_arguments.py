"""Bad command-line input gets one line (memaug_common.arguments), from every subcommand too."""

from __future__ import annotations

import pytest

from memaug_common.arguments import ArgumentParser


def test_a_bad_argument_gets_one_line_that_names_it_and_exit_status_2(capsys: pytest.CaptureFixture) -> None:
    parser = ArgumentParser(prog="tool")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train")
    train.add_argument("--backend", choices=("mujoco", "warp"))
    train.add_argument("--iterations", type=int)
    for argv, named in (
        (["train", "--backend", "bullet"], "invalid choice: 'bullet'"),
        (["train", "--iterations", "many"], "invalid int value: 'many'"),
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
    ):
        with pytest.raises(SystemExit) as stop:
            parser.parse_args(argv)
        assert stop.value.code == 2
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1 and named in lines[0] and "--help" in lines[0], lines
