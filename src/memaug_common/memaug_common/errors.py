"""Errors shared by memaug packages: each names the file and field that is wrong."""


class ConfigError(ValueError):
    """A config file (robot description, scenario, parameters) is missing, malformed or invalid."""
