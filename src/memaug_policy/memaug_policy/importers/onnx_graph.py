"""The network of an imported policy as an ONNX graph in the contract's signature.

Inputs ``obs`` [1, obs_dim] (+ ``h_in`` / ``c_in`` [layers, 1, hidden]); outputs ``actions``
[1, act_dim] (+ ``h_out`` / ``c_out``). rsl_rl's, mjlab's and unitree_rl_lab's exporters already
use these names; a batch dimension left symbolic is fixed to 1 (the runtime feeds one robot).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import onnx

from memaug_policy.contract import input_names, output_names
from memaug_policy.importers.errors import PolicyImportError


@dataclass(frozen=True)
class Network:
    proto: onnx.ModelProto
    cell: str  # gru | lstm | none
    layers: int
    hidden: int
    obs_dim: int
    act_dim: int


def load_onnx(path: Path) -> onnx.ModelProto:
    if not path.is_file():
        raise PolicyImportError(f"policy network not found: {path}")
    try:
        return onnx.load(str(path))
    except Exception as exc:  # protobuf's decode errors have no common public type
        raise PolicyImportError(f"{path} is not a readable ONNX file ({type(exc).__name__})") from exc


def network_from_onnx(proto: onnx.ModelProto, source: Path) -> Network:
    """Check names and shapes, fix a symbolic batch dimension to 1, and read the cell."""
    graph = proto.graph
    initializers = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    names = [i.name for i in inputs]
    cell = "lstm" if "c_in" in names else "gru" if "h_in" in names else "none"
    if sorted(names) != sorted(input_names(cell)):
        raise PolicyImportError(f"{source}: network inputs are {names}; expected {input_names(cell)}")
    out_names = [o.name for o in graph.output]
    if sorted(out_names) != sorted(output_names(cell)):
        raise PolicyImportError(f"{source}: network outputs are {out_names}; expected {output_names(cell)}")
    shapes = {v.name: _fixed_shape(v, source) for v in [*inputs, *graph.output]}
    obs, actions = shapes["obs"], shapes["actions"]
    if len(obs) != 2 or len(actions) != 2:
        raise PolicyImportError(f"{source}: obs {obs} and actions {actions} must be [1, n]")
    layers = hidden = 0
    if cell != "none":
        state = shapes["h_in"]
        if len(state) != 3 or state[1] != 1:
            raise PolicyImportError(f"{source}: h_in has shape {state}; expected [layers, 1, hidden]")
        layers, hidden = state[0], state[2]
    return Network(proto, cell, layers, hidden, obs[1], actions[1])


def _fixed_shape(value: onnx.ValueInfoProto, source: Path) -> list[int]:
    """The value's shape, a symbolic first (batch) dimension fixed to 1 in the proto itself."""
    dims = value.type.tensor_type.shape.dim
    shape = []
    for k, dim in enumerate(dims):
        if dim.HasField("dim_value"):
            shape.append(dim.dim_value)
        elif k == 0 or (value.name in ("h_in", "c_in", "h_out", "c_out") and k == 1):
            dim.Clear()
            dim.dim_value = 1
            shape.append(1)
        else:
            raise PolicyImportError(f"{source}: {value.name} has a symbolic dimension {k} ({dim.dim_param!r})")
    return shape


def name_single_io(proto: onnx.ModelProto) -> onnx.ModelProto:
    """A feed-forward network with one input and one output of other names (rl_sar's ONNX files
    keep their exporter's) gets the contract's names ``obs`` and ``actions``."""
    graph = proto.graph
    initializers = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1 or len(graph.output) != 1:
        return proto
    renames = {inputs[0].name: "obs", graph.output[0].name: "actions"}
    for value in (inputs[0], graph.output[0]):
        value.name = renames[value.name]
    for node in graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    return proto
