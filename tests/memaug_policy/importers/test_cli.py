"""`memaug policy import` and `memaug inspect` as a user runs them: one command writes the
policy (and its robot), inspect shows the joint map and observation tables, and every refusal
is one line with exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from memaug_policy.import_cli import main as import_main
from memaug_policy.inspect_cli import main as inspect_main


@pytest.fixture
def legged_gym_mlp(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "policy_1.pt"
    torch.jit.script(torch.nn.Sequential(torch.nn.Linear(48, 16), torch.nn.ELU(), torch.nn.Linear(16, 12))).save(
        str(path)
    )
    return path


def test_import_then_inspect_shows_the_joint_map_and_observation(
    tmp_path: Path, legged_gym_mlp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "go2_legged_gym.onnx"
    assert import_main([str(legged_gym_mlp), "--from", "legged_gym", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    robot = tmp_path / "go2_legged_gym.robot.yaml"
    assert f"wrote {out}: legged_gym policy, no memory, 48 observations, period 20 ms" in printed
    assert f"run the policy with --robot {robot}" in printed
    assert "sim only: the policy observes ['base_linear_velocity']" in printed

    assert inspect_main([str(out)]) == 2  # against go2.yaml: kp 20 is not the bridge's 40
    assert f"--robot {robot}" in capsys.readouterr().err
    assert inspect_main([str(out), "--robot", str(robot)]) == 0
    tables = capsys.readouterr().out
    assert "   0  FL_hip_joint           3   +0.100   20.00   0.50   0.250   +0.100  -" in tables
    assert "   3  FR_hip_joint           0   -0.100" in tables
    assert "     0-2     base_linear_velocity      3        1  -                2" in tables
    assert "48 values; one frame; whole-vector clip 100.0" in tables
    assert "sim only: observes ['base_linear_velocity']" in tables
    assert "assumed     legged_gym's Go2 defaults" in tables


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "isaacgym"], "unknown format 'isaacgym'; known: isaaclab, rsl_rl, mjlab"),
        (["--from", "legged_gym", "--contract", "/no/contract.yaml"], "cannot read contract file /no/contract.yaml"),
        (["--from", "legged_gym", "--robot", "spot"], "spot"),
    ],
)
def test_refusals_are_one_line_and_exit_2(
    tmp_path: Path, legged_gym_mlp: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = import_main([str(legged_gym_mlp), "--out", str(tmp_path / "x.onnx"), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_memaug_policy_import_reports_a_missing_source_without_a_traceback(tmp_path: Path) -> None:
    memaug = Path(sys.executable).with_name("memaug")
    result = subprocess.run(
        [str(memaug), "policy", "import", "/no/policy_1.pt", "--from", "legged_gym", "--out", str(tmp_path / "x.onnx")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "memaug policy import: policy network not found: /no/policy_1.pt"
