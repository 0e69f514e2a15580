"""Recurrent PPO with memory augmentation.

Each iteration collects T steps from N environments, hidden states stored at the start of
the rollout, then updates actor and critic by truncated BPTT over the stored sequences.

Memory augmentation (Bao et al., arXiv 2502.01521): every collected sequence is also
transformed by the robot's symmetry g = (g_o, g_a), here the left-right mirror. How the
augmented samples enter the losses, precisely:

* the augmented observation sequence g_o(o_1..o_T) runs through the actor's and critic's
  RNNs with its *own* hidden state; the augmented hidden state at the start of update k is
  the final augmented hidden state of update k-1 (zeroed where an episode began);
* actor: the augmented sample contributes a clipped surrogate term with ratio
  pi_new(g_a(a_t) | g_o(o_<=t)) / pi_old(a_t | o_<=t) and the *original* advantage A_t:
  g maps a trajectory of one task onto an equally likely trajectory of the mirrored task
  with the same return, so its behaviour probability and advantage are the original's;
* critic: the augmented value V(g_o(o_<=t)) regresses onto the original return R_t
  (the value is invariant under g);
* the losses average original and augmented samples with equal weight.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from memaug_common.symmetry import MirrorSymmetry
from memaug_policy.observation import ObservationLayout
from memaug_train.distributed import Ranks, Sync
from memaug_train.env import VecGo2Env
from memaug_train.fault_teacher import FaultTeacher, faulted_steps
from memaug_train.hindsight import CommandColumns, imitation_loss, relabel_commands
from memaug_train.networks import ActorCritic, Hidden, NetConfig, _index, _scale, hidden_to


@dataclass(frozen=True)
class PpoConfig:
    steps_per_iteration: int = 24
    epochs: int = 3
    minibatches: int = 2
    gamma: float = 0.99
    lam: float = 0.95
    clip: float = 0.2
    value_coef: float = 1.0
    entropy_coef: float = 0.005
    learning_rate: float = 1e-3
    desired_kl: float = 0.01
    max_grad_norm: float = 1.0
    augment: bool = True
    net: NetConfig = field(default_factory=NetConfig)
    #: Iterations at the start of the run (counted from the first) in which only the critic
    #: learns: a new critic under an actor taken from another run (--init-actor) first learns
    #: its values, so that its first advantages do not wreck the actor.
    critic_warmup_iterations: int = 0
    #: Weight of the velocity estimator's squared error (NetConfig.velocity_estimator). At 1.0
    #: it pulled the warm-started actor's memory away from its gait: returns halved in 80
    #: iterations (runs/memaug_dr3, this session); 0.2 lets PPO's gradients lead.
    estimator_coef: float = 0.2
    #: Fixed learning rate of the concurrent estimator (NetConfig.estimator_hidden).
    estimator_learning_rate: float = 1e-3
    #: The estimate's input weights (ActorCritic.estimate_input) learn at this multiple of the
    #: policy's adaptive rate. Warm-started beside v3's head at 1x, they had grown to 4 % of a
    #: memory input's weight after 160 iterations (runs/ce1): the actor hardly read the estimate.
    estimate_input_rate_scale: float = 1.0
    #: Upper bound on the policy's action noise (the Gaussian's std, in action units; x the
    #: action scale for radians), or None for none. PPO tunes its policy under that noise,
    #: and the robot runs the noise-free mean: at std 0.49 the go2_memaug_dr actor's noisy gait
    #: walked 0.56 m/s for 0.5 commanded on randomized robots and its mean 0.62 (0.73 on the
    #: nominal robot), so the deployed policy ran fast by what the noise cost. A cap keeps the
    #: gait that is trained close to the one that is shipped; the entropy bonus still acts below it.
    max_action_std: float | None = None
    #: Weight of hindsight command relabelling (memaug_train.hindsight): the actor copies its
    #: own noise-free actions under the command each robot achieved. 0 turns it off; it needs
    #: the asymmetric critic's input (the true base velocity).
    hindsight_coef: float = 0.0
    #: Share of the robots that act noise-free (their actions are the policy's mean) when
    #: hindsight is on; then only they are relabelled, and PPO's surrogate leaves them out
    #: (their actions were not drawn from the policy). Relabelled from noisy robots, the
    #: command is the speed the *noisy* gait made, and the noise-free target actions make
    #: another: dr12's deployed speed drifted 0.51 -> 0.63 m/s for 0.5 commanded. 0: every
    #: robot explores and every healthy one is relabelled.
    hindsight_clean_share: float = 0.0
    #: A checkpoint (its run.json beside it) whose frozen actor the faulted robots copy
    #: (memaug_train.fault_teacher), with weight ``teacher_coef``: a change aimed at the healthy
    #: gait must not cost the fault skill the method is about. None, 0: off.
    teacher: str | None = None
    teacher_coef: float = 0.0
    #: The teacher is copied where some motor keeps less than this fraction of its torque (or
    #: is locked): the severe faults. Mild ones walk with the healthy gait, which is the student's.
    teacher_torque_left_below: float = 0.5

    def __post_init__(self) -> None:
        if self.max_action_std is not None and not self.max_action_std > 0:
            raise ValueError(f"PpoConfig.max_action_std must be positive, got {self.max_action_std}")
        if self.hindsight_coef < 0:
            raise ValueError(f"PpoConfig.hindsight_coef must not be negative, got {self.hindsight_coef}")
        if self.hindsight_coef > 0 and self.net.privileged_dim == 0:
            raise ValueError("PpoConfig.hindsight_coef needs the privileged critic (the true base velocity)")
        if not 0.0 <= self.hindsight_clean_share < 1.0:
            raise ValueError(f"PpoConfig.hindsight_clean_share must be in [0, 1), got {self.hindsight_clean_share}")
        if self.hindsight_clean_share > 0 and self.hindsight_coef == 0:
            raise ValueError("PpoConfig.hindsight_clean_share needs hindsight (hindsight_coef > 0)")
        if self.teacher_coef < 0:
            raise ValueError(f"PpoConfig.teacher_coef must not be negative, got {self.teacher_coef}")
        if (self.teacher is None) != (self.teacher_coef == 0):
            raise ValueError(
                "PpoConfig.teacher and teacher_coef go together: a teacher needs a weight and a weight a teacher"
            )
        if not 0.0 < self.teacher_torque_left_below <= 1.0:
            raise ValueError(
                f"PpoConfig.teacher_torque_left_below must be in (0, 1], got {self.teacher_torque_left_below}"
            )
        if self.teacher is not None and self.net.privileged_dim == 0:
            raise ValueError("PpoConfig.teacher needs the privileged critic (which robots are faulted, and when)")


#: The optimizer's parameter groups: everything else, the concurrent estimator, the estimate's
#: input weights (the last two only with a concurrent estimator).
_POLICY_GROUP, _ESTIMATOR_GROUP, _ESTIMATE_INPUT_GROUP = 0, 1, 2


def _block_diagonal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + b.shape[0], a.shape[1] + b.shape[1]))
    out[: a.shape[0], : a.shape[1]] = a
    out[a.shape[0] :, a.shape[1] :] = b
    return out


def gaussian_kl(
    mean_old: torch.Tensor, log_std_old: torch.Tensor, mean_new: torch.Tensor, log_std_new: torch.Tensor
) -> torch.Tensor:
    """Mean KL(old || new) between diagonal Gaussians, summed over action dimensions.

    Exact, so the adaptive learning rate follows the policy's real change rather than the
    noise of a sampled log-ratio estimate.
    """
    var_old, var_new = (2 * log_std_old).exp(), (2 * log_std_new).exp()
    kl = log_std_new - log_std_old + (var_old + (mean_old - mean_new) ** 2) / (2 * var_new) - 0.5
    return kl.sum(-1).mean()


class Mirror:
    """g_o and g_a as torch functions, from the observation layout and the robot's symmetry.

    Both are signed permutations, so each is one matrix built by mirroring the unit vectors
    with the numpy definitions (one source of truth) and applied as ``x @ M`` on whatever
    device ``x`` lives: [..., D] -> [..., D] and [..., A] -> [..., A], exact in float32.
    """

    def __init__(
        self,
        layout: ObservationLayout,
        symmetry: MirrorSymmetry,
        device: torch.device,
        privileged: ObservationLayout | None = None,
    ) -> None:
        obs = layout.mirror(np.eye(layout.dim), symmetry)
        self.obs_matrix = torch.from_numpy(obs).float().to(device)
        critic = (
            obs if privileged is None else _block_diagonal(obs, privileged.mirror(np.eye(privileged.dim), symmetry))
        )
        self.critic_matrix = torch.from_numpy(critic).float().to(device)
        joints = len(symmetry.joint_signs)
        self.action_matrix = torch.from_numpy(symmetry.joints(np.eye(joints))).float().to(device)

    def obs(self, obs: torch.Tensor) -> torch.Tensor:
        return obs @ self.obs_matrix

    def critic_obs(self, critic_obs: torch.Tensor) -> torch.Tensor:
        """g_o on the critic's input: the observation and the privileged terms after it."""
        return critic_obs @ self.critic_matrix

    def actions(self, actions: torch.Tensor) -> torch.Tensor:
        return actions @ self.action_matrix


class RecurrentPpo:
    """PPO on ``env``. The networks, rollout buffers and updates live on ``device`` (a GPU
    where there is one); the environment always steps on the CPU.

    ``sync``: this process's place in a data-parallel run (memaug_train.distributed): ``env``
    holds this rank's worlds, gradients and the KL are averaged over the ranks, the ranks start
    from rank 0's parameters, and rank 0 alone writes the log and checkpoints. None: one process.
    """

    def __init__(
        self,
        env: VecGo2Env,
        config: PpoConfig,
        seed: int = 0,
        device: str | torch.device = "cpu",
        sync: Sync | None = None,
    ) -> None:
        torch.manual_seed(seed)
        self.env, self.config = env, config
        self.device = torch.device(device)
        self.sync = sync if sync is not None else Sync(Ranks(), self.device)
        n = env.config.num_envs
        self.model = ActorCritic(env.layout.dim, env.description.num_joints, config.net).to(self.device)
        # Optimizer groups, in the order of the _*_GROUP indices. The concurrent estimator learns
        # at its own fixed rate: the adaptive rate below follows the policy's KL, which says
        # nothing about a regression. The estimate's input weights start at zero beside a
        # trained head: they learn at a multiple of the policy's rate.
        model = self.model
        estimator, estimate_input = model.estimator_parameters(), model.estimate_input_parameters()
        own = {id(p) for p in [*estimator, *estimate_input]}
        groups: list[dict] = [{"params": [p for p in model.parameters() if id(p) not in own]}]
        if estimator:
            groups.append({"params": estimator, "lr": config.estimator_learning_rate})
            groups.append({"params": estimate_input, "lr": config.learning_rate * config.estimate_input_rate_scale})
        self.optimizer = torch.optim.Adam(groups, lr=config.learning_rate)
        self.learning_rate = config.learning_rate
        self.privileged = config.net.privileged_dim > 0
        if self.privileged and config.net.privileged_dim != env.privileged_layout.dim:
            raise ValueError(
                f"NetConfig.privileged_dim {config.net.privileged_dim} != env's {env.privileged_layout.dim}"
            )
        self.mirror = Mirror(
            env.layout, env.description.mirror, self.device, env.privileged_layout if self.privileged else None
        )
        #: Where the command, the true velocity and the fault sit in the inputs (hindsight and the
        #: teacher read them); None without the privileged critic, which both need.
        self.columns = (
            CommandColumns.for_layouts(env.layout, env.privileged_layout, self.device) if self.privileged else None
        )
        self.teacher = (
            FaultTeacher(Path(config.teacher), n, 2 if config.augment else 1, self.device)
            if config.teacher is not None
            else None
        )
        #: [N] True for the robots that act noise-free (PpoConfig.hindsight_clean_share): the first ones.
        self.clean = torch.arange(n, device=self.device) < round(config.hindsight_clean_share * n)
        self.sync.broadcast_parameters(self.model)
        self.obs = self._tensor(env.reset())
        self.critic_obs = self._critic_input(self.obs, env.initial_privileged())
        self.hidden = _to_device(self.model.initial(n), self.device)
        self.aug_hidden = _to_device(self.model.initial(n), self.device)
        self.starts = torch.ones(n, device=self.device)
        self.iteration = 0
        self.env_steps = 0
        # Running episode sums on the training device: a step's rewards need not leave it.
        self.episode_returns = torch.zeros(n, dtype=torch.float64, device=self.device)
        self.episode_lengths = torch.zeros(n, dtype=torch.float64, device=self.device)
        self.finished_returns: list[float] = []
        self.finished_lengths: list[float] = []

    # --- collection ---------------------------------------------------------------------
    @torch.no_grad()
    def collect(self) -> dict[str, torch.Tensor]:
        cfg, env, model = self.config, self.env, self.model
        steps, n = cfg.steps_per_iteration, env.config.num_envs
        joints = env.description.num_joints

        def zeros(*shape: int) -> torch.Tensor:
            return torch.zeros(steps, n, *shape, device=self.device)

        buf = {
            "obs": zeros(env.layout.dim),
            "critic_obs": zeros(self.critic_obs.shape[1]),
            "actions": zeros(joints),
            "logp": zeros(),
            "mean": zeros(joints),
            "values": zeros(),
            "rewards": zeros(),
            "dones": zeros(),
            "starts": zeros(),
        }
        # Each step's ended episodes and their sums, kept on the device: they come to the host
        # once, after the rollout (_log_finished).
        ended_log = torch.zeros(steps, n, dtype=torch.bool, device=self.device)
        sums_log = torch.zeros(steps, 2, n, dtype=torch.float64, device=self.device)
        h_actor, h_critic = self.hidden
        buf_h0 = (h_actor, h_critic)
        buf["log_std"] = model.log_std.detach().clone()
        for t in range(steps):
            buf["obs"][t], buf["critic_obs"][t], buf["starts"][t] = self.obs, self.critic_obs, self.starts
            h_actor, h_critic = _scale(h_actor, 1 - self.starts), _scale(h_critic, 1 - self.starts)
            mean, h_actor = model.act_step(self.obs, h_actor)
            value, h_critic = model.value_step(self.critic_obs, h_critic)
            dist = model.distribution(mean)
            action = torch.where(self.clean[:, None], mean, dist.sample())
            result = env.step(action)
            reward = self._tensor(result.reward)
            truncated = self._tensor(result.truncated)
            # Time-outs are not failures: bootstrap with the value instead of ending the return.
            reward = reward + cfg.gamma * value * truncated
            ended = torch.as_tensor(result.terminated | result.truncated, device=self.device)
            done = ended.float()
            buf["actions"][t], buf["logp"][t] = action, dist.log_prob(action).sum(-1)
            buf["mean"][t] = mean
            buf["values"][t], buf["rewards"][t], buf["dones"][t] = value, reward, done
            self.obs, self.starts = self._tensor(result.obs), done
            self.critic_obs = self._critic_input(self.obs, result.privileged)
            self.episode_returns += torch.as_tensor(result.reward, dtype=torch.float64, device=self.device)
            self.episode_lengths += 1
            ended_log[t], sums_log[t, 0], sums_log[t, 1] = ended, self.episode_returns, self.episode_lengths
            self.episode_returns.masked_fill_(ended, 0.0)
            self.episode_lengths.masked_fill_(ended, 0.0)
        self._log_finished(ended_log, sums_log)
        env.draw_ahead()  # episodes drawn ahead: the next ones of the robots whose drawn one began
        self.hidden = (h_actor, h_critic)
        last_value, _ = model.value_step(self.critic_obs, _scale(h_critic, 1 - self.starts))
        buf["advantages"], buf["returns"] = self._gae(buf, last_value)
        buf["h0"] = buf_h0  # type: ignore[assignment]
        self.env_steps += steps * n * self.sync.ranks.world_size
        return buf

    def _critic_input(self, obs: torch.Tensor, privileged: np.ndarray) -> torch.Tensor:
        """[N, D (+ P)]: what the critic reads, the observation and, for an asymmetric critic,
        the privileged terms after it."""
        return torch.cat([obs, self._tensor(privileged)], dim=1) if self.privileged else obs

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        """A float32 copy of an environment array on the training device."""
        return torch.as_tensor(array, dtype=torch.float32, device=self.device)

    def _log_finished(self, ended: torch.Tensor, sums: torch.Tensor) -> None:
        """Add the episodes that ended during a rollout to the log, step by step and robot by
        robot: ``ended`` [T, N] bool, ``sums`` [T, 2, N] their returns and lengths then."""
        ended_host, sums_host = ended.cpu().numpy(), sums.cpu().numpy()
        self.finished_returns.extend(sums_host[:, 0][ended_host].tolist())
        self.finished_lengths.extend(sums_host[:, 1][ended_host].tolist())

    def _gae(self, buf: dict[str, torch.Tensor], last_value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        advantages = torch.zeros_like(buf["rewards"])
        gae = torch.zeros_like(last_value)
        next_value = last_value
        for t in reversed(range(cfg.steps_per_iteration)):
            not_done = 1.0 - buf["dones"][t]
            delta = buf["rewards"][t] + cfg.gamma * next_value * not_done - buf["values"][t]
            gae = delta + cfg.gamma * cfg.lam * not_done * gae
            advantages[t] = gae
            next_value = buf["values"][t]
        returns = advantages + buf["values"]
        return (advantages - advantages.mean()) / (advantages.std() + 1e-8), returns

    # --- update -------------------------------------------------------------------------
    def update(self, buf: dict[str, torch.Tensor]) -> dict[str, float]:
        cfg, model = self.config, self.model
        n = self.env.config.num_envs
        h0_actor, h0_critic = buf["h0"]
        actor_learns = self.iteration >= cfg.critic_warmup_iterations
        if cfg.augment:
            aug_obs = self.mirror.obs(buf["obs"])
            aug_critic_obs = self.mirror.critic_obs(buf["critic_obs"])
            aug_actions = self.mirror.actions(buf["actions"])
        stats: dict[str, list[float]] = {"surrogate": [], "value": [], "entropy": [], "kl": [], "velocity_error": []}
        velocity = self._velocity_columns()
        # Per sequence (the rollout, then its mirror image): relabelled obs, target actions.
        hindsight: list[tuple[torch.Tensor, torch.Tensor]] = []
        if cfg.hindsight_coef > 0 and self.columns is not None:
            stats["hindsight"] = []
            relabelled, hindsight_mask = relabel_commands(buf["obs"], buf["critic_obs"], buf["starts"], self.columns)
            if self.clean.any():
                hindsight_mask = hindsight_mask * self.clean.float()
            hindsight.append((relabelled, buf["mean"]))
            if cfg.augment:
                hindsight.append((self.mirror.obs(relabelled), self.mirror.actions(buf["mean"])))
        # Per sequence: the teacher's actions; where they are copied: the faulted steps [T, N].
        taught: list[torch.Tensor] = []
        if self.teacher is not None and self.columns is not None:
            stats["teacher"] = []
            columns = self.columns
            faulted = faulted_steps(
                buf["critic_obs"], columns.torque_left, columns.locked, cfg.teacher_torque_left_below
            )
            taught.append(self.teacher.actions(0, buf["obs"], buf["starts"]))
            if cfg.augment:
                taught.append(self.teacher.actions(1, aug_obs, buf["starts"]))
        for _ in range(cfg.epochs):
            for mb in torch.randperm(n).chunk(cfg.minibatches):
                starts = buf["starts"][:, mb]
                explored = (~self.clean[mb]).float()  # [robots of the minibatch]: in the surrogate
                sequences = [
                    (
                        buf["obs"][:, mb],
                        buf["critic_obs"][:, mb],
                        buf["actions"][:, mb],
                        _index(h0_actor, mb),
                        _index(h0_critic, mb),
                    )
                ]
                if cfg.augment:
                    h_aug_actor, h_aug_critic = self.aug_hidden
                    sequences.append(
                        (
                            aug_obs[:, mb],
                            aug_critic_obs[:, mb],
                            aug_actions[:, mb],
                            _index(h_aug_actor, mb),
                            _index(h_aug_critic, mb),
                        )
                    )
                surrogate_terms, value_terms, entropy_terms, estimator_terms = [], [], [], []
                hindsight_terms, teacher_terms = [], []
                kl = torch.tensor(0.0)
                for k, (obs, critic_obs, actions, ha, hc) in enumerate(sequences):
                    y, _ = model.actor_sequence(obs, ha, starts)
                    mean = model.actor_mean(y)
                    dist = model.distribution(mean)
                    logp = dist.log_prob(actions).sum(-1)
                    ratio = torch.exp(logp - buf["logp"][:, mb])
                    adv = buf["advantages"][:, mb]
                    clipped = torch.min(ratio * adv, torch.clamp(ratio, 1 - cfg.clip, 1 + cfg.clip) * adv)
                    surrogate_terms.append(-(clipped * explored).sum() / (explored.sum() * len(clipped)).clamp(min=1))
                    yc, _ = model.critic_memory.sequence(critic_obs, hc, starts)
                    value = model.critic_head(yc).squeeze(-1)
                    value_terms.append((value - buf["returns"][:, mb]).pow(2).mean())
                    entropy_terms.append(dist.entropy().sum(-1).mean())
                    estimate = model.velocity_estimate(y)
                    if estimate is not None and velocity is not None:
                        estimator_terms.append((estimate - critic_obs[..., velocity]).pow(2).sum(-1).mean())
                    if k == 0:
                        kl = gaussian_kl(buf["mean"][:, mb], buf["log_std"], mean, model.log_std).detach()
                    if hindsight:
                        relabelled_obs, targets = hindsight[k]
                        yh, _ = model.actor_sequence(relabelled_obs[:, mb], ha, starts)
                        hindsight_terms.append(imitation_loss(model.actor_mean(yh), targets[:, mb], hindsight_mask[mb]))
                    if taught:
                        teacher_terms.append(imitation_loss(mean, taught[k][:, mb], faulted[:, mb]))
                surrogate = torch.stack(surrogate_terms).mean()
                value_loss = torch.stack(value_terms).mean()
                entropy = torch.stack(entropy_terms).mean()
                loss = cfg.value_coef * value_loss
                estimator = torch.stack(estimator_terms).mean() if estimator_terms else torch.tensor(0.0)
                if actor_learns:
                    loss = loss + surrogate - cfg.entropy_coef * entropy + cfg.estimator_coef * estimator
                if actor_learns and hindsight_terms:
                    imitation = torch.stack(hindsight_terms).mean()
                    loss = loss + cfg.hindsight_coef * imitation
                    stats["hindsight"].append(float(imitation.detach()))
                if actor_learns and teacher_terms:
                    copying = torch.stack(teacher_terms).mean()
                    loss = loss + cfg.teacher_coef * copying
                    stats["teacher"].append(float(copying.detach()))
                self.optimizer.zero_grad()
                loss.backward()
                (kl_mean,) = self.sync.average_gradients(model.parameters(), kl)
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                self.optimizer.step()
                self._cap_action_std()
                if actor_learns:  # the KL of an actor that does not learn says nothing
                    self._adapt_learning_rate(kl_mean)
                for key, value_ in (
                    ("surrogate", surrogate),
                    ("value", value_loss),
                    ("entropy", entropy),
                    ("velocity_error", estimator),
                ):
                    stats[key].append(float(value_.detach()))
                stats["kl"].append(kl_mean)  # over the ranks: what the learning rate follows
        if cfg.augment:
            self._carry_augmented_hidden(aug_obs, aug_critic_obs, buf["starts"])
        return {key: float(np.mean(values)) for key, values in stats.items() if values}

    @torch.no_grad()
    def _cap_action_std(self) -> None:
        if self.config.max_action_std is not None:
            self.model.log_std.clamp_(max=math.log(self.config.max_action_std))

    def _velocity_columns(self) -> slice | None:
        """Where the true base velocity sits in the critic's input (scaled), if it is there."""
        if not self.privileged:
            return None
        columns = self.env.privileged_layout.slices()["base_linear_velocity"]
        offset = self.env.layout.dim
        return slice(offset + columns.start, offset + columns.stop)

    @torch.no_grad()
    def _carry_augmented_hidden(
        self, aug_obs: torch.Tensor, aug_critic_obs: torch.Tensor, starts: torch.Tensor
    ) -> None:
        """The final augmented hidden state of this update starts the next one."""
        h_actor, h_critic = self.aug_hidden
        _, h_actor = self.model.actor_sequence(aug_obs, h_actor, starts)
        _, h_critic = self.model.critic_memory.sequence(aug_critic_obs, h_critic, starts)
        self.aug_hidden = (h_actor, h_critic)

    def _adapt_learning_rate(self, kl: float) -> None:
        if kl > 2.0 * self.config.desired_kl:
            self.learning_rate = max(1e-5, self.learning_rate / 1.5)
        elif kl < 0.5 * self.config.desired_kl:
            self.learning_rate = min(1e-2, self.learning_rate * 1.5)
        groups = self.optimizer.param_groups
        groups[_POLICY_GROUP]["lr"] = self.learning_rate  # the estimator's group keeps its own rate
        if len(groups) > _ESTIMATE_INPUT_GROUP:
            groups[_ESTIMATE_INPUT_GROUP]["lr"] = self.learning_rate * self.config.estimate_input_rate_scale

    # --- loop, checkpoints --------------------------------------------------------------
    def train(
        self,
        iterations: int,
        run_dir: Path,
        checkpoint_every: int = 50,
        on_iteration: Callable[[dict[str, float]], None] | None = None,
    ) -> None:
        """``iterations`` more iterations; rank 0 (the only process, without torchrun) appends a
        row per iteration to RUN/log.jsonl, hands it to ``on_iteration`` and checkpoints every
        ``checkpoint_every`` and at the end. Its rows are the run's: steps and speeds count every
        rank's worlds, returns and losses are rank 0's own."""
        sync, main = self.sync, self.sync.ranks.is_main
        if main:
            run_dir.mkdir(parents=True, exist_ok=True)
        log = (run_dir / "log.jsonl").open("a") if main else None
        worlds = sync.ranks.world_size
        end = self.iteration + iterations
        while self.iteration < end:
            t0 = time.perf_counter()
            buf = self.collect()
            # The rough-ground curriculum follows every rank's falls, and stays one level.
            self.env.terrain_level = sync.mean(self.env.terrain_level)
            t1 = time.perf_counter()
            stats = self.update(buf)
            t2 = time.perf_counter()
            self.iteration += 1
            sync.check_in_sync(self.model, self.iteration)
            if not main:
                continue
            recent = self.finished_returns[-200:]
            row = {
                "iteration": self.iteration,
                "env_steps": self.env_steps,
                "mean_return": float(np.mean(recent)) if recent else float("nan"),
                "mean_episode_length": float(np.mean(self.finished_lengths[-200:])) if recent else float("nan"),
                "collect_steps_per_s": buf["obs"].shape[0] * buf["obs"].shape[1] * worlds / (t1 - t0),
                "steps_per_s": buf["obs"].shape[0] * buf["obs"].shape[1] * worlds / (t2 - t0),
                "learning_rate": self.learning_rate,
                "action_std": float(self.model.log_std.detach().exp().mean()),
                "terrain_level": self.env.terrain_level,
                "episodes_repeated": self.env.episodes_repeated,
                **stats,
            }
            assert log is not None
            log.write(json.dumps(_strict_json(row), allow_nan=False) + "\n")
            log.flush()
            if on_iteration is not None:
                on_iteration(row)
            if self.iteration % checkpoint_every == 0 or self.iteration == end:
                self.save(run_dir / "checkpoint.pt")
        if log is not None:
            log.close()

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        torch.save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "iteration": self.iteration,
                "env_steps": self.env_steps,
                "learning_rate": self.learning_rate,
                "aug_hidden": self.aug_hidden,
                "config": asdict(self.config),
                "finished_returns": self.finished_returns[-1000:],
                "finished_lengths": self.finished_lengths[-1000:],
                "terrain_level": self.env.terrain_level,
            },
            tmp,
        )
        tmp.replace(path)  # atomic: a killed run never leaves a half-written checkpoint

    def init_actor(self, path: Path, critic: bool = False) -> None:
        """Start from the actor (memory, head, action noise) of another run's checkpoint, and
        with ``critic`` from its critic too; otherwise the critic stays new. The parts taken must
        have the same shapes. An actor given a concurrent estimator here may come from one
        without: the estimate's input weights start at zero, so it begins as the old actor, and
        the estimator starts fresh."""
        state = torch.load(path, weights_only=False, map_location=self.device)["model"]
        parts: tuple[str, ...] = ("actor_memory.", "actor_head.", "velocity_head.", "estimator_", "estimate_input.")
        parts += ("critic_memory.", "critic_head.") if critic else ()
        own = self.model.state_dict()
        if "estimate_input.weight" in state and "estimate_input.weight" not in own:
            raise ValueError(f"{path}: its actor reads a concurrent estimate, and this network has no estimator")
        # An older actor's estimator head has no place beside a concurrent estimator: left out.
        taken = {k: v for k, v in state.items() if k in own and (k.startswith(parts) or k == "log_std")}
        for name, value in taken.items():
            if value.shape != own[name].shape:
                raise ValueError(f"{name} is {tuple(value.shape)} in the checkpoint, {tuple(own[name].shape)} here")
        missing, _ = self.model.load_state_dict(taken, strict=False)
        left_out = [k for k in missing if k.startswith(parts[:2]) or k == "log_std"]
        if critic:
            left_out += [k for k in missing if k.startswith("critic_")]
        if left_out:
            raise ValueError(f"{path}: its network lacks {left_out}")
        self._cap_action_std()

    def load(self, path: Path) -> None:
        """Go on from a checkpoint: rank 0 reads it, and every rank takes rank 0's copy."""
        state = torch.load(path, weights_only=False, map_location=self.device) if self.sync.ranks.is_main else None
        self.load_state(self.sync.broadcast_object(state))

    def load_state(self, state: dict) -> None:
        """Go on from a checkpoint's contents (``save``)."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.iteration, self.env_steps = state["iteration"], state["env_steps"]
        self.learning_rate = state["learning_rate"]
        self.aug_hidden = _to_device(state["aug_hidden"], self.device)
        self._cap_action_std()
        self.finished_returns = list(state.get("finished_returns", []))
        self.env.set_terrain_level(state.get("terrain_level", 0.0))
        # Older checkpoints kept no lengths: pad so the logged mean length is never an empty mean.
        lengths = list(state.get("finished_lengths", []))
        self.finished_lengths = [float("nan")] * (len(self.finished_returns) - len(lengths)) + lengths


def _strict_json(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its non-finite floats as None: strict JSON (null), which every reader of
    log.jsonl parses (jq, JavaScript), where a bare NaN is Python's extension. A mean over no
    finished episode yet is the usual one."""
    return {key: None if isinstance(value, float) and not math.isfinite(value) else value for key, value in row.items()}


def _to_device(hidden: tuple[Hidden, Hidden], device: torch.device) -> tuple[Hidden, Hidden]:
    """The (actor, critic) hidden states on ``device``."""
    return hidden_to(hidden[0], device), hidden_to(hidden[1], device)
