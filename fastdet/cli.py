"""The ``fastdet`` command line."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the ``fastdet`` command."""
    print("fastdet: subcommands are not written yet", file=sys.stderr)
    return 2
