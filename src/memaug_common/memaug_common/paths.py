"""Where memaug's config/ folder is, for a checkout, a pip install or a colcon install."""

from __future__ import annotations

import os
from pathlib import Path

from memaug_common.errors import ConfigError

CONFIG_ENV = "MEMAUG_CONFIG_DIR"


class ConfigNotFoundError(ConfigError, FileNotFoundError):
    """Raised when no config/ folder (or a named file in it) can be found."""


def config_dir() -> Path:
    """Return memaug's config/ folder.

    Looked up in order: $MEMAUG_CONFIG_DIR (an override), the repository checkout this module
    lives in (pip editable installs and colcon --symlink-install: edits to config/ apply at
    once), and memaug_common's share folder found through the ament index (a colcon or pip
    install, whatever the working directory).
    """
    candidates: list[Path] = []
    if env := os.environ.get(CONFIG_ENV):
        candidates.append(Path(env))
    here = Path(__file__).resolve()
    candidates.extend(parent / "config" for parent in here.parents)
    for candidate in candidates:
        if (candidate / "robots").is_dir():
            return candidate
    if share := _share_dir("memaug_common"):
        candidates.append(share / "config")
        if (share / "config" / "robots").is_dir():
            return share / "config"
    raise ConfigNotFoundError(
        f"memaug config/ folder not found; set {CONFIG_ENV} to the folder that holds robots/ "
        f"(looked in: {', '.join(str(c) for c in candidates[:4])}, ...)"
    )


def _share_dir(package: str) -> Path | None:
    """``package``'s share folder from the ament index (AMENT_PREFIX_PATH), or None."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
    except ImportError:
        return None
    try:
        return Path(get_package_share_directory(package))
    except (PackageNotFoundError, ValueError, LookupError, OSError):  # OSError: no AMENT_PREFIX_PATH
        return None


def resolve_config_file(name_or_path: str | os.PathLike[str], kind: str) -> Path:
    """Resolve a config file given as a path or as a bare name under config/<kind>/.

    ``resolve_config_file("go2", "robots")`` finds config/robots/go2.yaml;
    ``resolve_config_file("/tmp/x.yaml", "robots")`` returns that path if it exists.
    """
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} or path.parent != Path("."):
        if not path.is_file():
            raise ConfigNotFoundError(f"{kind} file not found: {path}")
        return path
    folder = config_dir() / kind
    for suffix in (".yaml", ".yml"):
        candidate = folder / f"{path.name}{suffix}"
        if candidate.is_file():
            return candidate
    known = sorted(p.stem for p in folder.glob("*.y*ml"))
    raise ConfigNotFoundError(f"no {kind} named {str(name_or_path)!r} in {folder}; known: {known}")
