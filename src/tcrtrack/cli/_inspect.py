"""``tcrtrack inspect``: what is in the files, and what the default analysis would drop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tcrtrack.cli import _common, _sheet

if TYPE_CHECKING:
    import pandas as pd


def register(group: click.Group) -> None:
    group.add_command(inspect)


@click.command("inspect")
@click.argument(
    "files",
    nargs=-1,
    required=False,
    type=_common.INPUT_FILE,
    metavar="FILE...",
)
@_common.name_option
@_sheet.samples_option
@_common.format_option
@_common.output_option
def inspect(
    files: tuple[Path, ...],
    name: tuple[str, ...],
    sheet: Path | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Per sample: cells, contigs per locus, cells with 0/1/2+ TRA and TRB contigs, the
    productive fraction, and the QC ledger: rows read, changed while reading, and dropped by
    reason under the default filters and clonotype definition (TRB junction nucleotides).

    Each FILE is one sample (10x contig table, AIRR TSV or any format tcrtrack detects).
    With --samples SHEET instead of files, one block per patient of the sheet.

    \b
    Examples:
      tcrtrack inspect filtered_contig_annotations.csv
      tcrtrack inspect blood.csv lung.csv -n blood -n lung --format tsv -o qc.tsv
      tcrtrack inspect --samples cohort.tsv
    """
    samples = _sheet.open_sheet(sheet, files, name)
    if samples is not None:
        blocks = []
        clonotype = None
        for patient in samples.patients:
            parts = [inspect_contigs(samples.read(x)) for x in samples.samples(patient)]
            frame, text = _render(parts)
            blocks.append(_common.Block(patient, frame, text, {}))
            clonotype = parts[-1][2]
        _common.emit("inspect", clonotype, blocks, fmt, output)
        return
    if not files:
        raise _common.usage_error("give at least one FILE, or --samples SHEET")
    names = _common.sample_names(list(files), list(name))
    parts = [inspect_file(path, sample) for path, sample in zip(files, names, strict=True)]
    frame, text = _render(parts)
    block = _common.Block(None, frame, text, {})
    _common.emit("inspect", parts[-1][2], [block], fmt, output)


def _render(
    parts: list[tuple[pd.DataFrame, pd.DataFrame, str]],
) -> tuple[pd.DataFrame, str]:
    """The table and the readable text of several samples' chain and ledger summaries."""
    import pandas as pd

    chains = [p[0] for p in parts]
    ledgers = [p[1] for p in parts]
    spec = parts[-1][2] if parts else ""
    chain_table = _ordered(pd.concat(chains).fillna(0), _chain_rank)
    ledger_table = _ordered(pd.concat(ledgers).fillna(0), _ledger_rank)
    int_cols = [c for c in chain_table.columns if c != "productive_fraction"]
    chain_table[int_cols] = chain_table[int_cols].astype("int64")
    ledger_table = ledger_table.astype("int64")
    frame = pd.concat([chain_table, ledger_table.add_prefix("qc_")], axis=1)
    text = (
        "Chains per sample (all contigs as read)\n"
        + _common.format_table(display(chain_table).T)
        + f"\n\nQC ledger (default filters, then clonotypes: {spec})\n"
        + _common.format_table(display(ledger_table).T)
    )
    return frame, text


def inspect_file(path: Path, sample: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Chain statistics and QC ledger summary of one file (one row each, index = sample)."""
    import tcrtrack as tt

    return inspect_contigs(tt.io.read(path, sample=sample))


def inspect_contigs(contigs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Chain statistics and QC ledger summary of one sample's contig table."""
    import tcrtrack as tt

    chains = tt.pp.chain_qc(contigs)
    counts = tt.tl.clonotypes(contigs)
    ledger = tt.qc(counts)
    summary = ledger.summary()
    entries = ledger.to_frame()
    changed = entries[entries["action"] == "changed"]
    for reason, n in changed.groupby("reason", sort=False)["n"].sum().items():
        summary[f"changed_{reason}"] = int(n)
    summary.index = summary.index.astype(str)
    return chains, summary, str(counts.spec)


def _chain_rank(column: str) -> int:
    from tcrtrack import schema as s

    loci = [f"contigs_{lc}" for lc in (*s.LOCI, s.MULTI_LOCUS)]
    fixed = ["barcodes", "cells", "contigs", *loci]
    if column in fixed:
        return fixed.index(column)
    if column == "contigs_NA":
        return 101
    if column.startswith("contigs_"):
        return 100
    return {"productive": 200, "productive_fraction": 201}.get(column, 300)


def _ledger_rank(column: str) -> int:
    if column == "read":
        return 0
    prefix = column.split("_", 1)[0]
    return {"changed": 1, "dropped": 2 if column != "dropped" else 3, "kept": 4}.get(prefix, 5)


def _ordered(frame: pd.DataFrame, rank: Callable[[str], int]) -> pd.DataFrame:
    """Columns sorted by ``rank``, ties in order of first appearance."""
    columns = sorted(frame.columns, key=lambda c: (rank(c), list(frame.columns).index(c)))
    return frame[columns]


def display(frame: pd.DataFrame) -> pd.DataFrame:
    """Format each cell as text: integers without decimals, fractions with 3 digits."""
    out = frame.copy().astype(object)
    for col in frame.columns:
        values = frame[col]
        if col.endswith("fraction"):
            out[col] = [f"{v:.3f}" for v in values]
        else:
            out[col] = [f"{int(v):d}" for v in values]
    return out
