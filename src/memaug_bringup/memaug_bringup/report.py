"""`memaug report BAG`: a self-contained HTML report with PNG plots, from the bag alone.

Read with the independent rosbags reader (memaug_bringup.bag_reader). Plots: commanded vs
achieved base velocity, base height and orientation, joint positions and torques, the FSM
and fault timeline, the policy latency summary, and a PCA of /policy/memory coloured by
fault state (the method's task-embedding figure: do the failures separate?).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from memaug_bringup.bag_reader import RunData, read_run
from memaug_bringup.summary import commanded_velocity, summarize
from memaug_policy.observation import projected_gravity


def _timeline(ax: plt.Axes, data: RunData) -> None:
    for t, mode in data.modes:
        ax.axvline(t, color="0.6", lw=0.8, ls="--")
        ax.text(t, ax.get_ylim()[1], f" {mode}", fontsize=7, va="top", color="0.4")
    for fault in data.faults:
        ax.axvline(float(fault["t"]), color="red", lw=1.2)


def _finish(fig: plt.Figure, axes: np.ndarray, data: RunData, path: Path) -> None:
    """Fault/mode timeline on every axis, time label on the last, save, close."""
    for ax in axes:
        _timeline(ax, data)
    axes[-1].set_xlabel("time, s (dashed: mode changes, red: fault injected)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_velocity(data: RunData, path: Path) -> None:
    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    command_t, command = commanded_velocity(data)
    for ax, i, label in ((axes[0], 0, "forward velocity vx, m/s"), (axes[1], 1, "lateral velocity vy, m/s")):
        if len(data.odom_t):
            ax.plot(data.odom_t, data.odom_velocity[:, i], lw=0.8, label="achieved (odom, base frame)")
        if len(command):
            ax.step(command_t, command[:, i], where="post", lw=1.2, label="commanded")
        ax.set_ylabel(label)
    if not len(data.odom_t):
        axes[0].set_title("achieved: not measured (no /odom on this target)", fontsize=9)
    axes[0].legend(fontsize=8)
    _finish(fig, axes, data, path)


def plot_base(data: RunData, path: Path) -> None:
    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    axes[0].plot(data.odom_t, data.odom_position[:, 2], lw=0.8)
    axes[0].set_ylabel("base height, m")
    gravity = projected_gravity(data.odom_quat_wxyz) if len(data.odom_t) else np.zeros((0, 3))
    axes[1].plot(data.odom_t, np.degrees(np.arcsin(np.clip(gravity[:, 1], -1, 1))), lw=0.8, label="roll")
    axes[1].plot(data.odom_t, np.degrees(np.arcsin(np.clip(-gravity[:, 0], -1, 1))), lw=0.8, label="pitch")
    axes[1].set_ylabel("deg")
    axes[1].legend(fontsize=8)
    _finish(fig, axes, data, path)


def plot_joints(data: RunData, path: Path) -> None:
    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for j, name in enumerate(data.joint_names):
        axes[0].plot(data.joint_t, data.joint_position[:, j], lw=0.6, label=name)
        axes[1].plot(data.joint_t, data.joint_effort[:, j], lw=0.6)
    axes[0].set_ylabel("joint position, rad")
    axes[1].set_ylabel("joint torque, N m")
    axes[0].legend(fontsize=6, ncol=4)
    _finish(fig, axes, data, path)


def plot_memory_pca(data: RunData, path: Path) -> str:
    """PCA of the hidden state, coloured before/after each fault. Returns a caption."""
    fig, ax = plt.subplots(figsize=(6, 5))
    if len(data.memory) < 3:
        ax.text(0.5, 0.5, "too few hidden states for a PCA", ha="center")
        caption = f"{len(data.memory)} hidden states recorded: too few for a PCA"
    else:
        centred = data.memory - data.memory.mean(axis=0)
        _, singular, vt = np.linalg.svd(centred, full_matrices=False)
        projected = centred @ vt[:2].T
        explained = singular[:2] ** 2 / max(np.sum(singular**2), 1e-12)
        fault_times = sorted(float(f["t"]) for f in data.faults)
        labels = np.searchsorted(fault_times, data.memory_t)
        names = ["nominal"] + [f"{f['kind']} {f['joint']}" for f in sorted(data.faults, key=lambda f: float(f["t"]))]
        for k in np.unique(labels):
            mask = labels == k
            ax.scatter(projected[mask, 0], projected[mask, 1], s=4, alpha=0.6, label=names[k])
        ax.set_xlabel(f"PC1 ({explained[0]:.0%})")
        ax.set_ylabel(f"PC2 ({explained[1]:.0%})")
        ax.legend(fontsize=8)
        caption = f"{len(data.memory)} hidden states; PC1+PC2 explain {explained.sum():.0%} of the variance"
    ax.set_title("policy memory (hidden state), PCA")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return caption


def write_report(bag: Path, out: Path | None = None) -> Path:
    """The bag's report (index.html and its plots) in ``out`` (default bag/report)."""
    return render_report(read_run(bag), out or bag / "report")


def render_report(data: RunData, out: Path) -> Path:
    """The report of a run read from its bag: index.html and its plots in ``out``."""
    bag = data.bag
    summary = summarize(data)
    out.mkdir(parents=True, exist_ok=True)
    plot_velocity(data, out / "velocity.png")
    # The base's height and attitude come from /odom, which only a simulator publishes.
    if len(data.odom_t):
        plot_base(data, out / "base.png")
        base = '<img src="base.png" alt="base">'
    else:
        base = "<p>Not measured: no /odom on this target (only memaug sim and the emulator publish it).</p>"
    plot_joints(data, out / "joints.png")
    # A policy without memory publishes no /policy/memory: its report has no memory section.
    memory = ""
    if len(data.memory_t):
        caption = plot_memory_pca(data, out / "memory_pca.png")
        memory = f'<h2>Memory</h2><p>{html.escape(caption)}</p><img src="memory_pca.png" alt="memory PCA">\n'
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=True))

    def cell(value: object) -> str:
        return html.escape(json.dumps(value) if isinstance(value, list | dict) else str(value))

    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{cell(v)}</td></tr>" for k, v in summary.items())
    timeline = "".join(f"<li>{t:.2f} s: mode {html.escape(m)}</li>" for t, m in data.modes) + "".join(
        f"<li>{float(f['t']):.2f} s (sim {float(f['sim_time_s']):.2f} s): fault {html.escape(str(f['kind']))} "
        f"{html.escape(str(f['joint']))}</li>"
        for f in data.faults
    )
    policy = data.policy_status
    latency = (
        f"policy step p50 {policy.get('policy_step_ms_p50', '?')} ms, p99 {policy.get('policy_step_ms_p99', '?')} ms,"
        f" tick jitter p99 {policy.get('tick_jitter_ms_p99', '?')} ms, deadline misses "
        f"{policy.get('deadline_misses', '?')} (from the policy node's last /diagnostics)"
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>memaug run {html.escape(bag.name)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:auto}}th{{text-align:left;padding-right:1em}}</style>
</head><body><h1>memaug run: {html.escape(str(bag))}</h1>
<h2>Summary</h2><table>{rows}</table>
<h2>Timeline</h2><ul>{timeline}</ul>
<h2>Velocity tracking</h2><img src="velocity.png" alt="velocity">
<h2>Base height and orientation</h2>{base}
<h2>Joints</h2><img src="joints.png" alt="joints">
<h2>Policy latency</h2><p>{html.escape(latency)}</p>
{memory}</body></html>"""
    index = out / "index.html"
    index.write_text(page)
    return index
