"""``tcrtrack cohort``: build a clonotype store of a whole cohort and query it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from tcrtrack import schema
from tcrtrack.cli import _common


def register(group: click.Group) -> None:
    group.add_command(cohort)


@click.group("cohort")
def cohort() -> None:
    """A clonotype store of a whole cohort (Parquet, partitioned by a hash of the
    clonotype), built and queried one task per file or partition, on local processes or a
    Dask cluster (--scheduler ADDRESS or TCRTRACK_SCHEDULER).

    \b
    Examples:
      tcrtrack cohort build cohort.tsv --out store/
      tcrtrack cohort query store/ --sample P01_infusion
      tcrtrack cohort overlap store/ --scheduler tcp://head-node:8786
    """


scheduler_option = click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Run the tasks on this Dask scheduler (tcp://host:8786; default: $TCRTRACK_SCHEDULER, "
    "else local processes).",
)
workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Local processes (default: one per core; ignored on a Dask cluster).",
)
sequence_option = click.option(
    "--sequence",
    type=click.Choice(schema.SEQUENCE_SPECS[::-1]),
    default="aa",
    show_default=True,
    help="Compare junction amino acids (aa) or nucleotides (nt).",
)
genes_option = click.option(
    "--genes",
    type=click.Choice(schema.GENES_SPECS),
    default="none",
    show_default=True,
    help="Also require the same V gene (v) or V and J genes (vj).",
)
mismatches_option = click.option(
    "--mismatches",
    type=click.IntRange(min=0, max=1),
    default=0,
    show_default=True,
    help="0: exact matches; 1: junctions of equal length differing at one position (and with "
    "the same genes, with --genes) also match (Hamming distance <= 1).",
)
store_argument = click.argument(
    "store", type=click.Path(path_type=Path, file_okay=False), metavar="STORE"
)


@cohort.command("build")
@click.argument("sheet", type=_common.INPUT_FILE, metavar="SHEET")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The store folder (created, or extended with the sheet's new samples).",
)
@click.option(
    "--partitions",
    type=click.IntRange(min=1, max=4096),
    default=16,
    show_default=True,
    help="Hash partitions of a new store.",
)
@click.option(
    "--locus",
    type=click.Choice([x for x in schema.LOCUS_SPECS if "+" not in x]),
    default="TRB",
    show_default=True,
    help="The chain whose clonotypes are stored.",
)
@click.option(
    "--multichain",
    type=click.Choice(schema.MULTICHAIN_SPECS),
    default="primary",
    show_default=True,
    help="Cells with two chains of the locus: keep the primary, count all, or drop the cell.",
)
@click.option(
    "--sheet-order",
    is_flag=True,
    help="Keep time points as text (the sheet's row order), as with --samples elsewhere.",
)
@scheduler_option
@workers_option
def build(
    sheet: Path,
    out: Path,
    partitions: int,
    locus: str,
    multichain: str,
    sheet_order: bool,
    scheduler: str | None,
    workers: int | None,
) -> None:
    """Build (or extend) a clonotype store from every sample of a sample sheet.

    One task per file: read it (any format, single-cell or bulk), define clonotypes
    (junction, V and J; the default filters) and stage one row per sample x clonotype
    (junction, junction_aa, v_call, j_call, count, unit, sample, patient), plus the sample's
    QC ledger; then one task per hash partition of junction_aa merges the build's rows of
    that partition into one Parquet file. Samples already in the store are skipped; new ones
    are a new build batch of files, existing files are never rewritten. A build that fails
    leaves the store as it was; one that is killed is resumed by running it again.

    \b
    Examples:
      tcrtrack cohort build cohort.tsv --out store/
      tcrtrack cohort build more.tsv --out store/ --scheduler tcp://head-node:8786
    """
    import tcrtrack as tt

    order: Literal["time", "sheet"] = "sheet" if sheet_order else "time"
    result = tt.cohort.build(
        tt.io.read_sheet(sheet, order=order),
        out,
        partitions=partitions,
        locus=locus,
        multichain=multichain,
        scheduler=scheduler,
        workers=workers,
    )
    st = result.store
    click.echo(
        f"{st.path}: {len(result.added)} sample(s) added"
        + (f" ({len(result.resumed)} from an interrupted build)" if result.resumed else "")
        + f", {len(result.skipped)} already in the store; {st.n_samples} samples of "
        f"{st.samples['patient'].nunique()} patients, {st.n_rows} rows, {st.partitions} "
        f"partitions ({result.engine}, {result.seconds:.1f} s)"
    )


@cohort.command("query")
@store_argument
@click.option(
    "--clonotypes",
    type=_common.INPUT_FILE,
    default=None,
    metavar="FILE",
    help="CSV/TSV of clonotypes to look up: a junction_aa (--sequence aa) or junction column, "
    "and v_call/j_call with --genes.",
)
@click.option("--sample", default=None, help="Look up the clonotypes of this sample of the store.")
@sequence_option
@genes_option
@mismatches_option
@scheduler_option
@workers_option
@_common.format_option
@_common.output_option
def query(
    store: Path,
    clonotypes: Path | None,
    sample: str | None,
    sequence: str,
    genes: str,
    mismatches: int,
    scheduler: str | None,
    workers: int | None,
    fmt: str,
    output: Path | None,
) -> None:
    """For each clonotype of a file or of a sample: how many repertoires and patients of the
    store contain it, and its frequencies there.

    n_repertoires = samples containing the clonotype (with --sample, that sample included);
    n_patients = distinct patients among them; max_frequency and mean_frequency = its count
    over the sample's total, highest and mean over those repertoires. With --mismatches 1 a
    repertoire contains a clonotype when it has one within one mismatch (equal length), and
    the count sums all of them.

    \b
    Examples:
      tcrtrack cohort query store/ --sample P01_infusion
      tcrtrack cohort query store/ --clonotypes shared.tsv --genes v -f tsv
      tcrtrack cohort query store/ --sample P01_infusion --mismatches 1
    """
    import tcrtrack as tt

    if (clonotypes is None) == (sample is None):
        raise _common.usage_error("give either --clonotypes FILE or --sample NAME")
    result = tt.cohort.query(
        store,
        clonotypes=clonotypes,
        sample=sample,
        sequence=sequence,  # type: ignore[arg-type]
        genes=genes,  # type: ignore[arg-type]
        mismatches=mismatches,
        scheduler=scheduler,
        workers=workers,
    )
    table = result.table.set_index("clonotype")
    text = f"Clonotypes in the store {store} ({result.definition}).\n" + _common.format_table(table)
    block = _common.Block(None, table, text, {"store": str(store)})
    _common.emit("cohort query", result.definition, [block], fmt, output)


@cohort.command("overlap")
@store_argument
@click.option(
    "--metric",
    type=click.Choice(["jaccard", "shared"]),
    default=None,
    help="Jaccard index, or the number of shared clonotypes (default: jaccard; shared, the "
    "pairs within one mismatch, with --mismatches 1).",
)
@sequence_option
@genes_option
@mismatches_option
@scheduler_option
@workers_option
@_common.format_option
@_common.output_option
def overlap(
    store: Path,
    metric: str | None,
    sequence: str,
    genes: str,
    mismatches: int,
    scheduler: str | None,
    workers: int | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Repertoire x repertoire overlap of every sample of the store, one task per hash
    partition: the shared clonotypes, or jaccard = shared / (n_i + n_j - shared).

    With --mismatches 1, shared counts the pairs of clonotypes (one of each sample) whose
    junctions have equal length and differ at most at one position (CompAIRR's 1-mismatch
    overlap); no Jaccard index then.

    \b
    Examples:
      tcrtrack cohort overlap store/
      tcrtrack cohort overlap store/ --metric shared -f tsv -o shared.tsv
      tcrtrack cohort overlap store/ --mismatches 1 -f tsv -o near.tsv
    """
    import tcrtrack as tt

    if metric is None:
        metric = "shared" if mismatches else "jaccard"
    if metric == "jaccard" and mismatches:
        raise _common.usage_error(
            "--metric jaccard is for exact matches: pairs within one mismatch are not a set "
            "intersection; use --metric shared with --mismatches 1"
        )
    result = tt.cohort.overlap(
        store,
        sequence=sequence,  # type: ignore[arg-type]
        genes=genes,  # type: ignore[arg-type]
        mismatches=mismatches,
        scheduler=scheduler,
        workers=workers,
    )
    jaccard = result.jaccard
    matrix = jaccard.round(6) if metric == "jaccard" and jaccard is not None else result.shared
    text = f"Overlap ({metric}; {result.definition}).\n" + _common.format_table(matrix)
    block = _common.Block(None, matrix, text, {"store": str(store), "metric": metric})
    _common.emit("cohort overlap", result.definition, [block], fmt, output)
