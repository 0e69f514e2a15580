"""The ROS install path: colcon builds this repository in a workspace, and the installed
executables find config/ through memaug_common's share folder (the ament index), started
from another folder with only install/setup.bash sourced."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
COLCON = Path(sys.executable).parent / "colcon"


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [f for f in out.splitlines() if f.startswith(("src/", "config/"))]


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # colcon is pinned in requirements-dev.txt, which the test command installs: missing, the
    # set-up is broken, and that is a failure, not a skip.
    assert COLCON.exists(), f"colcon is not installed beside {sys.executable}: run scripts/bootstrap.sh"
    workspace = tmp_path_factory.mktemp("ws")
    checkout = workspace / "src" / "memaug"
    for name in tracked_files():
        target = checkout / name
        target.parent.mkdir(parents=True, exist_ok=True)
        source = REPO / name
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    env = {**os.environ, "PATH": f"{COLCON.parent}:{os.environ['PATH']}"}
    env.pop("MEMAUG_CONFIG_DIR", None)
    build = subprocess.run(
        [str(COLCON), "build", "--base-paths", "src"], cwd=workspace, env=env, capture_output=True, text=True
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return workspace / "install"


def run_installed(install: Path, command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``command`` in bash with only install/setup.bash sourced, from ``cwd`` (not the workspace)."""
    env = {
        key: os.environ[key] for key in ("HOME", "ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE") if key in os.environ
    }
    env["PATH"] = "/usr/bin:/bin"
    return subprocess.run(
        ["bash", "-c", f"source {install}/setup.bash && {command}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_installed_executables_find_config_through_the_share_folder(install: Path, tmp_path: Path) -> None:
    inspect = run_installed(
        install, f"{install}/memaug_policy/lib/memaug_policy/memaug_policy_inspect go2_memaug.onnx", tmp_path
    )
    assert inspect.returncode == 0, inspect.stdout + inspect.stderr
    shared = install / "memaug_common" / "share" / "memaug_common" / "config"
    assert f"model       {shared}/policies/go2_memaug.onnx" in inspect.stdout
    sim = run_installed(
        install,
        f"{install}/memaug_sim/lib/memaug_sim/memaug_sim_node --ros-args -p mode:=realtime -p duration_s:=1.0",
        tmp_path,
    )
    assert sim.returncode == 0, sim.stdout + sim.stderr
    assert "stopped at sim time" in sim.stdout


def test_the_environment_variable_still_overrides(install: Path, tmp_path: Path) -> None:
    (tmp_path / "robots").mkdir()
    shutil.copy(REPO / "config" / "robots" / "go2.yaml", tmp_path / "robots" / "mine.yaml")
    shutil.copy(REPO / "config" / "robots" / "go2.xml", tmp_path / "robots" / "go2.xml")
    probe = run_installed(
        install,
        f"MEMAUG_CONFIG_DIR={tmp_path} {sys.executable} -c 'from memaug_common.paths import config_dir, "
        'resolve_config_file; print(config_dir()); print(resolve_config_file("mine", "robots"))\'',
        tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines() == [str(tmp_path), str(tmp_path / "robots" / "mine.yaml")]


def test_a_checkout_needs_no_ament_index(tmp_path: Path) -> None:
    """pip installs without a ROS environment (no AMENT_PREFIX_PATH) find the checkout's config/."""
    env = {key: value for key, value in os.environ.items() if key not in ("AMENT_PREFIX_PATH", "MEMAUG_CONFIG_DIR")}
    probe = subprocess.run(
        [sys.executable, "-c", "from memaug_common.paths import config_dir; print(config_dir())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, probe.stderr
    assert Path(probe.stdout.strip()).resolve() == (REPO / "config").resolve()
