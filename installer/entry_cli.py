"""Frozen entry point of the aicost command (PyInstaller script)."""

import sys

from aicost_desktop.cli.main import run

if __name__ == "__main__":
    sys.exit(run())
