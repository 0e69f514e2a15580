"""Read a framework's YAML dump, including the Python tags Isaac Lab's dump writes.

Isaac Lab dumps its config classes with PyYAML's default dumper, so tuples arrive as
``!!python/tuple`` and a few values as other ``!!python/...`` tags. Nothing is executed:
a tagged node becomes the plain list, mapping or string it holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from memaug_policy.importers.errors import PolicyImportError


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that reads every !!python/... node as plain data."""


def _plain(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_PlainLoader.add_multi_constructor("tag:yaml.org,2002:python/", _plain)


def read_yaml(path: Path, what: str) -> dict[str, Any]:
    """``path`` as a mapping; PolicyImportError naming the file when missing or unreadable."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise PolicyImportError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.load(text, Loader=_PlainLoader)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        raise PolicyImportError(f"{what} {path} is not valid YAML: {first}") from exc
    if not isinstance(data, dict):
        raise PolicyImportError(f"{what} {path} must be a YAML mapping, got {type(data).__name__}")
    return data
