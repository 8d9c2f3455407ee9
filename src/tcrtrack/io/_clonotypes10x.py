"""Reader of Cell Ranger ``clonotypes.csv`` (one row per clonotype, its cell count and chains)."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import schema as s
from tcrtrack._arrow import fill_null, from_numpy, scalar, string_array, to_numpy
from tcrtrack.errors import FormatError
from tcrtrack.io import _files
from tcrtrack.io._registry import CLONOTYPES_SIGNATURE

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["parse_10x_clonotypes", "read_10x_clonotypes"]


def read_10x_clonotypes(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
) -> pd.DataFrame:
    r"""Read a Cell Ranger ``clonotypes.csv`` into a single-cell contig table.

    ``clonotypes.csv`` has one row per clonotype: ``clonotype_id``, ``frequency`` (its number
    of cells), ``proportion``, and its chains as ``cdr3s_aa`` / ``cdr3s_nt``, written
    ``TRA:CAVSF;TRB:CASSF;TRB:CASRG`` (locus, colon, sequence; chains separated by ``;``; the
    nucleotide sequence is the junction, as ``cdr3_nt`` of the contig table).

    **Each clonotype becomes** ``frequency`` **cells** that carry its chains: cell ``i`` of
    ``clonotype3`` is ``clonotype3:i`` (the barcodes are not in the file), each with one
    contig per chain, ``productive`` and ``is_cell`` true (Cell Ranger lists only productive
    chains of cells). So every clonotype definition treats these cells as it treats the cells
    of a contig table, and a clonotype listing **two chains of one locus** (``TRB:...;TRB:...``)
    follows the same ``multichain`` rule (:class:`tcrtrack.tl.ClonotypeSpec`): ``all`` counts
    each chain, ``drop`` excludes its cells (``cell_with_extra_chains``), and ``primary``
    keeps one chain per cell and counts the other as ``extra_chain``. The file has no UMI or
    read counts per chain, so the primary chain is decided by the rule's last tie-break, the
    larger sequence (as for two contigs of a cell with equal UMIs and reads). The ledger's
    ``read`` entry counts the contigs made (cells × chains); the clonotype step counts the
    extra chains. ``v_call`` and ``j_call`` are NA (the file has no genes): a definition with
    genes finds no clonotype.

    Parameters
    ----------
    path
        The CSV file, plain or gzip-compressed.
    sample
        Sample name; default: the file name without extensions.
    columns
        Accepted for the common reader signature (:func:`tcrtrack.io.read`); the four
        columns are all read.

    Returns
    -------
    The contig table, unit ``cells``, ``clone_id`` = ``clonotype_id``.

    Raises
    ------
    tcrtrack.errors.FormatError
        A required column is missing, a ``frequency`` is not a whole number of 1 or more, or
        a chain list is malformed (no ``LOCUS:`` prefix, an unknown locus, a different
        number of chains in ``cdr3s_aa`` and ``cdr3s_nt``); the message names the line.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "clonotypes.csv")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("clonotype_id,frequency,proportion,cdr3s_aa,cdr3s_nt\n"
    ...                  "clonotype1,2,0.67,TRA:CAF;TRB:CASSF,TRA:TGTGCCTTC;TRB:TGTGCCAGCAGTTTC\n"
    ...                  "clonotype2,1,0.33,TRB:CASSF,TRB:TGTGCCAGCAGTTTC\n")
    >>> contigs = tt.io.read(path)
    >>> contigs[["cell_id", "locus", "junction_aa", "clone_id"]]
            cell_id locus junction_aa    clone_id
    0  clonotype1:1   TRA         CAF  clonotype1
    1  clonotype1:1   TRB       CASSF  clonotype1
    2  clonotype1:2   TRA         CAF  clonotype1
    3  clonotype1:2   TRB       CASSF  clonotype1
    4  clonotype2:1   TRB       CASSF  clonotype2
    >>> tt.qc(contigs).count("clonotypes", action="read")  # contigs made
    5
    """
    return _files.frame_of(parse_10x_clonotypes(path, sample=sample, columns=columns))


def parse_10x_clonotypes(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
) -> pa.Table:
    """:func:`read_10x_clonotypes` up to the Arrow table
    (:func:`tcrtrack.io._files.finish_arrow`), which the engine of
    :func:`tcrtrack.tl.clonotypes` digests without building a DataFrame."""
    p = _files.check_path(path)
    delimiter, header = _files.sniff(p)
    _files.require_columns(p, header, CLONOTYPES_SIGNATURE, "a Cell Ranger clonotypes.csv")
    wanted = list(CLONOTYPES_SIGNATURE)
    table = _files.read_table(
        p,
        delimiter=delimiter,
        columns=wanted,
        types={c: pa.string() for c in wanted} | {"frequency": pa.int64()},
        what="a Cell Ranger clonotypes.csv",
        header=header,
    )
    _files.nonempty(p, table)
    frequency = to_numpy(table.column("frequency"), fill=0).astype(np.int64)
    if (frequency < 1).any():
        row = int(np.flatnonzero(frequency < 1)[0])
        value = table.column("frequency")[row].as_py()
        msg = (
            f"{p}: column 'frequency', line {row + 2}: {value!r} cells; a clonotype of "
            "clonotypes.csv has 1 or more cells: fix the value or remove the row"
        )
        raise FormatError(msg)
    chains = _chains(p, table)
    cells = _cells(table.column("clonotype_id"), frequency, chains)
    name = sample if sample is not None else _files.sample_name(p)
    # white space around a chain or its sequence was removed in _chains: counted per contig
    stripped = to_numpy(cells.column("stripped"))
    return _files.finish_arrow(
        cells.drop_columns(["stripped"]), name, source=str(p), stripped=stripped
    )


def _trim(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``values`` without surrounding white space, and where it was removed."""
    trimmed = pc.utf8_trim_whitespace(values)
    changed = pc.not_equal(pc.binary_length(trimmed), pc.binary_length(values))
    return trimmed, to_numpy(changed, fill=False)


def _split(
    path: Path, column: str, values: pa.ChunkedArray
) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """``TRA:x;TRB:y`` lists -> (row of each chain, ``LOCUS:seq`` strings, chains that had
    white space around them)."""
    lists = pc.split_pattern(fill_null(values, ""), ";")
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    parents = to_numpy(pc.list_parent_indices(lists)).astype(np.int64)
    items, stripped = _trim(pc.list_flatten(lists))
    empty = to_numpy(pc.equal(pc.utf8_length(items), scalar(0, pa.int64())), fill=False)
    if empty.any():
        row = int(parents[np.flatnonzero(empty)[0]])
        msg = (
            f"{path}: column {column!r}, line {row + 2}: an empty chain in "
            f"{values[row].as_py()!r}; a clonotype lists its chains as TRA:seq;TRB:seq"
        )
        raise FormatError(msg)
    return parents, items, stripped


def _chains(path: Path, table: pa.Table) -> pa.Table:
    """One row per chain: ``row`` (its clonotype), ``locus``, ``junction``, ``junction_aa``,
    and ``stripped``: white space was removed around the chain or its sequences."""
    parents_aa, items_aa, stripped_aa = _split(path, "cdr3s_aa", table.column("cdr3s_aa"))
    parents_nt, items_nt, stripped_nt = _split(path, "cdr3s_nt", table.column("cdr3s_nt"))
    n_aa = np.bincount(parents_aa, minlength=table.num_rows)
    n_nt = np.bincount(parents_nt, minlength=table.num_rows)
    if (n_aa != n_nt).any():
        row = int(np.flatnonzero(n_aa != n_nt)[0])
        msg = (
            f"{path}: line {row + 2}: {n_aa[row]} chain(s) in 'cdr3s_aa' but {n_nt[row]} in "
            "'cdr3s_nt'; each chain is listed in both, in the same order: fix the row"
        )
        raise FormatError(msg)
    stripped = stripped_aa | stripped_nt
    parts = {}
    for kind, items in (("aa", items_aa), ("nt", items_nt)):
        pairs = pc.split_pattern(items, ":", max_splits=1)
        sizes = to_numpy(pc.list_value_length(pairs), fill=0).astype(np.int64)
        locus = pc.list_element(pairs, scalar(0, pa.int64()))
        known = to_numpy(pc.is_in(locus, value_set=string_array(list(s.LOCI))), fill=False)
        bad = (sizes != 2) | ~known
        if bad.any():
            at = int(np.flatnonzero(bad)[0])
            column = f"cdr3s_{kind}"
            msg = (
                f"{path}: column {column!r}, line {int(parents_aa[at]) + 2}: chain "
                f"{items[at].as_py()!r} is not LOCUS:sequence with a locus of "
                f"{', '.join(s.LOCI)}; write each chain as e.g. TRB:CASSF"
            )
            raise FormatError(msg)
        sequence, spaced = _trim(pc.list_element(pairs, scalar(1, pa.int64())))
        stripped |= spaced
        parts[kind] = (locus, sequence)
    differs = to_numpy(pc.not_equal(parts["aa"][0], parts["nt"][0]), fill=False)
    if differs.any():
        at = int(np.flatnonzero(differs)[0])
        msg = (
            f"{path}: line {int(parents_aa[at]) + 2}: chain {at - _first(parents_aa, at) + 1} "
            f"is {parts['aa'][0][at].as_py()} in 'cdr3s_aa' but {parts['nt'][0][at].as_py()} "
            "in 'cdr3s_nt'; list the chains in the same order in both columns"
        )
        raise FormatError(msg)
    return pa.table(
        {
            "row": from_numpy(parents_aa),
            s.LOCUS: parts["aa"][0],
            s.JUNCTION: pc.utf8_upper(parts["nt"][1]),
            s.JUNCTION_AA: pc.utf8_upper(parts["aa"][1]),
            "stripped": from_numpy(stripped),
        }
    )


def _first(parents: np.ndarray, at: int) -> int:
    """Index of the first chain of the clonotype of chain ``at``."""
    return int(np.searchsorted(parents, parents[at]))


def _cells(clonotype_id: pa.ChunkedArray, frequency: np.ndarray, chains: pa.Table) -> pa.Table:
    """Each clonotype as ``frequency`` cells ``<clonotype_id>:<i>`` carrying its chains, cells
    in file order, chains of a cell next to each other."""
    rows = to_numpy(chains.column("row"))
    n_chains = np.bincount(rows, minlength=len(frequency))
    first_chain = np.concatenate([[0], np.cumsum(n_chains)[:-1]])
    cell_row = np.repeat(np.arange(len(frequency)), frequency)  # clonotype row of each cell
    cell_number = np.arange(len(cell_row)) - np.repeat(np.cumsum(frequency) - frequency, frequency)
    per_cell = n_chains[cell_row]
    contig_cell = np.repeat(np.arange(len(cell_row)), per_cell)
    within = np.arange(len(contig_cell)) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    contig_chain = first_chain[cell_row[contig_cell]] + within
    take_row = from_numpy(cell_row[contig_cell])
    ids = pc.take(clonotype_id, take_row)
    numbers = pc.cast(from_numpy(cell_number[contig_cell] + 1), pa.string())
    cell_id = pc.binary_join_element_wise(ids, numbers, scalar(":", pa.string()))
    picked = chains.take(from_numpy(contig_chain))
    n = len(contig_cell)
    return pa.table(
        {
            s.CELL_ID: cell_id,
            s.LOCUS: picked.column(s.LOCUS),
            s.JUNCTION: picked.column(s.JUNCTION),
            s.JUNCTION_AA: picked.column(s.JUNCTION_AA),
            s.V_CALL: pa.nulls(n, pa.string()),
            s.J_CALL: pa.nulls(n, pa.string()),
            s.PRODUCTIVE: from_numpy(np.ones(n, dtype=bool)),
            s.IS_CELL: from_numpy(np.ones(n, dtype=bool)),
            s.CLONE_ID: ids,
            "stripped": picked.column("stripped"),
        }
    )
