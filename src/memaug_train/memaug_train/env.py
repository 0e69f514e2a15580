"""Vectorized Go2 locomotion environment on MuJoCo, stepped in C by mujoco.rollout (or, with
EnvConfig.backend "warp", by MuJoCo Warp: memaug_train.warp_physics; the task is this code either way).

Same robot description, MJCF, observation layout, action map and control period as the
policy node (memaug_policy.observation / .actions). Each environment has its own MjModel
copy so a fault (which edits the model) affects only that environment.

The task's arrays live where EnvConfig.task_arrays says (memaug_train.task_arrays): NumPy on
the host, or torch tensors on ``physics_device``; the step is one code body over either.
Episodes are drawn on the host, by one code (``_draw_starts``: models, tasks, start states,
per-robot parameters), either as they begin (EnvConfig.episodes "host", the CPU path: the host
starts them and their faults and kicks from its own counters, so a step brings back only which
robots' episodes ended, by a fall or a knee down where that ends them) or ahead, between
rollouts ("ahead", the warp backend's: memaug_train.episodes_ahead starts them on the device,
and nothing crosses inside a rollout).

Shapes: N = number of environments, J = joints, D = observation size.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import mujoco
import numpy as np
from mujoco import rollout

from memaug_common.actuators import TorqueSpeedEnvelope
from memaug_common.arrays import arange, astype, clip, with_arrays
from memaug_common.description import RandomizationRanges, RobotDescription, whole_steps
from memaug_common.falls import fallen
from memaug_policy.actions import ActionMap
from memaug_policy.observation import ObservationLayout, projected_gravity, rotate_to_base
from memaug_policy.safety import CommandLimits
from memaug_sim.dynamics import NOMINAL, Dynamics, NominalPhysics, apply_physics, position_gains
from memaug_sim.faults import FaultInjector, PayloadFault
from memaug_sim.model import Actuation, ModelIndex, build_model
from memaug_sim.terrain import FLAT, GroundLookup, Terrain
from memaug_train import randomization as rnd
from memaug_train.episodes_ahead import EPISODE_MODES, EpisodesAhead, command_slots, push_slots, push_steps
from memaug_train.privileged import privileged_layout
from memaug_train.rewards import KNEE_CONTACT_M, RobotBatch, total_reward
from memaug_train.task_arrays import ARRAY_LIBRARIES, HostRows, TaskArrays
from memaug_train.tasks import CommandRanges, Task, TaskSampler, leg_of

STATE_SPEC = mujoco.mjtState.mjSTATE_FULLPHYSICS
#: Fraction of randomized episodes on rough ground; the rest are flat, where the policy meets
#: the command tracking it is judged on. The height field's collisions cost ~40 % of a step.
ROUGH_GROUND_SHARE = 0.4
#: A foot nearer the ground than this (m) is down, for air time and contacts.
FOOT_CONTACT_M = 0.005


@dataclass(frozen=True)
class EnvConfig:
    num_envs: int = 64
    episode_steps: int = 1000  # 20 s at 50 Hz
    command_resample_steps: int = 500
    action_scale: float = 0.25
    threads: int = 2
    commands: CommandRanges = field(default_factory=CommandRanges)
    initial_joint_noise: float = 0.1  # rad, uniform
    #: Physics step of the training simulation, s: 4 steps of 5 ms per 20 ms control period,
    #: the split legged-robot RL commonly trains with, not the bridge's 2 ms. It cuts the cost
    #: per sample to 0.4x of 2 ms (about 19-20k env-steps/s on 2 cores, bench/bench_train.py)
    #: and stays stable with the MJCF's 20 solver iterations. The policy meets the 2 ms bridge
    #: as a sim-to-sim gap, which the stack-level acceptance runs measure. The gap depends on the
    #: gait: v2 walks 0.575 m/s at 5 ms and at 2 ms on the nominal robot, the hindsight runs'
    #: actors 7-8 % faster at 2 ms (model card); `memaug_train train --physics-period-ms 2`
    #: trains at the stacks' step.
    physics_period_s: float = 0.005
    #: Environments one rollout thread takes at a time: small enough that the threads stay
    #: balanced when some robots are in costly contact states. On 2 cores 8-256 measured within
    #: the machine's noise of each other, 4 about 5 % slower.
    rollout_chunk: int = 16
    #: Nuisance randomization (dynamics, latency, noise, pushes), normally the robot
    #: description's ranges; None trains and evaluates on the nominal robot.
    randomization: RandomizationRanges | None = None
    #: Physics backend (memaug_train.backends): "mujoco" (mujoco.rollout on CPU threads) or
    #: "warp" (memaug_train.warp_physics, MuJoCo Warp on ``physics_device``).
    backend: str = "mujoco"
    physics_device: str = "cpu"
    #: Where the task's arrays live (memaug_train.task_arrays): "numpy" on the host, or "torch"
    #: on ``physics_device`` (what MuJoCo Warp on a GPU trains with: nothing crosses per step
    #: but the falls; on the CPU it runs the same torch code for tests).
    task_arrays: str = "numpy"
    #: A knee on the floor ends the episode, as a fall does. Off by default: tried on v9 from
    #: iteration 3640 to 3930, it left the heavy limp-knee rows' knees down as long (0.6-0.7 s
    #: per 10 s) and made them fall (4 of 8 runs, none before): with kneeling and falling the
    #: same to the policy, it stopped guarding against the fall. The knee_contact cost remains.
    knee_down_ends_episode: bool = False
    #: Where episodes are drawn (memaug_train.episodes_ahead): "host", each as it begins (the
    #: CPU path: a step brings back whose episodes ended), or "ahead": every robot's next one
    #: drawn between rollouts (VecGo2Env.draw_ahead) and started on the device with its fault,
    #: kicks and commands, so nothing crosses inside a rollout (the warp backend: its worlds'
    #: model fields are swapped on the device).
    episodes: str = "host"

    def __post_init__(self) -> None:
        if self.backend not in ("mujoco", "warp"):
            raise ValueError(f"EnvConfig.backend must be mujoco or warp, got {self.backend!r}")
        if self.physics_period_s <= 0:
            raise ValueError(f"EnvConfig.physics_period_s must be positive, got {self.physics_period_s}")
        if self.rollout_chunk < 1:
            raise ValueError(f"EnvConfig.rollout_chunk must be at least 1, got {self.rollout_chunk}")
        if self.task_arrays not in ARRAY_LIBRARIES:
            raise ValueError(f"EnvConfig.task_arrays must be one of {ARRAY_LIBRARIES}, got {self.task_arrays!r}")
        if self.episodes not in EPISODE_MODES:
            raise ValueError(f"EnvConfig.episodes must be one of {EPISODE_MODES}, got {self.episodes!r}")
        if self.episodes == "ahead" and self.backend != "warp":
            raise ValueError("EnvConfig.episodes 'ahead' needs the warp backend (C MuJoCo's models are on the host)")


@dataclass(frozen=True)
class EpisodeStarts:
    """What the host draws for K robots' new episodes, besides their models and per-robot
    parameters (which it writes in place): host arrays."""

    state: np.ndarray  # [K, S] full-physics start state
    targets: np.ndarray  # [K, J] rad, the joint targets held before the first action
    command: np.ndarray  # [K, 3] the first velocity command


@dataclass
class StepResult:
    """One control step's outcome, every array in the task's library and device (EnvConfig.task_arrays)."""

    obs: np.ndarray  # [N, D] float32
    reward: np.ndarray  # [N]
    terminated: np.ndarray  # [N] bool: fell (or a knee on the floor, EnvConfig.knee_down_ends_episode)
    truncated: np.ndarray  # [N] bool: episode time limit
    #: each reward term's batch mean, falls, faults active, terrain level: 0-d arrays or floats
    info: dict[str, Any]
    #: [N, 3] m/s, base-frame linear velocity at the end of the step (before done envs reset)
    base_velocity: np.ndarray
    #: [N, P] float32, what the critic may know besides obs (memaug_train.privileged), after resets
    privileged: np.ndarray
    #: [N] largest |dq| / velocity limit over the joints and the step's physics steps
    peak_speed_fraction: np.ndarray


class VecGo2Env:
    def __init__(self, description: RobotDescription, config: EnvConfig, sampler: TaskSampler, seed: int = 0) -> None:
        self.description = description
        self.config = config
        self.sampler = sampler
        self.rng = np.random.default_rng(seed)
        #: The task's array library and device; ``xp`` its namespace
        self.arrays = TaskArrays(config.task_arrays, config.physics_device if config.task_arrays == "torch" else "cpu")
        arrays = self.arrays
        on_device = arrays.asarray
        n = config.num_envs
        self.substeps = _substeps(description.control_period_s, config.physics_period_s)
        # One model per robot (a fault edits its robot's model only): copies of one compiled,
        # textureless model, ~45 kB each.
        ranges = config.randomization
        rough = ranges is not None and ranges.rough_ground_m[1] > 0
        # Rough ground is one height field compiled at its full height; each robot's copy
        # scales it (hfield_size z) to the height its episode draws.
        terrain = Terrain(kind="rough", height_m=ranges.rough_ground_m[1]) if rough and ranges else FLAT
        template = build_model(description, Actuation.POSITION, textures=False, terrain=terrain)
        template.opt.timestep = config.physics_period_s
        self.models = [copy.copy(template) for _ in range(n)]
        model = self.models[0]
        self.index = ModelIndex.of(model, description)
        self.injectors = [FaultInjector(m, self.index, description) for m in self.models]
        self._scratch = mujoco.MjData(model)
        self._rollout = rollout.Rollout(nthread=config.threads)
        self._warp = None
        if config.backend == "warp":
            from memaug_train.warp_physics import WarpRollout

            self._warp = WarpRollout(template, n, self.substeps, config.physics_device, self.index.lock_equalities)
        self._thread_data = [mujoco.MjData(model) for _ in range(config.threads)]
        #: [N, nu, 2] N m: each robot's actuator force range this control step (the torque
        #: envelope at its joint speeds, its strength and faults; _limit_torques)
        self.force_range = on_device(np.tile(model.actuator_forcerange, (n, 1, 1)))
        #: [N] robots whose MjModel was edited since the warp backend last read it: it copies only
        #: those (set_dynamics flags each robot a reset draws, before its payload and ground are
        #: set; fault starts flag theirs; both are few per step).
        self.model_changed = np.ones(n, dtype=bool)
        self.layout = ObservationLayout.for_joints(description.num_joints)
        self.privileged_layout = privileged_layout(description.num_joints)
        self.actions = ActionMap.for_robot(description, config.action_scale)
        self.limits = CommandLimits.for_robot(description)
        self.dt = description.control_period_s
        # The same laws with their constants where the task's arrays are.
        self._layouts = (with_arrays(self.layout, on_device), with_arrays(self.privileged_layout, on_device))
        self._actions, self._limits = with_arrays(self.actions, on_device), with_arrays(self.limits, on_device)

        size = mujoco.mj_stateSize(model, STATE_SPEC)
        t = mujoco.mjtState
        self._qpos0 = mujoco.mj_stateSize(model, t.mjSTATE_TIME)
        self._qvel0 = mujoco.mj_stateSize(model, t.mjSTATE_TIME | t.mjSTATE_QPOS)
        # [N, state size], allocated once and only ever written in place.
        self.state = arrays.zeros((n, size))
        # rollout() outputs and controls (C MuJoCo), allocated once: step() calls it with
        # skip_checks, because these shapes and the models' size signature (copies of one
        # model) never change, and the per-call checks cost ~4 % of a step.
        if self._warp is None:
            self._control = np.zeros((n, self.substeps, model.nu))
            self._states_out = np.zeros((n, self.substeps, size))
            self._sensors_out = np.zeros((n, self.substeps, model.nsensordata))
        # Small batches (evaluation) get chunks small enough to keep every thread busy.
        self._chunk = max(1, min(config.rollout_chunk, n // (4 * config.threads)))
        self._home_state = settled_stand_state(model, self._scratch, self.index.keyframe, description.default_pose)
        # Column indices into state, sensors and joint arrays, where the task's arrays are.
        self._qpos_columns = on_device(self.index.qpos, np.int64)
        self._qvel_columns = on_device(self.index.qvel, np.int64)
        self._joint_angles_in_state = on_device(self._qpos0 + self.index.qpos, np.int64)  # [J] columns of state
        self._actuator_columns = on_device(self.index.actuators, np.int64)
        self._feet_sensor = on_device([_height_index(model, f"{foot}_pos") for foot in description.feet], np.int64)
        self._foot_radius = on_device(model.geom_size[self.index.feet_geoms, 0])
        feet_canonical = canonical_feet_order(description.feet)
        self._feet_canonical = on_device(feet_canonical, np.int64)
        self._feet_from_canonical = on_device(np.argsort(feet_canonical), np.int64)
        knees = np.array([_height_index(model, f"{leg_of(foot)}_knee_pos") for foot in description.feet])
        self._knee_sensor = on_device(knees[feet_canonical], np.int64)
        self._velocity_limits = on_device(description.velocity_limits)
        self._range_middle = on_device((description.upper_limits + description.lower_limits) / 2)
        self._range_half = on_device((description.upper_limits - description.lower_limits) / 2)
        self._default_pose = on_device(description.default_pose)

        self.envelope = with_arrays(TorqueSpeedEnvelope.for_robot(description), on_device)
        self._nominal = NominalPhysics.of(model)
        self._ground = with_arrays(GroundLookup.rough(terrain.seed), on_device) if rough else None
        self._ground_geom = model.geom("terrain_rough").id if rough else -1
        self.rough_height = np.zeros(n)  # m, each robot's bump height this episode
        #: Rough-ground curriculum, 0..1: episodes draw bumps up to this fraction of the range.
        self.terrain_level = 0.0
        self.dynamics: list[Dynamics] = [NOMINAL] * n
        self.kp = np.tile(description.kp, (n, 1))  # [N, J] each robot's gains, as randomized
        self.kd = np.tile(description.kd, (n, 1))
        self.strength = np.ones((n, description.num_joints))  # [N, J] x torque limits, as randomized
        #: [N, J] rad each robot's encoders add to its true joint angles
        self.encoder_offset = np.zeros((n, description.num_joints))
        self._joint_legs = [leg_of(name) for name in description.joint_names]
        #: [N, J] fraction of each motor's torque its robot's faults leave; [N, J] locked joints
        self.torque_factor = np.ones((n, description.num_joints))
        self.locked = np.zeros((n, description.num_joints))
        #: [N, J] rad the angle each locked joint holds, where the task's arrays are: Warp reads
        #: a lock from here (C MuJoCo from each robot's MjModel), so a lock starts without the
        #: robot's state coming to the host
        self.lock_angle = arrays.zeros((n, description.num_joints))
        #: [N, 12] the privileged "dynamics" term of each robot, fixed for its episode
        self._dynamics_terms = np.zeros((n, 12))
        self._com_offsets = np.zeros((n, 3))
        self.action_delay = np.zeros(n, dtype=np.int64)  # physics steps
        self.sensor_delay = np.zeros(n, dtype=np.int64)  # physics steps
        #: The per-robot arrays above, written on the host at episode and fault starts; the
        #: step reads their mirrors ``self._robots.device`` (the same arrays on the host).
        self._robots = HostRows(
            arrays,
            kp=self.kp,
            kd=self.kd,
            strength=self.strength,
            encoder_offset=self.encoder_offset,
            torque_factor=self.torque_factor,
            locked=self.locked,
            dynamics_terms=self._dynamics_terms,
            com_offsets=self._com_offsets,
            rough_height=self.rough_height,
            action_delay=self.action_delay,
            sensor_delay=self.sensor_delay,
        )
        self.next_push = np.full(n, np.iinfo(np.int64).max)  # control step of each robot's next kick (host)
        self._previous_targets = on_device(np.tile(description.default_pose, (n, 1)))
        # The state the policy's sensors report: self.state, sensor_delay physics steps ago.
        self._sensed = arrays.zeros((n, size))
        self._noise = arrays.draws(self.rng, seed)

        self._tasks: list[Task] = [sampler.sample(self.rng) for _ in range(n)]
        #: [N] control step at which each robot's fault begins (NO_FAULT: none this episode; host)
        self.fault_step = np.array([_fault_step(task) for task in self._tasks], dtype=np.int64)
        self.command = arrays.zeros((n, 3))
        self.last_action = arrays.zeros((n, description.num_joints))
        self.step_count = np.zeros(n, dtype=np.int64)  # host: every event's clock
        self._steps = arrays.mirror(self.step_count)  # its twin where the task is, for time-outs
        self.air_time = arrays.zeros((n, len(description.feet)))
        self.fault_active = np.zeros(n, dtype=bool)  # host
        #: Episodes drawn ahead (EnvConfig.episodes "ahead"): then the host arrays and MjModels
        #: above (gains, tasks, dynamics, ...) describe each robot's *next* episode, and what
        #: the step reads lives here, on the device.
        self._ahead: EpisodesAhead | None = None
        #: Episodes drawn ahead that began a second time from one draw in the last rollout
        #: (a robot that ended twice in it; memaug_train.episodes_ahead)
        self.episodes_repeated = 0
        if config.episodes == "ahead":
            push_interval = ranges.push_interval_s[0] if ranges is not None and ranges.push_velocity_m_s > 0 else None
            self._ahead = EpisodesAhead(
                arrays,
                n,
                size,
                description.num_joints,
                command_slots(config.episode_steps, config.command_resample_steps),
                0 if push_interval is None else push_slots(config.episode_steps, round(push_interval / self.dt)),
                self._robots.device,
            )

    @property
    def _on(self) -> dict[str, Any]:
        """The per-robot parameters the step reads, where the task's arrays are."""
        return self._robots.device if self._ahead is None else self._ahead.rows

    # --- episode management -------------------------------------------------------------
    def reset(self) -> np.ndarray:
        everyone = np.arange(self.config.num_envs)
        if self._ahead is None:
            self._reset_envs(everyone)
        else:
            self._draw_next(everyone)
            self._begin_drawn(self.arrays.asarray(np.ones(len(everyone), dtype=bool), bool))
            self.draw_ahead()  # every robot's episode after this one
        return self.observe()

    def draw_ahead(self) -> None:
        """Between rollouts: draw the next episode of each robot whose drawn one has begun,
        and move the rough-ground curriculum by the episodes that ended. With episodes drawn on
        the host as they begin (EnvConfig.episodes "host"), nothing to do."""
        ahead = self._ahead
        if ahead is None:
            return
        self._advance_terrain_curriculum(*ahead.take_counts())
        self.episodes_repeated = ahead.take_repeats()
        began = np.flatnonzero(self.arrays.to_host(ahead.consumed))  # one [N] bool per rollout
        if len(began):
            self._draw_next(began)

    def set_terrain_level(self, level: float) -> None:
        """The rough-ground curriculum's level, 0..1 (a resumed run's): the episodes drawn from
        now on draw their bumps at it, and those already drawn ahead are drawn again."""
        self.terrain_level = level
        if self._ahead is not None:
            self._draw_next(np.arange(self.config.num_envs))

    def _put(self, array: Any, rows: Any, values: Any, dtype: Any = np.float64) -> None:
        """``array[rows] = values``, with host ``values`` brought to where ``array`` is."""
        array[rows] = self.arrays.asarray(values, dtype)

    def _reset_envs(self, envs: np.ndarray) -> None:
        """Start new episodes for robots ``envs`` [K] (host indices), drawn now."""
        starts = self._draw_starts(envs)
        self._put(self.state, envs, starts.state)
        self._put(self._sensed, envs, starts.state)
        self._put(self._previous_targets, envs, starts.targets)
        self._put(self.command, envs, starts.command)
        self.last_action[envs] = 0.0
        self.step_count[envs] = 0
        self._put(self._steps, envs, np.zeros(len(envs)), np.int64)
        self.air_time[envs] = 0.0
        self.fault_active[envs] = False

    def _draw_starts(self, envs: np.ndarray) -> EpisodeStarts:
        """Draw new episodes for robots ``envs`` [K] (host indices): each one's model (dynamics,
        ground, payload, no fault) is set in its MjModel, its task and per-robot parameters in
        the host arrays (published to their mirrors), and its start is returned."""
        cfg, d, ranges = self.config, self.description, self.config.randomization
        starts = np.empty((len(envs), self._home_state.size))
        targets = np.empty((len(envs), d.num_joints))
        for row, i in enumerate(envs):
            model, injector = self.models[i], self.injectors[i]
            mujoco.mj_setState(model, self._scratch, self._home_state, STATE_SPEC)
            injector.clear(self._scratch)
            dynamics = NOMINAL if ranges is None else rnd.sample_dynamics(ranges, self.rng, self._joint_legs)
            self._set_dynamics(i, dynamics)
            if self._ground is not None and ranges is not None:
                self.rough_height[i] = self._draw_rough_height(ranges.rough_ground_m)
                model.hfield_size[0, 2] = max(self.rough_height[i], 1e-4)
                # Flat episodes switch the height field off: colliding with it costs even at zero height.
                model.geom_conaffinity[self._ground_geom] = int(self.rough_height[i] > 0)
            task = self.sampler.sample(self.rng)
            self._set_task(i, task)
            if task.payload_kg > 0:
                injector.apply(PayloadFault(kind="payload", mass_kg=task.payload_kg), self._scratch)
            q = self._scratch.qpos
            q[self.index.qpos] += self.rng.uniform(-1, 1, d.num_joints) * cfg.initial_joint_noise
            q[self.index.qpos] = np.clip(q[self.index.qpos], d.lower_limits, d.upper_limits)
            yaw = self.rng.uniform(-np.pi, np.pi)
            q[3:7] = [np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
            mujoco.mj_getState(model, self._scratch, starts[row], STATE_SPEC)
            targets[row] = q[self.index.qpos]
        if ranges is not None:
            self.action_delay[envs] = rnd.latency_steps(
                ranges.action_latency_s, cfg.physics_period_s, len(envs), self.rng
            )
            self.sensor_delay[envs] = rnd.latency_steps(
                ranges.sensor_latency_s, cfg.physics_period_s, len(envs), self.rng
            )
            if ranges.push_velocity_m_s > 0:
                self.next_push[envs] = rnd.push_intervals(ranges.push_interval_s, self.dt, len(envs), self.rng)
        self.torque_factor[envs] = 1.0
        self.locked[envs] = 0.0
        for i in envs:
            self._record_episode_terms(i)
        self._robots.mark(envs)
        self._robots.publish()
        return EpisodeStarts(starts, targets, cfg.commands.sample(self.rng, len(envs)))

    # --- episodes drawn ahead (EnvConfig.episodes "ahead"; memaug_train.episodes_ahead) -----
    def _draw_next(self, envs: np.ndarray) -> None:
        """Draw robots ``envs``' [K] (host indices) next episodes ahead (EnvConfig.episodes
        "ahead"), by the host path's draws, then what the device needs to run them without the
        host: all their commands, their kicks' schedule, their fault's torque factors, locks and
        model fields, and their models' fields, kept on the device until they begin."""
        ahead, cfg, ranges = self._ahead, self.config, self.config.randomization
        assert ahead is not None and self._warp is not None  # EnvConfig allows "ahead" on warp only
        starts = self._draw_starts(envs)
        k, slots = len(envs), ahead.next["commands"].shape[1]
        commands = starts.command[:, None]
        if slots > 1:
            later = cfg.commands.sample(self.rng, k * (slots - 1)).reshape(k, slots - 1, 3)
            commands = np.concatenate([commands, later], axis=1)
        kicks = ahead.next["push_kicks"].shape[1]
        if ranges is not None and kicks:
            intervals = rnd.push_intervals(ranges.push_interval_s, self.dt, k * (kicks - 1), self.rng)
            ahead.put_next(
                envs,
                push_steps=push_steps(self.next_push[envs], intervals.reshape(k, kicks - 1)),
                push_kicks=rnd.push_velocities(ranges.push_velocity_m_s, k * kicks, self.rng).reshape(k, kicks, 2),
            )
        faulted, torque_factor, locked = self._faulted_models(envs)
        ahead.put_next(
            envs,
            state=starts.state,
            targets=starts.targets,
            commands=commands,
            fault_step=self.fault_step[envs],
            fault_torque_factor=torque_factor,
            fault_locked=locked,
        )
        self._warp.stage("next start", self.models, envs)
        self._warp.stage("next fault", faulted, envs)
        self.model_changed[envs] = False  # kept on the device, not stepped with
        ahead.consumed[self.arrays.asarray(envs, np.int64)] = False  # a fresh draw waits for each

    def _faulted_models(self, envs: np.ndarray) -> tuple[list[mujoco.MjModel], np.ndarray, np.ndarray]:
        """Robots ``envs``' [K] drawn episodes as their faults will leave them: the models (the
        robots' own where their episode has no fault; indexed by robot), and [K, J] torque
        factors and locks. A lock's angle is the joint's when it starts, taken on the device:
        the model holds NaN there."""
        faulted, j = list(self.models), self.description.num_joints
        torque_factor, locked = np.ones((len(envs), j)), np.zeros((len(envs), j))
        self._scratch.qpos[:] = np.nan
        for row, i in enumerate(envs):
            fault = self._tasks[i].fault
            if fault is None:
                continue
            faulted[i] = copy.copy(self.models[i])
            injector = FaultInjector(faulted[i], self.index, self.description)
            injector.apply(fault, self._scratch)
            torque_factor[row] = injector.torque_factor
            locked[row] = faulted[i].eq_active0[self.index.lock_equalities]
        return faulted, torque_factor, locked

    def _begin_drawn(self, starting: Any) -> None:
        """Robots ``starting`` [N] bool (the task's array) begin their drawn next episodes, on the
        device: start state, targets, command, schedule, parameters and model fields."""
        ahead, xp = self._ahead, self.arrays.xp
        assert ahead is not None and self._warp is not None
        rows = starting[:, None]
        self.state[...] = xp.where(rows, ahead.next["state"], self.state)
        self._sensed[...] = xp.where(rows, ahead.next["state"], self._sensed)
        self._previous_targets[...] = xp.where(rows, ahead.next["targets"], self._previous_targets)
        self.command[...] = xp.where(rows, ahead.next["commands"][:, 0], self.command)
        self.last_action[...] = xp.where(rows, 0.0, self.last_action)
        self.air_time[...] = xp.where(rows, 0.0, self.air_time)
        self._steps[...] = xp.where(starting, 0, self._steps)
        ahead.begin(starting)
        self._warp.copy_rows(starting, "next start")
        self._warp.copy_rows(starting, "next fault", "fault")

    def _start_drawn_faults(self) -> None:
        """The drawn episodes' faults whose step has come start, on the device: torque factors,
        locks at the joints' angles now, and the model fields the fault leaves."""
        ahead, xp = self._ahead, self.arrays.xp
        assert ahead is not None and self._warp is not None
        due = ~ahead.fault_active & (self._steps >= ahead.live["fault_step"])
        locks = due[:, None] & (ahead.live["fault_locked"] > 0)
        self.lock_angle[...] = xp.where(locks, self.state[:, self._joint_angles_in_state], self.lock_angle)
        ahead.start_faults(due)
        self._warp.copy_rows(due, "fault")

    def _resample_drawn(self, ended: Any) -> None:
        """Robots whose resampling period has come (and whose episode goes on) take their
        episode's next drawn command."""
        ahead, xp, period = self._ahead, self.arrays.xp, self.config.command_resample_steps
        assert ahead is not None
        commands = ahead.live["commands"]
        due = (self._steps % period == 0) & ~ended
        slot = xp.clip(self._steps // period, 0, commands.shape[1] - 1)
        self.command[...] = xp.where(due[:, None], commands[arange(len(slot), like=slot), slot], self.command)

    # --- tasks, dynamics and the host path's events ---------------------------------------
    @property
    def tasks(self) -> tuple[Task, ...]:
        """Each robot's task this episode (set_task replaces one); with episodes drawn ahead,
        its next episode's."""
        return tuple(self._tasks)

    def _refuse_when_drawn_ahead(self, what: str) -> None:
        if self._ahead is not None:
            raise ValueError(
                f"VecGo2Env.{what}: episodes are drawn ahead (EnvConfig.episodes 'ahead'), so the running "
                "episodes are on the device; set tasks and dynamics on an env that draws them as they begin"
            )

    def set_task(self, i: int, task: Task) -> None:
        """Robot ``i``'s task for the rest of its episode: its fault starts at ``task.fault_step``
        (a payload goes on at the episode's reset, so a task set later carries none over)."""
        self._refuse_when_drawn_ahead("set_task")
        self._set_task(i, task)

    def _set_task(self, i: int, task: Task) -> None:
        self._tasks[i] = task
        self.fault_step[i] = _fault_step(task)

    def set_dynamics(self, i: int, dynamics: Dynamics) -> None:
        """Robot ``i`` gets ``dynamics`` (from the nominal model; faults are applied after)."""
        self._refuse_when_drawn_ahead("set_dynamics")
        self._set_dynamics(i, dynamics)

    def _set_dynamics(self, i: int, dynamics: Dynamics) -> None:
        model, d = self.models[i], self.description
        apply_physics(model, self.index, self._nominal, dynamics)
        position_gains(model, self.index, d.kp, d.kd, dynamics)
        self.dynamics[i] = dynamics
        self.model_changed[i] = True
        self._com_offsets[i] = dynamics.base_com_offset_m
        self.kp[i] = d.kp * dynamics.kp_scale
        self.kd[i] = d.kd * dynamics.kd_scale
        self.strength[i] = dynamics.joint_strength(d.num_joints)
        self.encoder_offset[i] = dynamics.measured_offsets(d.num_joints)
        self._robots.mark(i)

    def _record_episode_terms(self, i: int) -> None:
        """Robot ``i``'s privileged dynamics term, once its episode's model is final."""
        x, base = self.dynamics[i], self.index.base_body
        self._dynamics_terms[i] = [
            x.joint_damping or 0.0,
            x.joint_friction_loss or 0.0,
            x.armature_scale,
            x.kp_scale,
            x.kd_scale,
            x.motor_strength,
            x.ground_friction or 0.0,
            self.models[i].body_mass[base] - self._nominal.body_mass[base],  # randomized and payload
            x.link_mass_scale,
            x.contact_time_constant_s or 0.0,
            self.action_delay[i] * self.config.physics_period_s,
            self.rough_height[i],
        ]

    def _limit_torques(self, dq: np.ndarray) -> None:
        """Each robot's motors get the torque range the envelope allows at its joint speeds
        ``dq`` [N, J], scaled by its strength and its faults, held for the control period:
        ``force_range``, which the warp backend takes as one batched field; mujoco.rollout
        steps position actuators in C, whose force range is per model, so there each model
        gets its row."""
        on = self._on
        lower, upper = self.envelope.bounds(dq, on["strength"] * on["torque_factor"])
        self.force_range[:, self._actuator_columns, 0], self.force_range[:, self._actuator_columns, 1] = lower, upper
        if self._warp is None:
            for model, force_range in zip(self.models, self.arrays.to_host(self.force_range), strict=True):
                model.actuator_forcerange[:] = force_range

    def _draw_rough_height(self, bounds: tuple[float, float]) -> float:
        """An episode's bump height, m: flat ground with probability 1 - ROUGH_GROUND_SHARE,
        otherwise uniform up to the curriculum's level of the range."""
        if self.rng.random() >= ROUGH_GROUND_SHARE:
            return 0.0
        low, high = bounds
        return float(self.rng.uniform(low, low + self.terrain_level * (high - low)))

    def _ground_under(self, sensors: np.ndarray, z_index: np.ndarray) -> np.ndarray:
        """Ground height, m, under framepos sensors whose z is at ``z_index`` [K] in
        ``sensors`` [N, ..., nsensordata]: [N, ..., K] (zeros on flat ground)."""
        if self._ground is None:
            return self.arrays.xp.zeros_like(sensors[..., z_index])
        heights = self._on["rough_height"]
        return self._ground.height(sensors[..., z_index - 2], sensors[..., z_index - 1], heights)

    def _advance_terrain_curriculum(self, survived: int, fell: int) -> None:
        """Robots that lasted their episode raise the bump height; falls (and knees on the floor)
        with no failed joint lower it twice as fast (a failure's falls say nothing about the ground)."""
        self.terrain_level = float(np.clip(self.terrain_level + 1e-3 * survived - 2e-3 * fell, 0.0, 1.0))

    def _end_on_host(self, terminated: Any) -> None:
        """The host path's end of a step: the one array it brings back, which robots' episodes
        ended in a fall (or a knee down where that ends them); time-outs, command changes and
        the curriculum follow from the host's own step counts; the ended episodes start anew."""
        cfg = self.config
        fell = self.arrays.to_host(terminated)
        timed_out = (self.step_count >= cfg.episode_steps) & ~fell
        resample = np.flatnonzero((self.step_count % cfg.command_resample_steps == 0) & ~(fell | timed_out))
        if len(resample):
            self._put(self.command, resample, cfg.commands.sample(self.rng, len(resample)))
        self._advance_terrain_curriculum(int(timed_out.sum()), int((fell & ~self.fault_active).sum()))
        done = np.flatnonzero(fell | timed_out)
        if len(done):
            self._reset_envs(done)

    def _fault_share(self) -> Any:
        """The share of robots whose fault is active (a float, or a 0-d array on the device)."""
        if self._ahead is None:
            return float(self.fault_active.mean())
        return self.arrays.xp.mean(astype(self._ahead.fault_active, "float64"))

    def _push(self) -> None:
        """Kick the robots whose push is due: a horizontal velocity change of the base."""
        ranges = self.config.randomization
        due = np.flatnonzero(self.step_count >= self.next_push)
        if ranges is None or not len(due):
            return
        kicks = rnd.push_velocities(ranges.push_velocity_m_s, len(due), self.rng)
        self.state[due, self._qvel0 : self._qvel0 + 2] += self.arrays.asarray(kicks)
        self.next_push[due] += rnd.push_intervals(ranges.push_interval_s, self.dt, len(due), self.rng)

    def _start_due_faults(self) -> None:
        """Apply the faults whose step has come (a few robots per step: the loop is over those):
        each edits its robot's MjModel on the host, which needs no state (the state is not part
        of a fault) but a lock's angle. C MuJoCo takes that from the model, so there the state
        rows come to the host; Warp takes it from ``lock_angle``, copied where the task's arrays
        are, so nothing comes back (the model's own lock angle is then NaN and not read, and the
        fault's start time is the episode's step count)."""
        due = np.flatnonzero(~self.fault_active & (self.step_count >= self.fault_step))
        if not len(due):
            return
        states = self.arrays.to_host(self.state[due]) if self._warp is None else None
        if states is None:  # the model's lock angle is then not the robot's: NaN says so to any reader
            self._scratch.qpos[:] = np.nan
        for row, i in enumerate(due):
            fault, model = self._tasks[i].fault, self.models[i]
            assert fault is not None  # fault_step is NO_FAULT otherwise
            if states is not None:
                mujoco.mj_setState(model, self._scratch, states[row], STATE_SPEC)
            else:
                self._scratch.time = self.step_count[i] * self.dt
            self.injectors[i].apply(fault, self._scratch)
            self.model_changed[i] = True
            self.torque_factor[i] = self.injectors[i].torque_factor
            self.locked[i] = model.eq_active0[self.index.lock_equalities]
        robots, joints = np.nonzero(self.locked[due] > 0)  # a robot's one fault this episode
        if len(robots):
            rows = due[robots]
            self.lock_angle[rows, joints] = self.state[rows, self._qpos0 + self.index.qpos[joints]]
        self._robots.mark(due)  # step() publishes them before it reads them
        self.fault_active[due] = True

    # --- observation --------------------------------------------------------------------
    def _split(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        nq, nv = self.models[0].nq, self.models[0].nv
        return state[:, self._qpos0 : self._qpos0 + nq], state[:, self._qvel0 : self._qvel0 + nv]

    def observe(self) -> np.ndarray:
        """[N, D] float32: what each robot's sensors report (sensor_delay old, with noise when
        randomized), in the policy node's observation layout."""
        qpos, qvel = self._split(self._sensed)
        quat = qpos[:, 3:7]
        raw = {
            "base_angular_velocity": qvel[:, 3:6],  # free joint: angular velocity in the body frame
            "projected_gravity": projected_gravity(quat),
            "velocity_command": self.command,
            "joint_position": qpos[:, self._qpos_columns] + self._on["encoder_offset"] - self._default_pose,
            "joint_velocity": qvel[:, self._qvel_columns],
            "last_action": self.last_action,
        }
        if self.config.randomization is not None:
            raw = rnd.observation_noise(self.config.randomization, raw, self._noise)
        return self._layouts[0].build(raw)

    def initial_privileged(self) -> np.ndarray:
        """Privileged terms right after reset(): feet on the ground, knees up."""
        n, zeros = self.config.num_envs, self.arrays.zeros
        return self.privileged(zeros((n, 4), bool) | True, zeros((n, 4), bool))

    def privileged(self, feet_contact: np.ndarray, knee_contact: np.ndarray) -> np.ndarray:
        """[N, P] float32: ground truth for the critic (memaug_train.privileged), from the
        current state; contacts [N, 4] in feet order."""
        on = self._on
        qpos, qvel = self._split(self.state)
        quat = qpos[:, 3:7]
        raw = {
            "base_linear_velocity": rotate_to_base(quat, qvel[:, 0:3]),
            "base_height": qpos[:, 2:3] - self.description.nominal_base_height_m,
            "feet_contact": astype(feet_contact, "float64"),
            "knee_contact": astype(knee_contact, "float64"),
            "motor_torque_left": on["torque_factor"],
            "joint_locked": on["locked"],
            "dynamics": on["dynamics_terms"],
            "base_com_offset": on["com_offsets"],
        }
        return self._layouts[1].build(raw)

    # --- stepping -----------------------------------------------------------------------
    def _physics(self, control: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Step every robot ``substeps`` physics steps under ``control`` [N, substeps, nu]:
        (states [N, substeps, S], sensors [N, substeps, nsensordata]), where the task's arrays are."""
        if self._warp is not None:
            return self._warp.rollout(
                self.models, self.model_changed, self.force_range, self.lock_angle, self.state, control
            )
        arrays = self.arrays
        self._control[:] = arrays.to_host(control)
        states, sensors = self._rollout.rollout(
            self.models,
            self._thread_data,
            arrays.to_host(self.state),
            self._control,
            control_spec=mujoco.mjtState.mjSTATE_CTRL.value,
            skip_checks=True,
            nstep=self.substeps,
            state=self._states_out,
            sensordata=self._sensors_out,
            chunk_size=self._chunk,
        )
        return arrays.asarray(states), arrays.asarray(sensors)

    def step(self, action: np.ndarray) -> StepResult:
        cfg, xp = self.config, self.arrays.xp
        action = self.arrays.asarray(action)
        if self._ahead is None:
            self._start_due_faults()
            self._push()
            self._robots.publish()  # rows set_dynamics wrote since the last step, if any
        else:
            self._start_drawn_faults()
            self.state[:, self._qvel0 : self._qvel0 + 2] += self._ahead.kicks(self._steps)
        on = self._on
        # The policy node's last gate, applied here too: targets clipped into the band around
        # the measured position where kp * (q* - q) stays inside the torque limit. Without it
        # the deployed policy would meet a clipping it never saw in training. The node sees
        # the measured (sensed) position, so that is what the band is around.
        qvel_now = self._split(self.state)[1]
        q_sensed = self._split(self._sensed)[0][:, self._qpos_columns] + on["encoder_offset"]
        wanted = self._actions.unclipped(action)  # the reward charges what lies past the range
        in_range = self._actions.in_range(wanted)
        targets = self._limits.apply(in_range, q_sensed)
        # The motors servo on their own encoders: with an offset they hold the true angle
        # target - offset. Position actuators act on the true angle, so they get that.
        motor_targets = targets - on["encoder_offset"]
        control = rnd.delayed_controls(motor_targets, self._previous_targets, on["action_delay"], self.substeps)
        self._previous_targets = motor_targets
        self._limit_torques(qvel_now[:, self._qvel_columns])
        states, sensors = self._physics(control)
        self.state[:] = states[:, -1, :]
        delay = clip(on["sensor_delay"], None, self.substeps - 1)
        self._sensed[:] = states[arange(len(states), like=states), self.substeps - 1 - delay]
        self.step_count += 1
        if self._steps is not self.step_count:  # its twin on the device
            self._steps += 1
        dq_all = states[:, :, self._qvel0 : self._qvel0 + self.models[0].nv][:, :, self._qvel_columns]
        peak_speed = xp.max(xp.abs(dq_all) / self._velocity_limits, axis=(1, 2))

        # Foot contacts at every physics step, for air time.
        # [N, substeps, F] m from each foot's sphere to the ground under it
        feet_z = sensors[:, :, self._feet_sensor] - self._foot_radius - self._ground_under(sensors, self._feet_sensor)
        knee_height = sensors[:, -1, self._knee_sensor] - self._ground_under(sensors[:, -1], self._knee_sensor)
        on_ground = feet_z < FOOT_CONTACT_M  # [N, substeps, F]
        touchdown_air = xp.zeros_like(self.air_time)
        for k in range(self.substeps):
            contact = on_ground[:, k]
            touchdown_air += xp.where(contact & (self.air_time > 0), self.air_time, 0.0)
            self.air_time = xp.where(contact, 0.0, self.air_time + cfg.physics_period_s)

        qpos, qvel = self._split(self.state)
        quat = qpos[:, 3:7]
        gravity = projected_gravity(quat)
        q, dq = qpos[:, self._qpos_columns], qvel[:, self._qvel_columns]
        factor = on["strength"] * on["torque_factor"]
        torque = self.envelope.clip(on["kp"] * (motor_targets - q) - on["kd"] * dq, dq, factor)
        batch = RobotBatch(
            command=self.command,
            linear_velocity=rotate_to_base(quat, qvel[:, 0:3]),
            angular_velocity=qvel[:, 3:6],
            projected_gravity=gravity,
            base_height=qpos[:, 2],
            joint_velocity=dq,
            torque=torque,
            action=action,
            last_action=self.last_action,
            feet_air_time=touchdown_air,
            feet_contact=on_ground[:, -1][:, self._feet_canonical],
            knee_height=knee_height,
            joint_speed_fraction=xp.abs(dq) / self._velocity_limits,
            joint_range_fraction=(q - self._range_middle) / self._range_half,
            target_beyond_range=xp.abs(wanted - in_range),
        )
        reward, terms = total_reward(batch, self.dt)
        # Where a knee on the floor ends the episode (EnvConfig.knee_down_ends_episode), the
        # critic's knee_contact input reads 0: an episode with a knee down has ended.
        knees_down = knee_height < KNEE_CONTACT_M  # [N, 4] canonical leg order
        terminated = fallen(qpos[:, 2], gravity)
        if cfg.knee_down_ends_episode:
            terminated |= xp.any(knees_down, axis=1)
        terminated |= ~xp.all(xp.isfinite(self.state), axis=1)
        self.last_action = xp.asarray(action, copy=True)
        truncated = (self._steps >= cfg.episode_steps) & ~terminated
        ended = terminated | truncated
        info = {
            **terms,
            "falls": xp.sum(astype(terminated, "float64")),
            "fault_active": self._fault_share(),
            "terrain_level": self.terrain_level,
        }
        # Robots that start anew stand on their feet with their knees up.
        feet_contact = xp.where(ended[:, None], True, on_ground[:, -1])
        knee_contact = xp.where(ended[:, None], False, knees_down[:, self._feet_from_canonical])
        if self._ahead is None:
            self._end_on_host(terminated)
        else:
            self._resample_drawn(ended)
            self._ahead.count_ends(truncated, terminated)
            self._begin_drawn(ended)
        return StepResult(
            self.observe(),
            reward,
            terminated,
            truncated,
            info,
            batch.linear_velocity,
            self.privileged(feet_contact, knee_contact),
            peak_speed,
        )


#: How long a robot holds its default pose before an episode's start state is taken, s.
SETTLE_S = 1.0


def settled_stand_state(
    model: mujoco.MjModel, data: mujoco.MjData, keyframe: int, default_pose: np.ndarray
) -> np.ndarray:
    """Full-physics state of a robot that has stood SETTLE_S under PD on its default pose, time 0.

    Episodes start here, not at the keyframe, because that is how the deployed policy finds
    the robot: the policy node's stand phase holds the default pose, and under its own
    weight the robot sags (calves ~0.15 rad below default with kp 40) before the policy
    takes over. A policy trained only from the unloaded keyframe pose lunged from this
    state and fell. ``model`` must have position actuators (ctrl = joint targets).
    """
    mujoco.mj_resetDataKeyframe(model, data, keyframe)
    data.ctrl[:] = default_pose
    for _ in range(round(SETTLE_S / model.opt.timestep)):
        mujoco.mj_step(model, data)
    data.time = 0.0
    state = np.zeros(mujoco.mj_stateSize(model, STATE_SPEC))
    mujoco.mj_getState(model, data, state, STATE_SPEC)
    return state


#: fault_step of a robot whose episode has no fault: a step no episode reaches.
NO_FAULT = np.iinfo(np.int64).max


def _fault_step(task: Task) -> int:
    return task.fault_step if task.fault is not None else int(NO_FAULT)


def _substeps(control_period_s: float, physics_period_s: float) -> int:
    steps = whole_steps(control_period_s, physics_period_s)
    if steps is None:
        raise ValueError(
            f"EnvConfig.physics_period_s ({physics_period_s}) must divide the control period ({control_period_s})"
        )
    return steps


def _height_index(model: mujoco.MjModel, sensor: str) -> int:
    """sensordata index of the world z of the framepos sensor ``sensor`` (a foot's or a knee's)."""
    try:
        return int(model.sensor(sensor).adr[0]) + 2
    except KeyError:
        raise ValueError(f"the MJCF has no framepos sensor {sensor!r}") from None


#: Leg order the reward terms see feet in: front-right, front-left, rear-right, rear-left.
CANONICAL_LEGS = ("FR", "FL", "RR", "RL")


def canonical_feet_order(feet: tuple[str, ...] | list[str]) -> np.ndarray:
    """Indices that put the description's feet (named LEG_..., e.g. FR_foot) in CANONICAL_LEGS order."""
    prefixes = [leg_of(name) for name in feet]
    missing = [leg for leg in CANONICAL_LEGS if leg not in prefixes]
    if missing or len(prefixes) != len(CANONICAL_LEGS):
        raise ValueError(f"feet {list(feet)} must be one per leg {CANONICAL_LEGS}, named LEG_...")
    return np.array([prefixes.index(leg) for leg in CANONICAL_LEGS])
