"""`aicost sync` is registered by cli/accounts.py next to the accounts it syncs."""

from __future__ import annotations

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Registered in cli/accounts.py."""
