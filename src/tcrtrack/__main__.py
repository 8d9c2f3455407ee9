"""``python -m tcrtrack``."""

from tcrtrack.cli import run

run()
