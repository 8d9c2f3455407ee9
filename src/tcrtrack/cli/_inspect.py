"""``tcrtrack inspect``: what is in the files, and what the default analysis would drop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
    """Per sample: what was found (the format detected from the header, single-cell or
    bulk, the unit of the counts, the total count in that unit and the clonotypes under the
    default definition, TRB junction nucleotides), the chains (contigs per locus, productive
    fraction; for single-cell files also cells and cells with 0/1/2+ TRA and TRB contigs),
    and the QC ledger: rows read, changed while reading, and dropped by reason.

    Each FILE is one sample (10x contig table, AIRR TSV or any format tcrtrack detects).
    With --samples SHEET instead of files, one block per patient of the sheet. Bulk files
    have no cells: their cell rows are left out (empty in TSV/CSV, null in JSON when listed
    beside single-cell files).

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
            parts = [
                inspect_contigs(samples.read(x), _sheet_format(samples.to_frame(), x))
                for x in samples.samples(patient)
            ]
            frame, text = _render(parts)
            blocks.append(_common.Block(patient, frame, text, {}))
            clonotype = parts[-1].clonotype
        _common.emit("inspect", clonotype, blocks, fmt, output)
        return
    if not files:
        raise _common.usage_error("give at least one FILE, or --samples SHEET")
    names = _common.sample_names(list(files), list(name))
    parts = [inspect_file(path, sample) for path, sample in zip(files, names, strict=True)]
    frame, text = _render(parts)
    block = _common.Block(None, frame, text, {})
    _common.emit("inspect", parts[-1].clonotype, [block], fmt, output)


@dataclass(frozen=True)
class Inspection:
    """One sample's inspection: one row each (index = sample)."""

    #: ``format``, ``kind``, ``unit``, ``total`` (in the unit), ``clonotypes``
    found: pd.DataFrame
    #: :func:`tcrtrack.pp.chain_qc`, without the cell columns for bulk data
    chains: pd.DataFrame
    #: the ledger summary, ``changed_<reason>`` columns included
    ledger: pd.DataFrame
    #: the clonotype definition, as it prints
    clonotype: str

    @property
    def single_cell(self) -> bool:
        return bool((self.found["kind"] == SINGLE_CELL).all())


SINGLE_CELL = "single-cell"
BULK = "bulk"


def _render(parts: list[Inspection]) -> tuple[pd.DataFrame, str]:
    """The table and the readable text of several samples' inspections.

    Columns a sample has not are 0 (a locus without contigs), except the cell columns of a
    bulk sample beside single-cell ones: NA (bulk data have no cells).
    """
    import pandas as pd

    spec = parts[-1].clonotype if parts else ""
    found = pd.concat([p.found for p in parts])
    chain_table = _ordered(pd.concat([p.chains for p in parts]).fillna(0), _chain_rank)
    int_cols = [c for c in chain_table.columns if c != "productive_fraction"]
    chain_table[int_cols] = chain_table[int_cols].astype("Int64")
    bulk = [p.chains.index[0] for p in parts if not p.single_cell]
    cell_cols = [c for c in chain_table.columns if _is_cell_column(c)]
    if bulk and cell_cols:
        chain_table.loc[bulk, cell_cols] = pd.NA
    ledger_table = _ordered(pd.concat([p.ledger for p in parts]).fillna(0), _ledger_rank)
    ledger_table = ledger_table.astype("Int64")
    cell_reasons = [c for c in ledger_table.columns if c.startswith("cells_")]
    if bulk and cell_reasons:
        ledger_table.loc[bulk, cell_reasons] = pd.NA
    frame = pd.concat([found, chain_table, ledger_table.add_prefix("qc_")], axis=1)
    title = "Chains per sample (all contigs as read)"
    if bulk:
        title = "Chains per sample (all contigs, or bulk rows, as read)"
    text = (
        "Found (format detected from the header; total: cells, or summed clone sizes, in the "
        "file's unit)\n"
        + _common.format_table(_display_found(found).T)
        + f"\n\n{title}\n"
        + _common.format_table(display(chain_table).T)
        + f"\n\nQC ledger (default filters, then clonotypes: {spec})\n"
        + _common.format_table(display(ledger_table).T)
    )
    return frame, text


def _is_cell_column(column: str) -> bool:
    return column in ("barcodes", "cells") or column.startswith("cells_")


def _sheet_format(sheet: pd.DataFrame, sample: str) -> str:
    """The format of a sheet's sample: its ``format`` column, else detected from the file."""
    import pandas as pd

    import tcrtrack as tt

    rec = sheet[sheet["sample"] == sample].iloc[0]
    if "format" in sheet.columns and not pd.isna(rec["format"]):
        return str(rec["format"])
    return tt.io.detect(rec["path"]).name


def inspect_file(path: Path, sample: str) -> Inspection:
    """What one file holds: format, unit, totals, chains, ledger (index = sample)."""
    import tcrtrack as tt

    detected = tt.io.detect(path)
    return inspect_contigs(detected.reader(path, sample=sample), detected.name)


def inspect_contigs(contigs: pd.DataFrame, fmt: str) -> Inspection:
    """What one sample's contig table (read from a file of format ``fmt``) holds."""
    import numpy as np
    import pandas as pd

    import tcrtrack as tt
    from tcrtrack import schema as s

    chains = tt.pp.chain_qc(contigs)
    chains.index = chains.index.astype(str)
    sample = str(chains.index[0])
    counts = tt.tl.clonotypes(contigs)
    unit = str(contigs.attrs.get(s.ATTRS_UNIT, counts.unit))
    kind = SINGLE_CELL if unit == s.UNIT_CELLS else BULK
    if kind == BULK:
        chains = chains[[c for c in chains.columns if not _is_cell_column(c)]]
    row = counts.matrix[[counts.index(sample)]].toarray().ravel()
    found = pd.DataFrame(
        {
            "format": [fmt],
            "kind": [kind],
            "unit": [unit],
            "total": [int(np.asarray(row, dtype=np.int64).sum())],
            "clonotypes": [int(np.count_nonzero(row))],
        },
        index=pd.Index([sample], name="sample"),
    )
    ledger = tt.qc(counts)
    summary = ledger.summary()
    entries = ledger.to_frame()
    changed = entries[entries["action"] == "changed"]
    for reason, n in changed.groupby("reason", sort=False)["n"].sum().items():
        summary[f"changed_{reason}"] = int(n)
    summary.index = summary.index.astype(str)
    return Inspection(found, chains, summary, str(counts.spec))


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
    """Format each cell as text: integers without decimals, fractions with 3 digits, NA (a
    cell count of bulk data) as ``-``."""
    import pandas as pd

    out = frame.copy().astype(object)
    for col in frame.columns:
        values = frame[col]
        if col.endswith("fraction"):
            out[col] = ["-" if pd.isna(v) else f"{v:.3f}" for v in values]
        else:
            out[col] = ["-" if pd.isna(v) else f"{int(v):d}" for v in values]
    return out


def _display_found(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy().astype(object)
    for col in ("total", "clonotypes"):
        out[col] = [f"{int(v):d}" for v in frame[col]]
    return out
