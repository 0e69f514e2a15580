"""Load YAML config files into validated pydantic models, with errors that name the field."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import pydantic
import yaml

from memaug_common.errors import ConfigError

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)


def format_validation_error(error: pydantic.ValidationError) -> str:
    """One line per problem: ``field.path: message``."""
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "<root>"
        lines.append(f"  {location}: {item['msg']}")
    return "\n".join(lines)


def load_yaml_model(path: Path, model: type[ModelT], what: str) -> ModelT:
    """Read ``path`` and validate it as ``model``; raise ConfigError naming file and fields."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{what} {path} must be a YAML mapping, got {type(raw).__name__}")
    try:
        return model.model_validate(raw, context={"source": path})
    except pydantic.ValidationError as exc:
        raise ConfigError(f"invalid {what} {path}:\n{format_validation_error(exc)}") from exc
