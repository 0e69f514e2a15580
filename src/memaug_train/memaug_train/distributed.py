"""Data-parallel training over processes with torch.distributed, as torchrun starts them.

torchrun gives each process it starts WORLD_SIZE, RANK and LOCAL_RANK (and MASTER_ADDR,
MASTER_PORT for the rendezvous). Each rank steps its own worlds (the run's world count divided
over the ranks) from its own seed and computes gradients on its own rollouts. One all-reduce
per minibatch averages the gradients and the policy's KL (which drives the adaptive learning
rate), so every rank takes the same optimizer step from the same parameters: the networks stay
identical bit for bit, which ``Sync.check_in_sync`` verifies after every update. Rank 0 alone
reads and writes the run directory (run.json, log, checkpoints, TensorBoard); what it reads
there reaches the other ranks by broadcast, so machines need not share a file system.

With one process (no torchrun) every operation here is the identity and costs nothing.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

#: Rank r seeds its worlds and its action noise with seed + r * RANK_SEED_STRIDE, so that the
#: ranks of one run, and runs whose seeds differ by less than this, never share worlds.
RANK_SEED_STRIDE = 10_000
#: How long a rank waits for the others at the rendezvous and at each collective: long enough
#: for rank 0 to write a checkpoint while the others wait at the next update.
COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class Ranks:
    """Where this process stands among the run's processes (torchrun's environment)."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    def __post_init__(self) -> None:
        if self.world_size < 1 or not 0 <= self.rank < self.world_size or self.local_rank < 0:
            raise ValueError(
                f"RANK {self.rank} / WORLD_SIZE {self.world_size} / LOCAL_RANK {self.local_rank} do not describe "
                "a process of the run"
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Ranks:
        """The ranks torchrun sets; one process (rank 0 of 1) where they are absent.

        Raises ValueError naming the variable that is not a whole number.
        """
        values = {}
        for key, name in (("world_size", "WORLD_SIZE"), ("rank", "RANK"), ("local_rank", "LOCAL_RANK")):
            text = environ.get(name, "1" if key == "world_size" else "0")
            try:
                values[key] = int(text)
            except ValueError:
                raise ValueError(f"{name}={text!r} is not a whole number") from None
        return cls(**values)

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that logs, checkpoints and writes run.json."""
        return self.rank == 0

    def seed(self, seed: int) -> int:
        """This rank's seed for its worlds and action noise (the run's own seed on rank 0)."""
        return seed + RANK_SEED_STRIDE * self.rank

    def worlds(self, total: int) -> int:
        """This rank's share of ``total`` worlds; ValueError when they do not divide evenly."""
        if total < 1 or total % self.world_size:
            raise ValueError(f"--envs {total} does not divide over {self.world_size} ranks")
        return total // self.world_size


def resolve_device(text: str, ranks: Ranks) -> torch.device:
    """The training device for ``--device`` (auto, cpu, cuda, cuda:N) on this rank.

    Under torchrun with several ranks, ``cuda`` means cuda:LOCAL_RANK (one GPU per process);
    auto is that where CUDA is available, else the CPU. Raises ValueError naming the problem:
    no CUDA device, an index past the last one, a fixed index shared by several ranks.
    """
    if text == "cpu":
        return torch.device("cpu")
    if text == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        text = "cuda"
    if not torch.cuda.is_available():
        raise ValueError(f"--device {text}: torch {torch.__version__} sees no CUDA device on this machine")
    count = torch.cuda.device_count()
    if text == "cuda":
        index = ranks.local_rank if ranks.world_size > 1 else 0
    elif ranks.world_size > 1:
        raise ValueError(f"--device {text}: under torchrun each rank takes cuda:LOCAL_RANK; give --device cuda")
    else:
        index = int(text.removeprefix("cuda:"))
    if index >= count:
        raise ValueError(f"--device cuda:{index}: this machine has {count} CUDA device(s)")
    return torch.device("cuda", index)


def parse_device(text: str) -> str:
    """An argparse type: auto, cpu, cuda or cuda:N (whether the device exists is checked later)."""
    if text in ("auto", "cpu", "cuda") or (text.startswith("cuda:") and text.removeprefix("cuda:").isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"must be auto, cpu, cuda or cuda:N, got {text!r}")


class Sync:
    """The collectives data-parallel PPO needs, over the default process group; with one
    process each returns its input untouched."""

    def __init__(self, ranks: Ranks, device: torch.device) -> None:
        self.ranks = ranks
        self.device = device
        self.active = ranks.world_size > 1

    @classmethod
    def start(cls, ranks: Ranks, device: torch.device) -> Sync:
        """Join the run's process group: NCCL between GPUs, gloo on CPUs (torchrun's
        MASTER_ADDR / MASTER_PORT say where rank 0 waits). One process joins nothing."""
        if ranks.world_size > 1 and not dist.is_initialized():
            backend = "nccl" if device.type == "cuda" else "gloo"
            if device.type == "cuda":
                torch.cuda.set_device(device)
            dist.init_process_group(
                backend,
                rank=ranks.rank,
                world_size=ranks.world_size,
                timeout=COLLECTIVE_TIMEOUT,
                device_id=device if device.type == "cuda" else None,
            )
        return cls(ranks, device)

    def close(self, finished: bool = True) -> None:
        """Leave the process group. A rank that ``finished`` its run first waits for every other
        rank to finish too: one tearing down gloo's connections while another still uses them
        aborts that one (seen once in 15 two-rank runs). After a failure, no wait (the others
        may never come)."""
        if self.active and dist.is_initialized():
            if finished:
                dist.barrier()
            dist.destroy_process_group()

    def broadcast_object(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank (pickled: run.json, a checkpoint's state)."""
        if not self.active:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0, device=self.device if self.device.type == "cuda" else None)
        return box[0]

    def broadcast_parameters(self, module: torch.nn.Module) -> None:
        """Every rank starts from rank 0's parameters and buffers."""
        if not self.active:
            return
        with torch.no_grad():
            for tensor in [*module.parameters(), *module.buffers()]:
                dist.broadcast(tensor.data, src=0)

    def average_gradients(self, parameters: Iterable[torch.nn.Parameter], *scalars: torch.Tensor) -> list[float]:
        """Average the gradients of ``parameters`` and the ``scalars`` over the ranks, in one
        all-reduce; returns the scalars' means. Parameters without a gradient (a part that did
        not learn this update, the same on every rank) are left out."""
        if not self.active:
            return [float(s) for s in scalars]
        grads = [p.grad for p in parameters if p.grad is not None]
        flat = torch.cat([*(g.reshape(-1) for g in grads), *(s.detach().reshape(1).to(self.device) for s in scalars)])
        dist.all_reduce(flat)
        flat /= self.ranks.world_size
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
            offset += grad.numel()
        return flat[offset:].tolist()

    def mean(self, value: float) -> float:
        """The mean of a per-rank number (the rough-ground curriculum's level) over the ranks."""
        if not self.active:
            return value
        box = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(box)
        return float(box) / self.ranks.world_size

    def check_in_sync(self, module: torch.nn.Module, iteration: int) -> None:
        """Raise RuntimeError if any rank's parameters differ from rank 0's in any bit: a digest
        of every parameter's bytes, gathered from all ranks."""
        if not self.active:
            return
        digest = parameter_digest(module)
        digests: list[str | None] = [None] * self.ranks.world_size
        dist.all_gather_object(digests, digest)
        if len(set(digests)) > 1:
            raise RuntimeError(f"the ranks' parameters differ after iteration {iteration}: {digests}")


def parameter_digest(module: torch.nn.Module) -> str:
    """SHA-256 of a module's parameters, in order, byte for byte (on the CPU)."""
    sha = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        sha.update(name.encode())
        sha.update(np.ascontiguousarray(tensor.detach().cpu().numpy()).tobytes())
    return sha.hexdigest()
