"""``tcrtrack inspect``: what is in the files, and what filtering would drop."""

from __future__ import annotations

from pathlib import Path

import click

from tcrtrack.cli import _common, _sheet


def register(group: click.Group) -> None:
    group.add_command(inspect)


@click.command("inspect")
@click.argument(
    "files", nargs=-1, required=False, type=click.Path(path_type=Path), metavar="FILE..."
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
    """Per sample: cells, contigs per locus, cells with 0/1/2+ TRB and TRA chains, productive
    fraction, and the QC ledger (rows read and dropped by reason under the default filters).

    \b
    Examples:
      tcrtrack inspect filtered_contig_annotations.csv
      tcrtrack inspect --samples cohort.tsv
    """
    import tcrtrack as tt

    samples = _sheet.open_sheet(sheet, files)
    if samples is not None:
        blocks = []
        for patient in samples.patients:
            frame, text = _inspect(samples.load(patient))
            blocks.append(_sheet.Block(patient, frame, text, {}))
        _sheet.emit_blocks(blocks, fmt, output, meta={"samples": str(sheet)})
        return
    if not files:
        raise _common.usage_error("give at least one FILE, or --samples SHEET")
    names = _common.sample_names(list(files), list(name))
    tables = [tt.io.read(p, sample=n) for p, n in zip(files, names, strict=True)]
    frame, text = _inspect(tt.pp.concat(tables))
    _common.emit(frame, fmt, output, text=text)  # type: ignore[arg-type]


def _inspect(contigs):  # type: ignore[no-untyped-def]
    import pandas as pd

    import tcrtrack as tt

    chains = tt.pp.chain_qc(contigs)
    ledger = tt.qc(tt.pp.filter_contigs(contigs)).summary()
    frame = pd.concat([chains, ledger.add_prefix("qc_")], axis=1)
    text = (
        "Chains per sample\n"
        + _common.format_table(chains.T)
        + "\n\nQC ledger (default filters: cells, high confidence, productive, "
        "well-formed junction)\n" + _common.format_table(ledger.T)
    )
    return frame, text
