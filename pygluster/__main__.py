"""``python -m pygluster`` runs the command line."""

from __future__ import annotations

import sys

from pygluster.cli import main

sys.exit(main())
