"""``tcrtrack overlap``: pairwise overlap indices between samples."""

from __future__ import annotations

from pathlib import Path

import click

from tcrtrack.cli import _common


def register(group: click.Group) -> None:
    group.add_command(overlap)


METRICS = ("jaccard", "overlap", "sorensen", "morisita_horn", "cosine")


@click.command("overlap")
@click.argument("files", nargs=-1, required=True, type=_common.INPUT_FILE, metavar="FILE...")
@_common.name_option
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
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Draw the matrix as a heat map (.png, .svg or .pdf).",
)
def overlap(
    files: tuple[Path, ...],
    name: tuple[str, ...],
    locus: str,
    sequence: str,
    genes: str,
    multichain: str,
    metric: str,
    fmt: str,
    output: Path | None,
    plot: Path | None,
) -> None:
    """Pairwise overlap of the samples' clonotypes: a samples x samples matrix of one index.

    jaccard = |A and B| / |A or B|; overlap = |A and B| / min(|A|, |B|); sorensen =
    2|A and B| / (|A| + |B|), all on distinct clonotypes; morisita_horn and cosine on clone
    sizes (formulas in docs/statistics.md). 1 on the diagonal, symmetric.

    \b
    Examples:
      tcrtrack overlap blood.csv lung.csv tumour.csv
      tcrtrack overlap *.csv --metric morisita_horn --plot overlap.png
    """
    import tcrtrack as tt

    if len(files) < 2:
        raise _common.usage_error("give at least two files to compare")
    if plot is not None and plot.suffix.lower() not in {".png", ".svg", ".pdf"}:
        raise _common.usage_error(f"--plot file {str(plot)!r} must end in .png, .svg or .pdf")
    names = _common.sample_names(list(files), list(name))
    spec = _common.make_spec(locus, sequence, genes, multichain)
    counts = _common.load_counts(list(files), names, spec)
    matrix = tt.tl.overlap(counts, metric=metric)  # type: ignore[arg-type]
    text = f"Overlap ({metric}). Clonotype: {spec}.\n" + _common.format_table(matrix.round(4))
    _common.emit(
        matrix,
        fmt,  # type: ignore[arg-type]
        output,
        text=text,
        meta={"metric": metric, "clonotype": str(spec)},
    )
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(2 + 0.7 * len(names), 1.5 + 0.6 * len(names)))
        tt.pl.overlap_heatmap(matrix, ax=ax)
        fig.savefig(plot, bbox_inches="tight", dpi=150)
        plt.close(fig)
