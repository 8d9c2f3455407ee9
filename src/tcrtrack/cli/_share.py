"""``tcrtrack share``: clonotypes shared between a reference (infusion product) and samples."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    pass
