"""Data-parallel training with torch.distributed: 2 CPU ranks over gloo on loopback, as torchrun
starts them, and the refusals of `memaug_train train` for runs and machines that do not fit."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from memaug_common.description import load_robot_description
from memaug_train.cli import main as train_cli
from memaug_train.distributed import RANK_SEED_STRIDE, Ranks, resolve_device

GO2 = load_robot_description("go2")
WORKER = Path(__file__).with_name("distributed_worker.py")
#: A tiny run through the CLI: 8 worlds in all, GRU-16, every iteration checkpointed.
TINY = ["--envs", "8", "--hidden", "16", "--threads", "1", "--torch-threads", "1", "--checkpoint-every", "1"]


def torchrun(*args: str, ranks: int = 2) -> subprocess.CompletedProcess:
    """``torchrun --nproc-per-node ranks`` with the rendezvous and gloo on loopback only."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    launch = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={ranks}"]
    launch += ["--master-addr=127.0.0.1", f"--master-port={port}"]
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    try:
        return subprocess.run([*launch, *args], env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"torchrun {' '.join(args)} did not finish in 300 s") from exc


def test_two_ranks_keep_identical_parameters_and_a_resumed_trainer_goes_on_from_the_checkpoint(
    tmp_path: Path,
) -> None:
    """Each rank steps its own worlds (their observations differ), and after every update both
    hold the same parameters bit for bit, and the same Adam moments and learning rate; a trainer
    that loads rank 0's checkpoint (on both ranks, with new worlds) holds exactly what the
    uninterrupted one held, and its next update keeps the ranks identical."""
    done = torchrun(str(WORKER), str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    zero, one = (torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1))

    def same(a: dict, b: dict) -> bool:
        params = all(torch.equal(a["params"][k], b["params"][k]) for k in a["params"])
        adam = all(torch.equal(a["adam"][k][n], b["adam"][k][n]) for k in a["adam"] for n in a["adam"][k])
        return params and adam and a["adam"].keys() == b["adam"].keys() and a["learning_rate"] == b["learning_rate"]

    # The ranks start from rank 0's network although they seed their own.
    assert same(zero["start"], one["start"])
    previous = zero["start"]
    for k in range(2):
        assert not torch.equal(zero["obs"][k], one["obs"][k])  # their own worlds, their own gradients
        assert same(zero["updates"][k], one["updates"][k]), f"ranks differ after update {k + 1}"
        assert any(not torch.equal(zero["updates"][k]["params"][n], previous["params"][n]) for n in previous["params"])
        previous = zero["updates"][k]
    # Steps count both ranks' worlds: 2 iterations x 12 steps x 4 worlds x 2 ranks.
    assert zero["updates"][1]["env_steps"] == one["updates"][1]["env_steps"] == 2 * 12 * 4 * 2
    uninterrupted = zero["updates"][1]
    for rank in (zero, one):
        loaded = rank["loaded"]
        assert same(loaded, uninterrupted)
        assert (loaded["iteration"], loaded["env_steps"]) == (uninterrupted["iteration"], uninterrupted["env_steps"])
    assert same(zero["resumed_update"], one["resumed_update"])
    assert not same(zero["resumed_update"], uninterrupted)


def test_torchrun_trains_on_two_ranks_rank_zero_alone_writes_and_the_run_resumes_and_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`torchrun --nproc-per-node 2 -m memaug_train train`: one run directory, written by rank 0
    (one log row per iteration, counting both ranks' worlds), resumed on 2 ranks as an
    uninterrupted run would count on, refused on 1, exported with where it trained."""
    run = tmp_path / "run"
    train = ["-m", "memaug_train", "train", "--run-dir", str(run), "--quiet"]
    first = torchrun(*train, "--iterations", "2", *TINY)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.count("training on cpu x 2 ranks, 4 worlds each") == 1  # rank 0 alone speaks
    meta = json.loads((run / "run.json").read_text())
    assert (meta["envs"], meta["world_size"], meta["backend"], meta["device"]) == (8, 2, "mujoco", "cpu")
    again = torchrun(*train, "--iterations", "1", "--resume", "--threads", "1", "--torch-threads", "1")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resumed" in again.stdout and f"{run} at iteration 2 (384 env steps)" in again.stdout
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    # 24 steps x 8 worlds an iteration, as one uninterrupted 3-iteration run counts them.
    assert [(r["iteration"], r["env_steps"]) for r in rows] == [(1, 192), (2, 384), (3, 576)]
    state = torch.load(run / "checkpoint.pt", weights_only=False)
    assert state["iteration"] == 3
    # Adam took every minibatch step of all 3 iterations (3 epochs x 2 minibatches each).
    assert {int(s["step"]) for s in state["optimizer"]["state"].values()} == {3 * 3 * 2}
    assert list(run.glob("*.tmp")) == []
    # One process cannot resume what two trained: one line, no traceback.
    capsys.readouterr()
    assert train_cli(["train", "--run-dir", str(run), "--iterations", "1", "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == f"memaug_train: {run} trained on 2 rank(s), this is 1: resume it with torchrun --nproc-per-node 2\n"
    from memaug_policy.model import check_compatible, load_policy

    assert train_cli(["export", str(run / "checkpoint.pt"), str(tmp_path / "policy.onnx")]) == 0
    policy = load_policy(tmp_path / "policy.onnx")
    check_compatible(policy, GO2)
    provenance = policy.metadata.provenance
    assert (provenance["backend"], provenance["device"], provenance["world_size"]) == ("mujoco", "cpu", 2)
    assert provenance["env_steps"] == 576


def test_a_run_records_backend_device_and_ranks_and_an_older_run_resumes_as_one_process_on_mujoco(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """run.json says where a run trains; a run.json from before that record (the lead's long
    runs) resumes as what it was, C MuJoCo in one process, and gets the record; a resume on
    another backend is one named refusal."""
    run = tmp_path / "run"
    assert train_cli(["train", "--run-dir", str(run), "--iterations", "1", "--quiet", *TINY]) == 0
    meta = json.loads((run / "run.json").read_text())
    assert (meta["backend"], meta["device"], meta["world_size"]) == ("mujoco", "cpu", 1)
    older = {k: v for k, v in meta.items() if k not in ("backend", "device", "world_size")}
    (run / "run.json").write_text(json.dumps(older))
    resume = ["train", "--run-dir", str(run), "--iterations", "1", "--resume", "--quiet", "--threads", "1"]
    capsys.readouterr()
    assert train_cli(resume) == 0
    assert "changed since" not in capsys.readouterr().err
    meta = json.loads((run / "run.json").read_text())
    assert (meta["backend"], meta["device"], meta["world_size"]) == ("mujoco", "cpu", 1)
    (run / "run.json").write_text(json.dumps({**meta, "backend": "warp"}))
    assert train_cli([*resume, "--backend", "mujoco"]) == 2
    assert capsys.readouterr().err == (
        f"memaug_train: {run} trained on --backend warp; it cannot resume on --backend mujoco\n"
    )


def test_worlds_that_do_not_divide_over_the_ranks_are_refused_before_the_ranks_meet(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every rank reaches this refusal alone (it needs no other rank), so none waits for the rest."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert train_cli(["train", "--run-dir", str(tmp_path / "run"), "--envs", "7", "--quiet"]) == 2
    assert capsys.readouterr().err == "memaug_train: --envs 7 does not divide over 2 ranks\n"
    monkeypatch.setenv("RANK", "1")  # the other rank exits alike, and leaves the line to rank 0
    assert train_cli(["train", "--run-dir", str(tmp_path / "run"), "--envs", "7", "--quiet"]) == 2
    assert capsys.readouterr().err == ""
    assert not (tmp_path / "run").exists()


def test_a_cuda_device_without_a_gpu_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A machine with a GPU runs this too, as one whose torch sees none (what CUDA_VISIBLE_DEVICES="" gives).
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    run = ["train", "--run-dir", str(tmp_path / "run"), "--quiet"]
    for device in ("cuda", "cuda:1"):
        assert train_cli([*run, "--device", device]) == 2
        assert capsys.readouterr().err == (
            f"memaug_train: --device {device}: torch {torch.__version__} sees no CUDA device on this machine\n"
        )
    assert resolve_device("auto", Ranks()) == torch.device("cpu")
    assert not (tmp_path / "run").exists()


def test_a_device_that_is_no_device_and_a_missing_backend_are_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = ["train", "--run-dir", str(tmp_path / "run"), "--quiet"]
    with pytest.raises(SystemExit) as refused:
        train_cli([*run, "--device", "gpu"])
    assert refused.value.code == 2
    assert "argument --device: must be auto, cpu, cuda or cuda:N, got 'gpu'" in capsys.readouterr().err
    # The default install has no warp; the tests install the gpu extra, so hide it here.
    real_find_spec = importlib.util.find_spec
    hidden = ("mujoco_warp", "warp")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name in hidden else real_find_spec(name))
    assert train_cli([*run, "--backend", "warp"]) == 2
    assert capsys.readouterr().err == (
        "memaug_train: --backend warp: mujoco-warp and warp-lang not installed here "
        "(pip install -e 'src/memaug_train[gpu]')\n"
    )
    assert not (tmp_path / "run").exists()


def test_ranks_come_from_torchruns_environment() -> None:
    assert Ranks.from_environment({}) == Ranks(1, 0, 0)
    ranks = Ranks.from_environment({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert (ranks.world_size, ranks.rank, ranks.local_rank, ranks.is_main) == (4, 3, 1, False)
    assert ranks.seed(7) == 7 + 3 * RANK_SEED_STRIDE and Ranks().seed(7) == 7
    assert ranks.worlds(512) == 128
    with pytest.raises(ValueError, match="WORLD_SIZE='two' is not a whole number"):
        Ranks.from_environment({"WORLD_SIZE": "two"})
    with pytest.raises(ValueError, match="RANK 2 / WORLD_SIZE 2"):
        Ranks(2, 2, 0)
    with pytest.raises(ValueError, match="--envs 6 does not divide over 4 ranks"):
        ranks.worlds(6)
