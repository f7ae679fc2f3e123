"""`python -m aicost_desktop` starts the desktop app."""

import sys

from aicost_desktop.ui.app import main

if __name__ == "__main__":
    sys.exit(main())
