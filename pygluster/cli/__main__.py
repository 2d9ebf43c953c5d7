"""``python -m pygluster.cli`` runs the command line."""

from __future__ import annotations

import sys

from pygluster.cli.app import main

sys.exit(main())
