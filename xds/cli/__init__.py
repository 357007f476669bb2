"""The ``xds`` command (DESIGN.md "CLI"). Each subcommand lives in a module of its own."""

from xds.cli.main import main

__all__ = ["main"]
