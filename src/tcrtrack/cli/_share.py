"""``tcrtrack share``: clonotypes shared between a reference (infusion product) and samples."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from tcrtrack.cli import _common


def register(group: click.Group) -> None:
    group.add_command(share)


def _pct(num: int, den: int) -> str:
    return f"{num:,}/{den:,} = {100 * num / den:.2f}%" if den else f"{num:,}/0 = NA"


def render_sharing(result, counts) -> str:  # type: ignore[no-untyped-def]
    """The human table: counts beside every percentage, so no denominator is hidden."""
    ref = result.reference
    unit = result.unit
    totals = counts.totals()
    per_sample = counts.n_clonotypes_per_sample()
    rows = [
        {
            "sample": ref,
            "clonotypes": f"{int(per_sample[ref]):,}",
            unit: f"{int(totals[ref]):,}",
            "clonotypes shared with reference": "(reference)",
            f"{unit} in shared clonotypes": "",
            "reference clonotypes found": "",
            f"reference {unit} found": "",
        }
    ]
    for name, r in result.table.iterrows():
        rows.append(
            {
                "sample": name,
                "clonotypes": f"{int(r.n_clonotypes):,}",
                unit: f"{int(r.n_cells):,}",
                "clonotypes shared with reference": _pct(int(r.n_shared), int(r.n_clonotypes)),
                f"{unit} in shared clonotypes": _pct(int(r.n_cells_shared), int(r.n_cells)),
                "reference clonotypes found": _pct(int(r.n_shared), int(r.n_reference_clonotypes)),
                f"reference {unit} found": _pct(
                    int(r.n_reference_cells_detected), int(r.n_reference_cells)
                ),
            }
        )
    frame = pd.DataFrame(rows).set_index("sample")
    header = f"Reference: {ref}. Clonotype: {result.spec}."
    return header + "\n" + frame.to_string()


@click.command("share")
@click.argument("reference", type=_common.INPUT_FILE, metavar="REF")
@click.argument("samples", nargs=-1, type=_common.INPUT_FILE, metavar="SAMPLE...")
@_common.name_option
@_common.spec_options
@_common.format_option
@_common.output_option
@click.option(
    "--venn",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Draw the Venn diagram of the reference and up to two samples (.png, .svg or .pdf).",
)
@click.option(
    "--shared-clones",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the shared clonotypes (sequence, genes, counts per sample) to this TSV file.",
)
def share(
    reference: Path,
    samples: tuple[Path, ...],
    name: tuple[str, ...],
    locus: str,
    sequence: str,
    genes: str,
    multichain: str,
    fmt: str,
    output: Path | None,
    venn: Path | None,
    shared_clones: Path | None,
) -> None:
    """Clonotypes of each SAMPLE also found in the reference REF (the infusion product).

    Prints, per sample, clonotypes and cells, the clonotypes shared with REF
    (shared / clonotypes of the sample: the sharing frequency), the cells in shared
    clonotypes, and the reference's clonotypes and cells found again in the sample.
    Names given with -n apply to REF first, then each SAMPLE.

    \b
    Example:
      tcrtrack share infusion.csv pbmc_3m.csv pbmc_6m.csv --venn venn.png
    """
    import tcrtrack as tt

    if not samples:
        raise _common.usage_error(
            "give the reference file and at least one sample file to compare with it"
        )
    paths = [reference, *samples]
    names = _common.sample_names(paths, list(name))
    if venn is not None:
        _check_figure_suffix(venn)
        if len(names) > 3:
            raise _common.usage_error(
                f"--venn draws 2 or 3 samples; {len(names)} were given (use tcrtrack track "
                "for more samples)"
            )
    spec = _common.make_spec(locus, sequence, genes, multichain)
    counts = _common.load_counts(paths, names, spec)
    result = tt.tl.sharing(counts, reference=names[0])
    table = result.to_frame()
    _common.emit(
        table,
        fmt,  # type: ignore[arg-type]
        output,
        text=render_sharing(result, counts),
        meta={"reference": names[0], "clonotype": str(spec), "unit": result.unit},
    )
    if shared_clones is not None:
        tt.tl.shared_clonotypes(counts, reference=names[0]).to_csv(
            shared_clones, sep="\t", index=False
        )
    if venn is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        regions = tt.tl.venn_regions(counts, names)
        fig, ax = plt.subplots(figsize=(6, 5))
        tt.pl.venn(regions, ax=ax)
        fig.savefig(venn, bbox_inches="tight", dpi=150)
        plt.close(fig)


def _check_figure_suffix(path: Path) -> None:
    if path.suffix.lower() not in {".png", ".svg", ".pdf"}:
        raise _common.usage_error(f"--venn file {str(path)!r} must end in .png, .svg or .pdf")
