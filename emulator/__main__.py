"""``python -m emulator`` runs the command line."""

import sys

from emulator.cli import main

sys.exit(main())
