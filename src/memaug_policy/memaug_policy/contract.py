"""Names and version of the exported policy contract (shared by exporter, importers and runtime).

Format 2 (issue 29) adds what policies trained elsewhere need; every key it adds is optional,
and a file without them means exactly what format 1 meant:

- ``joint_names`` is the *policy's* joint order: a permutation of the robot description's
  joints (the joint map). Format 1 required the description's own order.
- ``default_joint_positions``, ``kp``, ``kd`` and every per-joint list are in that order.
- ``action_scale`` is one number or one per joint; ``actions`` (optional) holds the per-joint
  ``offset`` (default: the default joint positions), ``raw_clip`` ([J, 2] on the network's
  output before scaling, or null), ``target_clip`` ([J, 2] on the position target) and
  ``last_action`` ("raw" or "clipped": which one the observation feeds back). A file without
  ``actions`` (format 1, memaug_train's exports) clips the raw output to +-10, as format 1 did.
- ``observation_terms`` entries may carry ``clip`` ([low, high], applied before the scale)
  and ``history`` (frames of that term the network sees, default 1); ``observation``
  (optional) says how history frames are laid out (``order`` term_major | time_major,
  ``newest_first``), how they are filled after a reset (``fill`` first | zeros) and a
  symmetric ``clip`` of the whole scaled vector.
- ``recurrent.cell`` may be ``none``: a policy without memory has no state inputs or outputs.
"""

from __future__ import annotations

FORMAT_VERSION = 2
SUPPORTED_FORMAT_VERSIONS = (1, 2)

#: Recurrent cells the runtime knows; "none" is a policy without memory.
CELLS = ("gru", "lstm", "none")

REQUIRED_METADATA = (
    "format_version",
    "robot",
    "joint_names",
    "default_joint_positions",
    "action_scale",
    "kp",
    "kd",
    "control_period_s",
    "observation_terms",
    "command_ranges",
    "recurrent",
    "provenance",
)

#: Format-2 keys a file may leave out (their absence means format 1's behaviour).
OPTIONAL_METADATA = ("actions", "observation")


def state_names(cell: str) -> list[str]:
    """The recurrent state's input names for ``cell`` (outputs: the same with ``_out``)."""
    return {"lstm": ["h_in", "c_in"], "gru": ["h_in"]}.get(cell, [])


def input_names(cell: str) -> list[str]:
    return ["obs", *state_names(cell)]


def output_names(cell: str) -> list[str]:
    return ["actions", *(name.replace("_in", "_out") for name in state_names(cell))]
