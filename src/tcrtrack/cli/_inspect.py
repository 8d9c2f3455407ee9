"""``tcrtrack inspect``: what is in the files, and what filtering would drop."""

from __future__ import annotations

from pathlib import Path

import click

from tcrtrack.cli import _common


def register(group: click.Group) -> None:
    group.add_command(inspect)


@click.command("inspect")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="FILE..."
)
@_common.name_option
@_common.format_option
@_common.output_option
def inspect(files: tuple[Path, ...], name: tuple[str, ...], fmt: str, output: Path | None) -> None:
    """Per sample: cells, contigs per locus, cells with 0/1/2+ TRB and TRA chains, productive
    fraction, and the QC ledger (rows read and dropped by reason under the default filters).

    \b
    Example:
      tcrtrack inspect filtered_contig_annotations.csv
    """
    import pandas as pd

    import tcrtrack as tt

    names = _common.sample_names(list(files), list(name))
    tables = [tt.io.read(p, sample=n) for p, n in zip(files, names, strict=True)]
    contigs = tt.pp.concat(tables)
    chains = tt.pp.chain_qc(contigs)
    ledger = tt.qc(tt.pp.filter_contigs(contigs)).summary()
    frame = pd.concat([chains, ledger.add_prefix("qc_")], axis=1)
    text = (
        "Chains per sample\n"
        + _common.format_table(chains.T)
        + "\n\nQC ledger (default filters: cells, high confidence, productive, "
        "well-formed junction)\n" + _common.format_table(ledger.T)
    )
    _common.emit(frame, fmt, output, text=text)  # type: ignore[arg-type]
