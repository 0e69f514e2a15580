"""Command-line parsing whose bad input gets one line: argparse's, less the usage block.

argparse answers a misspelled option or an invalid choice with the whole usage (24 lines for
``memaug_train train``) and then the error; the error is what the user needs, and ``--help``
gives the rest. Subcommands' parsers are this class too (argparse makes them the parent's)."""

from __future__ import annotations

import argparse
from typing import NoReturn


class ArgumentParser(argparse.ArgumentParser):
    """argparse.ArgumentParser whose errors are one line on stderr, naming the problem and
    pointing at ``--help``, with exit status 2 (argparse's)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
