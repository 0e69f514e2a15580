"""One rank of test_distributed's data-parallel run, as torchrun starts it (not a test itself).

    torchrun --nproc-per-node 2 tests/memaug_train/distributed_worker.py OUT

Two PPO iterations over this rank's own 4 worlds, then rank 0 checkpoints, and a new trainer
(new worlds, as a resumed process has) loads the checkpoint and takes one more iteration. Each
rank saves to OUT/rank{R}.pt what the test compares across ranks: the parameters after every
update, its rollouts' observations, the learning rate, and the resumed trainer's state.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from memaug_common.description import load_robot_description
from memaug_train.distributed import Ranks, Sync
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.networks import NetConfig
from memaug_train.ppo import PpoConfig, RecurrentPpo
from memaug_train.tasks import LEFT_LEGS, TaskSampler, leg_joints

GO2 = load_robot_description("go2")
CONFIG = PpoConfig(steps_per_iteration=12, net=NetConfig(hidden=16, head=(32,)))


def trainer(ranks: Ranks, sync: Sync) -> RecurrentPpo:
    env = VecGo2Env(
        GO2,
        EnvConfig(num_envs=4, threads=1, episode_steps=12, randomization=GO2.randomization),
        TaskSampler(leg_joints(GO2, LEFT_LEGS)),
        seed=ranks.seed(0),
    )
    return RecurrentPpo(env, CONFIG, seed=ranks.seed(0), sync=sync)


def snapshot(ppo: RecurrentPpo) -> dict:
    optimizer = ppo.optimizer.state_dict()["state"]
    return {
        "params": {k: v.detach().clone() for k, v in ppo.model.state_dict().items()},
        "adam": {k: {name: t.clone() for name, t in v.items()} for k, v in optimizer.items()},
        "learning_rate": ppo.learning_rate,
        "iteration": ppo.iteration,
        "env_steps": ppo.env_steps,
    }


def main(out: Path) -> None:
    torch.set_num_threads(1)
    ranks = Ranks.from_environment()
    sync = Sync.start(ranks, torch.device("cpu"))
    ppo = trainer(ranks, sync)
    record: dict = {"start": snapshot(ppo), "updates": [], "obs": []}
    for _ in range(2):
        buf = ppo.collect()
        ppo.update(buf)
        ppo.iteration += 1
        record["obs"].append(buf["obs"].clone())
        record["updates"].append(snapshot(ppo))
    if ranks.is_main:
        ppo.save(out / "checkpoint.pt")
    resumed = trainer(ranks, sync)
    resumed.load(out / "checkpoint.pt")
    record["loaded"] = snapshot(resumed)
    resumed.update(resumed.collect())
    record["resumed_update"] = snapshot(resumed)
    torch.save(record, out / f"rank{ranks.rank}.pt")
    sync.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
