"""``--background STORE``, ``--public-donors K`` and ``--pgen`` for ``share`` and ``persist``:
public clones among the shared ones (:func:`tcrtrack.cohort.background`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from tcrtrack._display import PUBLICITY_COLUMNS, publicity_table
from tcrtrack.cli import _common

#: Shared clonotypes listed in the readable output (the file has them all).
SHOWN = 20


@dataclass(frozen=True)
class Options:
    store: Path | None
    public_donors: int
    pgen: bool

    @property
    def active(self) -> bool:
        return self.store is not None or self.pgen


def background_options(func: Any) -> Any:
    """The three options, reaching the command as one ``background`` argument."""
    import functools

    @functools.wraps(func)
    def wrapper(
        *args: Any, background: Path | None, public_donors: int, pgen: bool, **kw: Any
    ) -> Any:
        if public_donors != 2 and background is None:
            raise _common.usage_error("--public-donors applies to --background; add --background")
        return func(*args, background=Options(background, public_donors, pgen), **kw)

    options = [
        click.option(
            "--background",
            type=click.Path(path_type=Path, file_okay=False),
            default=None,
            metavar="STORE",
            help="A clonotype store of other donors (tcrtrack cohort build): flag the shared "
            "clonotypes found in many of them (public) and report the sharing without them.",
        ),
        click.option(
            "--public-donors",
            type=click.IntRange(min=1),
            default=2,
            show_default=True,
            metavar="K",
            help="With --background: public = found in at least K background donors (the "
            "patient's own samples in the store are not counted).",
        ),
        click.option(
            "--pgen",
            is_flag=True,
            help="Add each shared clonotype's generation probability (OLGA, its bundled human "
            "TRB/TRA model).",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def shared_table(
    counts: Any, reference: str, options: Options, patient: str | None, samples: Any = None
) -> Any:
    """The shared clonotypes with their background columns, and the Background (or None)."""
    import tcrtrack as tt

    return tt.cohort.shared_publicity(
        counts,
        reference=reference,
        store=options.store,
        public_donors=options.public_donors,
        exclude_patients=None if patient is None else [patient],
        samples=samples,
        pgen=options.pgen,
    )


def add(
    counts: Any,
    reference: str,
    options: Options,
    table: Any,
    text: str,
    meta: dict[str, object],
    patient: str | None = None,
    samples: Any = None,
) -> tuple[Any, str, dict[str, object], Any, Any]:
    """The sharing table, text and JSON metadata with the background added; and the shared
    clonotypes with their columns (for ``--shared-clonotypes``); with a store, every
    clonotype's ``n_background_donors`` (a Series by clonotype; None without a store)."""
    import pandas as pd

    clones, result = shared_table(counts, reference, options, patient, samples)
    blocks = []
    if result is not None:
        extra = result.table.drop(columns=["n_clonotypes", "n_shared", "frac_clonotypes_shared"])
        table = pd.concat([table, extra], axis=1)
        blocks += [
            f"Background {options.store}: {result.describe()}.",
            f"Clonotypes shared with {reference}, public ones, and the sharing without public "
            "clonotypes (shared private / the sample's private clonotypes):",
            result.display_table().to_string(),
        ]
        meta["background"] = {
            "store": str(options.store),
            "public_donors": result.public_donors,
            "n_donors": result.n_donors,
            "excluded": list(result.excluded),
        }
    shown = publicity_table(clones, SHOWN)
    blocks += [
        f"Shared clonotypes ({min(SHOWN, len(clones))} of {len(clones)}, largest in "
        f"{reference} first"
        + ("; pgen: OLGA's generation probability of junction_aa" if options.pgen else "")
        + "):",
        shown.to_string(index=False),
    ]
    cols = [c for c in PUBLICITY_COLUMNS if c in clones.columns]
    meta["shared_clonotypes"] = json.loads(clones[cols].to_json(orient="records"))
    publicity = None if result is None else result.n_background_donors
    return table, text + "\n\n" + "\n".join(blocks), meta, clones, publicity


def add_track(
    counts: Any,
    result: Any,
    options: Options,
    frame: Any,
    text: str,
    meta: dict[str, object],
    patient: str | None = None,
) -> tuple[Any, str]:
    """``track --background/--pgen``: every tracked clone's ``n_background_donors`` and
    ``public`` (with a store) and ``pgen`` added to the track table and text; the background's
    definition in ``meta``."""
    import pandas as pd

    import tcrtrack as tt

    clones = list(result.sizes.index)
    extra = pd.DataFrame(index=pd.Index(clones, name=frame.index.name))
    blocks = []
    if options.store is not None:
        bg = tt.cohort.background(
            counts,
            reference=result.reference,
            store=options.store,
            public_donors=options.public_donors,
            exclude_patients=None if patient is None else [patient],
        )
        donors = bg.n_background_donors
        donors = donors[~donors.index.duplicated()]
        extra["n_background_donors"] = donors.reindex(clones).fillna(0).astype("int64")
        extra["public"] = extra["n_background_donors"] >= bg.public_donors
        blocks.append(f"Background {options.store}: {bg.describe()}.")
        meta["background"] = {
            "store": str(options.store),
            "public_donors": bg.public_donors,
            "n_donors": bg.n_donors,
            "excluded": list(bg.excluded),
        }
    if options.pgen:
        amino = result.amino_acids().reindex(clones)
        extra["pgen"] = tt.cohort.pgen(
            [str(a) if isinstance(a, str) else "" for a in amino], locus=counts.spec.locus
        )
    shown = publicity_table(extra.rename_axis("clonotype").reset_index(), SHOWN)
    blocks += [
        "Tracked clones"
        + (" and their background donors" if options.store is not None else "")
        + ("; pgen: OLGA's generation probability of junction_aa" if options.pgen else "")
        + ":",
        shown.to_string(index=False),
    ]
    return frame.join(extra), text + "\n\n" + "\n".join(blocks)
