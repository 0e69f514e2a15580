"""TorchScript policies -> ONNX with the recurrent state as explicit inputs and outputs.

legged_gym / unitree_rl_gym export a feed-forward actor as a scripted module (``policy_1.pt``:
obs -> actions), and a recurrent one as a scripted module that keeps its LSTM state in two
buffers, ``hidden_state`` and ``cell_state`` [layers, 1, hidden], updated by forward and zeroed by
``reset_memory()`` (``policy_lstm_1.pt``: submodules ``memory``, an LSTM fed obs[None], and
``actor``). rsl_rl's ``policy.pt`` has the same shape with the RNN named ``rnn`` (an LSTM with
both buffers, or a GRU with ``hidden_state`` only), a ``normalizer`` applied to obs first, and
``reset()``. ONNX and memaug's runtime want the state outside the network: the RNN is rebuilt
from the scripted one's weights and the exported graph is obs, h_in (, c_in) -> actions,
h_out (, c_out), so the node owns the memory and resets it when it enters run mode. torch is
imported only here: importing a TorchScript file needs it, running the result does not.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import Any

import onnx

from memaug_policy.contract import input_names, output_names
from memaug_policy.importers.errors import PolicyImportError


def _torch() -> Any:
    try:
        import torch
    except ModuleNotFoundError as exc:
        raise PolicyImportError("importing a TorchScript policy needs torch (pip install torch==2.13.0)") from exc
    return torch


def torchscript_to_onnx(path: Path, obs_dim: int | None = None) -> onnx.ModelProto:
    """The scripted policy at ``path`` as an ONNX graph in the contract's signature; ``obs_dim``
    when the source says it, else found by running the module on zeros of each linear layer's
    input size in turn (a policy with an estimator in front has its actor's size first)."""
    torch = _torch()
    if not path.is_file():
        raise PolicyImportError(f"policy network not found: {path}")
    try:
        module = torch.jit.load(str(path), map_location="cpu").eval()
    except Exception as exc:  # torch raises RuntimeError or its own types for a bad archive
        raise PolicyImportError(f"{path} is not a loadable TorchScript file ({type(exc).__name__})") from exc
    buffers = dict(module.named_buffers(recurse=False))
    children = dict(module.named_children())
    if "hidden_state" in buffers:
        rnn = children.get("memory", children.get("rnn"))
        if rnn is None or "actor" not in children:
            raise PolicyImportError(
                f"{path}: a recurrent TorchScript policy needs submodules memory or rnn and actor (legged_gym's and "
                f"rsl_rl's exporters); found {sorted(children)}"
            )
        cell = "lstm" if "cell_state" in buffers else "gru"
        network = _explicit_recurrent(torch, cell, rnn, children["actor"], children.get("normalizer"), path)
        layers, _, hidden = buffers["hidden_state"].shape
        state = [torch.zeros(layers, 1, hidden)] * (2 if cell == "lstm" else 1)
        example: tuple[Any, ...] = (torch.zeros(1, network.rnn.input_size), *state)
    else:
        network, cell = module, "none"
        example = (torch.zeros(1, obs_dim or _probe_obs_dim(torch, module, path)),)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                network,
                example,
                buffer,
                input_names=input_names(cell),
                output_names=output_names(cell),
                opset_version=17,
                dynamo=False,
            )
    except Exception as exc:  # the exporter raises several types; the op it names is what matters
        text = str(exc)
        op = re.search(r"operator '?([\w:.]+)'?", text) or re.search(r"(aten::\w+|prim::\w+)", text)
        what = f"op {op.group(1)}" if op else text.splitlines()[0] if text else type(exc).__name__
        raise PolicyImportError(f"{path}: cannot be converted to ONNX: {what}") from exc
    return onnx.load_from_string(buffer.getvalue())


def _probe_obs_dim(torch: Any, module: Any, path: Path) -> int:
    sizes = list(dict.fromkeys(int(p.shape[1]) for _, p in module.named_parameters() if p.dim() == 2))
    for size in sizes:
        try:
            with torch.no_grad():
                module(torch.zeros(1, size))
        except Exception:
            continue
        return size
    raise PolicyImportError(f"{path}: no input size among its linear layers' {sizes} runs the module")


def _explicit_recurrent(torch: Any, cell: str, rnn: Any, actor: Any, normalizer: Any, path: Path) -> Any:
    """A scripted module: (obs [1, n], h [L, 1, H] (, c)) -> (actor(rnn(normalizer(obs))), h' (, c'))."""
    weights = dict(rnn.state_dict())
    layers = sum(1 for key in weights if re.fullmatch(r"weight_ih_l\d+", key))
    if layers == 0:
        raise PolicyImportError(f"{path}: the recurrent policy's memory is not an RNN (no weight_ih_l0)")
    hidden, inputs = weights["weight_hh_l0"].shape[1], weights["weight_ih_l0"].shape[1]
    gates = weights["weight_hh_l0"].shape[0] // hidden
    if gates != {"lstm": 4, "gru": 3}[cell]:
        raise PolicyImportError(f"{path}: the state buffers say {cell}, the weights have {gates} gates")
    kind = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU

    class Base(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = kind(inputs, hidden, num_layers=layers, bias="bias_ih_l0" in weights)
            self.rnn.load_state_dict(weights)
            self.actor = actor
            self.normalizer = normalizer if normalizer is not None else torch.nn.Identity()

    class ExplicitStateLSTM(Base):
        def forward(self, obs: torch.Tensor, h_in: torch.Tensor, c_in: torch.Tensor):
            out, (h_out, c_out) = self.rnn(self.normalizer(obs).unsqueeze(0), (h_in, c_in))
            return self.actor(out.squeeze(0)), h_out, c_out

    class ExplicitStateGRU(Base):
        def forward(self, obs: torch.Tensor, h_in: torch.Tensor):
            out, h_out = self.rnn(self.normalizer(obs).unsqueeze(0), h_in)
            return self.actor(out.squeeze(0)), h_out

    return torch.jit.script((ExplicitStateLSTM if cell == "lstm" else ExplicitStateGRU)().eval())
