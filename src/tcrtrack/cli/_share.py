"""``tcrtrack share``: clonotypes shared between a reference (infusion product) and samples."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tcrtrack.cli import _background, _common, _sheet

if TYPE_CHECKING:
    import pandas as pd

    from tcrtrack._display import Columns
    from tcrtrack.tl import CloneCounts, ClonotypeSpec, Rarefaction, Sharing


def register(group: click.Group) -> None:
    group.add_command(share)


def render_rarefied(rarefied: Rarefaction) -> str:
    """The rarefied sharing (:meth:`Rarefaction.display_table`, shared with the report): mean
    over subsamples and the central range, per sample."""
    header = (
        f"Rarefied: every sample subsampled to {rarefied.depth:,} without replacement, "
        f"{rarefied.n} times (seed {rarefied.seed}); mean [central {rarefied.ci:.0%} range]."
    )
    return header + "\n" + rarefied.display_table().to_string()


def render_sharing(result: Sharing, counts: CloneCounts) -> str:
    """The human tables (:meth:`Sharing.display_tables`, shared with the report): counts
    beside every percentage, so no denominator is hidden.

    The first table is the sample's view (the reference study's sharing frequency and its
    cell-weighted twin), the second the reference's view (persistence of the infused clones).
    """
    ref = result.reference
    ref_unit = result.units[ref]
    # each sample's count-weighted numbers are in its own unit ("units" when they differ)
    unit = result.samples_unit or "units"
    n_ref = counts.n_clonotypes_of(ref)
    n_ref_cells = counts.total_of(ref)
    tables = result.display_columns()
    mixed = (
        [
            "Units differ: each sample's counts are in its own unit ("
            + ", ".join(f"{x}: {u}" for x, u in result.units.items())
            + "); clonotype counts and fractions do not depend on the unit."
        ]
        if result.mixed_units
        else []
    )
    bootstrap = (
        f"{unit} for fractions of {unit}"
        if not result.mixed_units
        else "each sample's own units for the count-weighted fractions"
    )
    lines = [
        f"Reference: {ref} ({n_ref:,} clonotypes, {n_ref_cells:,} {ref_unit}).",
        f"Clonotype: {result.spec}.",
        *mixed,
        *(
            [
                f"[{result.ci:.0%} interval]: {result.method} for clonotype fractions, "
                f"bootstrap over {bootstrap}."
            ]
            if result.ci
            else []
        ),
        "",
        f"Each sample's clonotypes and {unit} found in {ref}:",
        tables["samples"].to_string(),
        "",
        f"{ref} clonotypes and {ref_unit} found again in each sample:",
        tables["reference"].to_string(),
    ]
    return "\n".join(lines)


@click.command("share")
@_sheet.reference_and_samples
@_common.format_option
@_common.output_option
@_common.figure_option("--venn", "Draw the Venn diagram of the reference and up to two samples")
@click.option(
    "--shared-clonotypes",
    type=_common.OUTPUT_FILE,
    default=None,
    help="Write the shared clonotypes (sequence, genes, counts per sample) to this TSV file.",
)
@_common.renamed_option("--shared-clones", "--shared-clonotypes", path_type=Path)
@_common.ci_option(
    "Confidence level of the intervals on every fraction (exact binomial for clonotype "
    "fractions, bootstrap over cells for cell fractions); 0 for none.",
    allow_zero=True,
)
@click.option(
    "--rarefy",
    is_flag=True,
    help="Also report sharing with every sample subsampled to a common depth (depth-fair).",
)
@_common.depth_option("Cells per subsample for --rarefy (default: the smallest sample).")
@_common.seed_option
@click.option(
    "--mismatches",
    type=click.IntRange(min=0, max=1),
    default=0,
    show_default=True,
    help="1: also report the sharing when junctions of equal length differing at one position "
    "match (the *_1mm columns); the exact sharing stays.",
)
@_background.background_options
def share(
    reference: Path | None,
    samples: tuple[Path, ...],
    name: tuple[str, ...],
    sheet: Path | None,
    spec: ClonotypeSpec,
    fmt: str,
    output: Path | None,
    venn: Path | None,
    shared_clonotypes: Path | None,
    shared_clones: Path | None,
    ci: float,
    rarefy: bool,
    depth: int | None,
    seed: int,
    mismatches: int,
    background: _background.Options,
) -> None:
    """Clonotypes of each SAMPLE also found in the reference REF (the infusion product).

    Prints, per sample, clonotypes and cells, the clonotypes shared with REF
    (shared / clonotypes of the sample: the sharing frequency), the cells in shared
    clonotypes, and the reference's clonotypes and cells found again in the sample.
    Names given with -n apply to REF first, then each SAMPLE. Every fraction has an
    interval (--ci); --rarefy adds the sharing at a common depth (mean and range over 100
    subsamples), so that samples of different size can be compared.

    With --samples SHEET instead of files, each patient of the sheet is compared with its
    reference row, one block per patient (--venn and --shared-clonotypes then write one file per
    patient, the patient's name added to the file name).

    \b
    Examples:
      tcrtrack share infusion.csv pbmc_3m.csv pbmc_6m.csv --venn venn.png
      tcrtrack share infusion.csv pbmc_3m.csv pbmc_6m.csv --rarefy --seed 1
      tcrtrack share --samples cohort.tsv
    """
    shared_clonotypes = _common.renamed(
        shared_clonotypes, shared_clones, "--shared-clonotypes", "--shared-clones"
    )
    if depth is not None and not rarefy:
        raise _common.usage_error("--depth applies to --rarefy; add --rarefy")
    options: dict[str, Any] = {"ci": ci, "rarefy": rarefy, "depth": depth, "seed": seed}
    cohort = _sheet.open_sheet(sheet, [p for p in (reference, *samples) if p is not None], name)
    if cohort is not None:
        _sheet.require_references(cohort)
        blocks = []
        for patient in cohort.patients:
            ref = cohort.reference(patient)
            assert ref is not None
            n_samples = len(cohort.samples(patient))
            if venn is not None and n_samples > 3:
                raise _common.usage_error(
                    f"--venn draws 2 or 3 samples; patient {patient!r} has {n_samples}"
                )
            counts, names = _sheet.patient_counts(cohort, patient, spec)
            table, text, meta = _share(counts, ref, spec, **options)
            if mismatches:
                table, text = _near(counts, ref, _frame(table), text, meta)
            clones = None
            if background.active:
                table, text, meta, clones, _ = _background.add(
                    counts, ref, background, _frame(table), text, meta, patient
                )
            blocks.append(_common.Block(patient, table, text, meta))
            _write_files(
                counts,
                names,
                ref,
                _common.per_patient(venn, patient) if venn else None,
                _common.per_patient(shared_clonotypes, patient) if shared_clonotypes else None,
                clones,
            )
        _common.emit("share", str(spec), blocks, fmt, output)
        return
    if reference is None or not samples:
        raise _common.usage_error(
            "give the reference file and at least one sample file to compare with it"
        )
    paths = [reference, *samples]
    names = _common.sample_names(paths, list(name))
    if venn is not None and len(names) > 3:
        raise _common.usage_error(
            f"--venn draws 2 or 3 samples; {len(names)} were given (use tcrtrack track "
            "for more samples)"
        )
    counts = _common.load_counts(paths, names, spec)
    table, text, meta = _share(counts, names[0], spec, **options)
    if mismatches:
        table, text = _near(counts, names[0], _frame(table), text, meta)
    clones = None
    if background.active:
        table, text, meta, clones, _ = _background.add(
            counts, names[0], background, _frame(table), text, meta
        )
    _common.emit("share", str(spec), [_common.Block(None, table, text, meta)], fmt, output)
    _write_files(counts, names, names[0], venn, shared_clonotypes, clones)


def _share(
    counts: CloneCounts,
    reference: str,
    spec: ClonotypeSpec,
    *,
    ci: float,
    rarefy: bool,
    depth: int | None,
    seed: int,
) -> tuple[pd.DataFrame | Columns, str, dict[str, object]]:
    """The sharing table (its plain columns unless --rarefy adds to it), its readable text and
    JSON metadata of one set of samples."""
    import tcrtrack as tt

    result = tt.tl.sharing(counts, reference=reference, ci=ci or None, seed=seed)
    table: pd.DataFrame | Columns = result.data
    text = render_sharing(result, counts)
    meta: dict[str, object] = {"reference": reference}
    if result.mixed_units:  # each row also carries its unit and reference_unit
        meta["units"] = dict(result.units)
    else:
        meta["unit"] = result.unit
    if ci:
        meta["ci"] = ci
    if rarefy:
        rarefied = tt.tl.rarefy(counts, reference=reference, depth=depth, seed=seed, ci=ci or 0.95)
        import pandas as pd

        extra = rarefied.table.drop(columns=["n"]).add_prefix("rarefied_")
        table = pd.concat([result.to_frame(), extra], axis=1)
        text += "\n\n" + render_rarefied(rarefied)
        meta["rarefied"] = {"depth": rarefied.depth, "n": rarefied.n, "seed": seed}
    return table, text, meta


def _frame(table: pd.DataFrame | Columns) -> pd.DataFrame:
    """The sharing table as a DataFrame (for the options that add columns to it)."""
    from tcrtrack._display import Columns

    return table.to_pandas() if isinstance(table, Columns) else table


def _near(
    counts: CloneCounts,
    reference: str,
    table: pd.DataFrame,
    text: str,
    meta: dict[str, object],
) -> tuple[pd.DataFrame, str]:
    """``--mismatches 1``: the sharing within one mismatch beside the exact sharing."""
    import pandas as pd

    import tcrtrack as tt
    from tcrtrack._display import count_of, fraction_labels

    near = tt.cohort.near_sharing(counts, reference=reference, samples=list(table.index))
    units = meta.get("units")
    unit = str(meta.get("unit", "cells"))
    ref_unit = units[reference] if isinstance(units, dict) else unit
    mixed = {str(units[x]) for x in table.index} if isinstance(units, dict) else {unit}
    labels = fraction_labels(mixed.pop() if len(mixed) == 1 else "units", reference, ref_unit)
    columns = (
        ("frac_clonotypes_shared", "n_shared_1mm", "n_clonotypes"),
        ("frac_cells_shared", "n_cells_shared_1mm", "n_cells"),
        (
            "frac_reference_clonotypes_detected",
            "n_reference_clonotypes_detected_1mm",
            "n_reference_clonotypes",
        ),
    )
    view = pd.DataFrame(
        {
            labels[frac]: [
                count_of(int(k), int(n)) for k, n in zip(near[num], table[den], strict=True)
            ]
            for frac, num, den in columns
        },
        index=near.index,
    )
    meta["mismatches"] = 1
    text += (
        "\n\nWithin one mismatch (junctions of equal length differing at most at one position "
        "also match):\n" + view.to_string()
    )
    return pd.concat([table, near], axis=1), text


def _write_files(
    counts: CloneCounts,
    names: list[str],
    reference: str,
    venn: Path | None,
    shared_clonotypes: Path | None,
    clones: pd.DataFrame | None = None,
) -> None:
    """--shared-clonotypes and --venn outputs (``clones``: the shared clonotypes with their
    background columns, when --background or --pgen was given)."""
    import tcrtrack as tt

    if shared_clonotypes is not None:
        if clones is None:
            clones = tt.tl.shared_clonotypes(counts, reference=reference)
        table = clones
        _common.write_file(shared_clonotypes, lambda tmp: table.to_csv(tmp, sep="\t", index=False))
    if venn is not None:
        regions = tt.tl.venn_regions(counts, names)
        _common.save_figure(lambda ax: tt.pl.venn(regions, ax=ax), venn, figsize=(6, 5))
