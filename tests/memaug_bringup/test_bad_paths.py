"""Every command meets a bad path with one line naming it and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from memaug_common.testing import local_dds_env, resolve_executable


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (["memaug", "report", "/no/such/bag"], "no bag folder at /no/such/bag"),
        (["memaug", "report", "{tmp}"], "cannot read"),
        (["memaug", "bag", "repair", "/no/such/bag"], "no bag folder at /no/such/bag"),
        (["memaug", "inspect", "/no/model.onnx"], "policy model not found: /no/model.onnx"),
        (["memaug", "inspect", "{text_file}"], "not a loadable ONNX model"),
        (["memaug_train", "eval", "/no/checkpoint.pt"], "/no/checkpoint.pt not found"),
        (["memaug_train", "export", "/no/checkpoint.pt", "{tmp}/x.onnx"], "/no/checkpoint.pt not found"),
        (["memaug_train", "probe", "/no/checkpoint.pt"], "/no/checkpoint.pt not found"),
        (["memaug_train", "robustness", "/no/model.onnx"], "policy model not found: /no/model.onnx"),
        (["memaug_train", "robustness", "config/policies/go2_memaug.onnx", "--points", "moon"], "no suite point"),
        (["memaug_urdf", "no_such_robot"], "no robots named 'no_such_robot'"),
        (["memaug", "sim", "--no-record", "--duration", "1", "--model", "/no/model.onnx"], "/no/model.onnx"),
        (["memaug", "sim", "--no-record", "--duration", "1", "--scenario", "moon"], "no scenarios named 'moon'"),
        (["memaug", "robot", "--emulator", "--no-record", "--summary-json", "{tmp}/s.json"], "needs the run's bag"),
    ],
)
def test_bad_paths_are_one_named_line(tmp_path: Path, domain_id: int, command: list[str], named: str) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a model")
    args = [a.format(tmp=tmp_path, text_file=text_file) for a in command]
    result = subprocess.run(
        [resolve_executable(args[0]), *args[1:], *(["--log-dir", str(tmp_path / "logs")] if "sim" in args else [])],
        cwd=Path(__file__).parents[2],
        env=local_dds_env(domain_id),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert named in result.stderr, result.stderr
