"""Frozen entry point of the aicost-desktop GUI (PyInstaller script)."""

import sys

from aicost_desktop.ui.app import main

if __name__ == "__main__":
    sys.exit(main())
