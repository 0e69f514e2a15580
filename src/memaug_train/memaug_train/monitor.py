"""What a person watches during a long training run: a progress bar and TensorBoard scalars.

Fed one row per PPO iteration (the same dict that goes to RUN/log.jsonl), so the trainer
itself knows nothing of either library.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

#: Row keys shown next to the bar; every numeric key also goes to TensorBoard.
BAR_KEYS = ("mean_return", "mean_episode_length", "steps_per_s", "action_std")


class TrainingMonitor:
    """Progress bar over this invocation's iterations and TensorBoard logs in RUN/tensorboard.

    A resumed run starts at its checkpoint's ``first_iteration`` and ``first_env_steps`` (the
    TensorBoard step): the bar and the curves continue, and points a killed run logged after
    that checkpoint are purged rather than drawn twice.
    """

    def __init__(
        self,
        run_dir: Path,
        label: str,
        first_iteration: int,
        first_env_steps: int,
        iterations: int,
        quiet: bool = False,
    ) -> None:
        self.writer = SummaryWriter(log_dir=str(run_dir / "tensorboard"), purge_step=first_env_steps + 1)
        self.bar = tqdm(
            total=first_iteration + iterations,
            initial=first_iteration,
            desc=label,
            unit="it",
            disable=quiet,
            dynamic_ncols=True,
        )

    def update(self, row: dict[str, float]) -> None:
        step = int(row["env_steps"])
        for key, value in row.items():
            if key not in ("iteration", "env_steps"):
                self.writer.add_scalar(f"train/{key}", value, global_step=step)
        self.bar.set_postfix({k: f"{row[k]:.3g}" for k in BAR_KEYS if k in row}, refresh=False)
        self.bar.update(1)

    def __enter__(self) -> TrainingMonitor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.bar.close()
        self.writer.close()
