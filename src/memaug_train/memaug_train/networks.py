"""Recurrent actor-critic (GRU default, LSTM option, or MLP for the no-memory baseline).

Shapes: obs [T, B, D] (time-major sequences) or [B, D] for one step; hidden [layers, B, H]
(LSTM: a (h, c) pair). The actor outputs the mean of a Gaussian over actions [.., A].
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

# oneDNN compiles a new RNN primitive for every batch shape it sees; the masked sequences
# below have many shapes, which made an LSTM update ~50x slower on CPU. Plain ATen kernels.
torch.backends.mkldnn.enabled = False  # type: ignore[assignment]

Cell = Literal["gru", "lstm", "mlp"]
Critic = Literal["memory", "mlp"]
Hidden = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class NetConfig:
    cell: Cell = "gru"
    hidden: int = 128
    layers: int = 1
    head: tuple[int, ...] = (256, 128)
    init_log_std: float = -0.5  # std 0.61: x0.25 action scale = 0.15 rad of exploration noise
    #: "memory": the critic has the actor's kind of memory and sees what the actor sees;
    #: "mlp": a memoryless critic that also reads ``privileged_dim`` privileged observations
    #: (memaug_train.privileged): with the true velocity, dynamics and fault in its input it
    #: has nothing left to infer, and the update skips half of its recurrent work.
    critic: Critic = "memory"
    privileged_dim: int = 0
    #: A linear head on the actor's memory that learns to read the base velocity (supervised by
    #: the privileged ground truth): the memory must carry the robot's speed, which no sensor
    #: measures and which the gait's speed otherwise follows open loop (joint damping).
    velocity_estimator: bool = False
    #: 0: the estimate is the linear head above. > 0: a concurrent estimator instead, its own GRU
    #: of this size on the actor's observations, trained by the estimator's regression alone, and
    #: the actor's head reads its estimate. The estimate on the shared memory stayed biased where
    #: the feet slide (ground friction 0.3: 0.33 for a true 0.39 m/s), even at 25x its loss weight,
    #: though a separate GRU-64 regressor on the same observations read it to 0.01 m/s (model card).
    #: Its hidden state rides in the actor's, after the policy memory's: [layers, B, hidden + this].
    estimator_hidden: int = 0

    def __post_init__(self) -> None:
        if self.estimator_hidden < 0:
            raise ValueError(f"NetConfig.estimator_hidden must not be negative, got {self.estimator_hidden}")
        if self.estimator_hidden and not (self.velocity_estimator and self.cell == "gru"):
            raise ValueError("NetConfig.estimator_hidden needs velocity_estimator and the gru cell")

    @property
    def actor_hidden(self) -> int:
        """Size of the actor's hidden state, the concurrent estimator's included (1: no memory)."""
        return 1 if self.cell == "mlp" else self.hidden + self.estimator_hidden

    @classmethod
    def from_json(cls, values: dict) -> NetConfig:
        """A NetConfig from run.json's ppo.net (JSON turns tuples into lists)."""
        return cls(**{**values, "head": tuple(values["head"])})


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), nn.ELU()]
    return nn.Sequential(*layers[:-1])  # no activation on the output


class Memory(nn.Module):
    """The recurrent core; 'mlp' is an identity with an empty hidden state (no memory)."""

    def __init__(self, cell: Cell, inputs: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.cell, self.hidden, self.layers = cell, hidden, layers
        self.rnn: nn.Module | None
        if cell == "gru":
            self.rnn = nn.GRU(inputs, hidden, layers)
        elif cell == "lstm":
            self.rnn = nn.LSTM(inputs, hidden, layers)
        else:
            self.rnn = None
        self.out_size = inputs if cell == "mlp" else hidden

    def initial(self, batch: int) -> Hidden:
        size = 1 if self.cell == "mlp" else self.hidden
        h = torch.zeros(self.layers, batch, size)
        return (h, h.clone()) if self.cell == "lstm" else h

    def forward(self, x: torch.Tensor, h: Hidden) -> tuple[torch.Tensor, Hidden]:
        """x [T, B, D] -> y [T, B, out], h_T."""
        if self.rnn is None:
            return x, h
        return self.rnn(x, h)

    def sequence(self, x: torch.Tensor, h0: Hidden, starts: torch.Tensor) -> tuple[torch.Tensor, Hidden]:
        """Run [T, B, D] through the RNN, zeroing the hidden state where ``starts`` [T, B] is 1.

        An episode that begins at step t must not see the previous episode's memory.
        Sequences with no episode start after t = 0 go through the RNN in one call; only
        the few that hold a reset are stepped one time step at a time.
        """
        if self.rnn is None:
            return x, h0
        h0 = _scale(h0, 1.0 - starts[0])
        reset_inside = starts[1:].any(dim=0)
        if not bool(reset_inside.any()):
            return self.rnn(x, h0)
        y = torch.empty(x.shape[0], x.shape[1], self.hidden, device=x.device)
        h_out = _scale(h0, torch.zeros(x.shape[1], device=x.device))  # same structure, filled below
        whole = torch.flatten(torch.nonzero(~reset_inside))
        stepped = torch.flatten(torch.nonzero(reset_inside))
        if len(whole):
            y_whole, h_whole = self.rnn(x[:, whole], _index(h0, whole))
            y[:, whole] = y_whole
            h_out = _put(h_out, whole, h_whole)
        h = _index(h0, stepped)
        outputs = []
        for t in range(x.shape[0]):
            h = _scale(h, 1.0 - starts[t, stepped])
            step_y, h = self.rnn(x[t : t + 1, stepped], h)
            outputs.append(step_y)
        y[:, stepped] = torch.cat(outputs, dim=0)
        return y, _put(h_out, stepped, h)


def _scale(h: Hidden, keep: torch.Tensor) -> Hidden:
    """Multiply a hidden state [L, B, H] (or an (h, c) pair) by keep [B]."""
    k = keep.view(1, -1, 1)
    return (h[0] * k, h[1] * k) if isinstance(h, tuple) else h * k


def hidden_to(hidden: Hidden, device: torch.device) -> Hidden:
    """A hidden state (a tensor, or an LSTM's (h, c) pair) on ``device``."""
    return (hidden[0].to(device), hidden[1].to(device)) if isinstance(hidden, tuple) else hidden.to(device)


def _index(h: Hidden, index: torch.Tensor) -> Hidden:
    return (h[0][:, index], h[1][:, index]) if isinstance(h, tuple) else h[:, index]


def _put(target: Hidden, index: torch.Tensor, value: Hidden) -> Hidden:
    """A copy of ``target`` with batch entries ``index`` replaced by ``value`` (autograd-safe)."""
    if isinstance(target, tuple) and isinstance(value, tuple):
        return (target[0].index_copy(1, index, value[0]), target[1].index_copy(1, index, value[1]))
    assert isinstance(target, torch.Tensor) and isinstance(value, torch.Tensor)
    return target.index_copy(1, index, value)


#: The velocity estimate's size: base linear velocity, base frame (privileged scaling).
VELOCITY = 3


class ActorCritic(nn.Module):
    """The actor (memory, optional concurrent estimator, head) and the critic.

    The actor's features ``y`` [T, B, F] are the policy memory's output, followed, with a
    concurrent estimator, by its velocity estimate [T, B, 3]; ``actor_sequence`` makes them,
    ``actor_mean`` and ``velocity_estimate`` read them.
    """

    def __init__(self, obs_dim: int, act_dim: int, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.actor_memory = Memory(config.cell, obs_dim, config.hidden, config.layers)
        critic_cell: Cell = "mlp" if config.critic == "mlp" else config.cell
        self.critic_memory = Memory(critic_cell, obs_dim + config.privileged_dim, config.hidden, config.layers)
        concurrent = config.estimator_hidden > 0
        self.estimator_memory = Memory("gru", obs_dim, config.estimator_hidden, config.layers) if concurrent else None
        self.estimator_readout = nn.Linear(config.estimator_hidden, VELOCITY) if concurrent else None
        self.actor_head = mlp([self.actor_memory.out_size, *config.head, act_dim])
        #: How the estimate enters the head: added to its first layer's input, as if that layer
        #: read [memory, estimate]. Its own weights, so that they can start at zero (an actor
        #: given an estimator begins as it was) and learn at their own rate (PpoConfig).
        self.estimate_input = nn.Linear(VELOCITY, config.head[0], bias=False) if concurrent else None
        if self.estimate_input is not None:
            nn.init.zeros_(self.estimate_input.weight)
        self.critic_head = mlp([self.critic_memory.out_size, *config.head, 1])
        self.log_std = nn.Parameter(torch.full((act_dim,), config.init_log_std))
        on_memory = config.velocity_estimator and not concurrent
        self.velocity_head = nn.Linear(self.actor_memory.out_size, VELOCITY) if on_memory else None

    def initial(self, batch: int) -> tuple[Hidden, Hidden]:
        return self.actor_initial(batch), self.critic_memory.initial(batch)

    def actor_initial(self, batch: int) -> Hidden:
        """The actor's zero hidden state: [layers, batch, actor_hidden] (an (h, c) pair for LSTM)."""
        if self.estimator_memory is None:
            return self.actor_memory.initial(batch)
        return torch.zeros(self.config.layers, batch, self.config.actor_hidden)

    def estimator_parameters(self) -> list[nn.Parameter]:
        """The concurrent estimator's parameters (none without one): only its regression trains them."""
        if self.estimator_memory is None or self.estimator_readout is None:
            return []
        return [*self.estimator_memory.parameters(), *self.estimator_readout.parameters()]

    def estimate_input_parameters(self) -> list[nn.Parameter]:
        """The weights by which the head reads the concurrent estimate (none without one)."""
        return [] if self.estimate_input is None else list(self.estimate_input.parameters())

    def actor_sequence(
        self, obs: torch.Tensor, h: Hidden, starts: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Hidden]:
        """obs [T, B, D] -> the actor's features [T, B, F], h_T; ``starts`` [T, B] (1 where an
        episode began) zeroes the memory there, None: no episode begins inside."""

        def run(memory: Memory, x: torch.Tensor, h0: Hidden) -> tuple[torch.Tensor, Hidden]:
            return memory(x, h0) if starts is None else memory.sequence(x, h0, starts)

        if self.estimator_memory is None or self.estimator_readout is None:
            return run(self.actor_memory, obs, h)
        assert isinstance(h, torch.Tensor)  # the estimator goes with the gru cell only
        # cuDNN's GRU takes only a contiguous hidden state; a slice of the last axis is not one.
        y, policy_h = run(self.actor_memory, obs, h[..., : self.config.hidden].contiguous())
        y_estimator, estimator_h = run(self.estimator_memory, obs, h[..., self.config.hidden :].contiguous())
        assert isinstance(policy_h, torch.Tensor) and isinstance(estimator_h, torch.Tensor)
        estimate = self.estimator_readout(y_estimator)
        return torch.cat([y, estimate], dim=-1), torch.cat([policy_h, estimator_h], dim=-1)

    def actor_mean(self, y: torch.Tensor) -> torch.Tensor:
        """The action mean [.., A] from the actor's features [.., F]. The policy's gradient stops
        at the concurrent estimate: the estimator learns to measure, not to please the policy."""
        if self.estimate_input is None:
            return self.actor_head(y)
        first, rest = self.actor_head[0], self.actor_head[1:]
        return rest(first(y[..., :-VELOCITY]) + self.estimate_input(y[..., -VELOCITY:].detach()))

    def shift_estimate(self, y: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        """The actor's features [.., F] with the concurrent estimate in them moved by ``shift``
        [3] (privileged scaling): what the head would read if the estimator were that far off.
        ValueError for an actor that reads no concurrent estimate."""
        if self.estimate_input is None:
            raise ValueError("shifting the estimate needs an actor that reads a concurrent estimate")
        shifted = y.clone()
        shifted[..., -VELOCITY:] += shift
        return shifted

    def velocity_estimate(self, y: torch.Tensor) -> torch.Tensor | None:
        """The base velocity estimate [.., 3] (privileged scaling) from the actor's features, or
        None for an actor without an estimator."""
        if self.estimator_memory is not None:
            return y[..., -VELOCITY:]
        return self.velocity_head(y) if self.velocity_head is not None else None

    def act_step(self, obs: torch.Tensor, h: Hidden) -> tuple[torch.Tensor, Hidden]:
        """One step: obs [B, D] -> action mean [B, A], next hidden."""
        y, h = self.actor_sequence(obs.unsqueeze(0), h)
        return self.actor_mean(y[0]), h

    def value_step(self, obs: torch.Tensor, h: Hidden) -> tuple[torch.Tensor, Hidden]:
        """One step: critic input [B, D + P] (obs, then privileged terms) -> value [B], next hidden."""
        y, h = self.critic_memory(obs.unsqueeze(0), h)
        return self.critic_head(y[0]).squeeze(-1), h

    def distribution(self, mean: torch.Tensor) -> torch.distributions.Normal:
        return torch.distributions.Normal(mean, self.log_std.exp().expand_as(mean))


class ExportedPolicy(nn.Module):
    """The deterministic actor with explicit hidden state in and out: what ONNX carries."""

    def __init__(self, model: ActorCritic) -> None:
        super().__init__()
        self.model = model
        self.cell = model.config.cell

    def forward(self, obs: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        h: Hidden = (state[0], state[1]) if self.cell == "lstm" else state[0]
        actions, h_out = self.model.act_step(obs, h)
        if isinstance(h_out, tuple):
            return actions, h_out[0], h_out[1]
        return actions, h_out
