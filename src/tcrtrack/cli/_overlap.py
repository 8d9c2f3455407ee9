"""``tcrtrack overlap``: pairwise overlap indices between samples."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tcrtrack import schema
from tcrtrack._display import overlap_table
from tcrtrack.cli import _common, _sheet

if TYPE_CHECKING:
    import pandas as pd

    from tcrtrack.schema import OverlapMetric
    from tcrtrack.tl import CloneCounts, ClonotypeSpec


def register(group: click.Group) -> None:
    group.add_command(overlap)


#: The metrics of :func:`tcrtrack.tl.overlap` (its ``OverlapMetric``).
METRICS = schema.OVERLAP_METRICS


@click.command("overlap")
@click.argument("files", nargs=-1, required=False, type=_common.INPUT_FILE, metavar="FILE...")
@_common.name_option
@_sheet.samples_option
@_common.spec_options
@click.option(
    "--metric",
    type=click.Choice(METRICS),
    default="jaccard",
    show_default=True,
    help="Jaccard, overlap coefficient or Sorensen-Dice on clonotype sets; Morisita-Horn or "
    "cosine on clone sizes.",
)
@_common.format_option
@_common.output_option
@_common.figure_option("--plot", "Draw the matrix as a heat map")
def overlap(
    files: tuple[Path, ...],
    name: tuple[str, ...],
    sheet: Path | None,
    spec: ClonotypeSpec,
    metric: OverlapMetric,
    fmt: str,
    output: Path | None,
    plot: Path | None,
) -> None:
    """Pairwise overlap of the samples' clonotypes: a samples x samples matrix of one index.

    jaccard = |A and B| / |A or B|; overlap = |A and B| / min(|A|, |B|); sorensen =
    2|A and B| / (|A| + |B|), all on distinct clonotypes; morisita_horn and cosine on clone
    sizes (formulas in docs/statistics.md). 1 on the diagonal, symmetric.

    With --samples SHEET instead of files, one matrix per patient of the sheet (--plot then
    writes one file per patient, the patient's name added to the file name).

    \b
    Examples:
      tcrtrack overlap blood.csv lung.csv tumour.csv
      tcrtrack overlap *.csv --metric morisita_horn --plot overlap.png
      tcrtrack overlap --samples cohort.tsv
    """
    cohort = _sheet.open_sheet(sheet, files, name)
    if cohort is not None:
        blocks = []
        for patient in cohort.patients:
            counts, names = _sheet.patient_counts(cohort, patient, spec)
            matrix, text = _overlap(counts, metric, spec)
            blocks.append(_common.Block(patient, matrix, text, {"metric": metric}))
            if plot is not None:
                _plot(matrix, _common.per_patient(plot, patient))
        _common.emit("overlap", str(spec), blocks, fmt, output)
        return
    if len(files) < 2:
        raise _common.usage_error("give at least two files to compare")
    names = _common.sample_names(list(files), list(name))
    counts = _common.load_counts(list(files), names, spec)
    matrix, text = _overlap(counts, metric, spec)
    block = _common.Block(None, matrix, text, {"metric": metric})
    _common.emit("overlap", str(spec), [block], fmt, output)
    if plot is not None:
        _plot(matrix, plot)


def _overlap(
    counts: CloneCounts, metric: OverlapMetric, spec: ClonotypeSpec
) -> tuple[pd.DataFrame, str]:
    import tcrtrack as tt

    matrix = tt.tl.overlap(counts, metric=metric)
    text = f"Overlap ({metric}). Clonotype: {spec}.\n" + overlap_table(matrix).to_string()
    return matrix, text


def _plot(matrix: pd.DataFrame, path: Path) -> None:
    import tcrtrack as tt

    n = len(matrix)
    _common.save_figure(
        lambda ax: tt.pl.overlap_heatmap(matrix, ax=ax), path, figsize=(2 + 0.7 * n, 1.5 + 0.6 * n)
    )
