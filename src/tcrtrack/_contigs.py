"""The rules of a usable contig table, shared by ``tt.io``, ``tt.pp`` and ``tt.tl``.

A base module (it imports no package of tcrtrack): the required-column check, the filter rules
of :func:`tcrtrack.pp.filter_contigs` as drop masks (which :func:`tcrtrack.tl.clonotypes` applies
while it digests a sample), the duplicate-sample and unit checks, and :func:`concat`
(``tt.pp.concat``), which the sample sheet and the scirpy reader also use to join tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack._arrow import (
    encode,
    from_numpy,
    indices,
    may_have_lower_case,
    strings,
    to_numpy,
)
from tcrtrack.errors import EmptyError, SchemaError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["check_contig_table", "claim_sample", "concat", "filter_masks", "units_of_table"]

_AA_PATTERN = r"^[ACDEFGHIKLMNPQRSTVWY]+$"


def _false(series: pd.Series | None, n: int) -> np.ndarray:
    """True where a boolean column is explicitly False (NA is not False)."""
    import pandas as pd

    if series is None:
        return np.zeros(n, dtype=bool)
    if not isinstance(series.dtype, pd.BooleanDtype):
        series = series.astype("boolean")
    return ~series.to_numpy(dtype=bool, na_value=True)


def _true(series: pd.Series) -> np.ndarray:
    """True where a boolean column is explicitly True (NA is not True)."""
    import pandas as pd

    if not isinstance(series.dtype, pd.BooleanDtype):
        series = series.astype("boolean")
    return series.to_numpy(dtype=bool, na_value=False)


def _equals(series: pd.Series, value: str) -> np.ndarray:
    """True where a (categorical or string) column equals ``value`` (NA is not equal)."""
    import pandas as pd

    if isinstance(series.dtype, pd.CategoricalDtype):
        hit = np.asarray([str(c) == value for c in series.cat.categories] + [False])
        return hit[np.asarray(series.cat.codes)]  # code -1 (NA) picks the final False
    return np.asarray(series.astype("string").eq(value).fillna(False), dtype=bool)


def check_contig_table(contigs: pd.DataFrame, *, what: str = "contig table") -> None:
    """Raise :class:`SchemaError` unless ``contigs`` has every required column."""
    import pandas as pd

    if not isinstance(contigs, pd.DataFrame):
        msg = f"expected a contig table (pandas DataFrame), got {type(contigs).__name__}"
        raise SchemaError(msg)
    missing = [c for c in s.REQUIRED_COLUMNS if c not in contigs.columns]
    if missing:
        msg = (
            f"the {what} lacks required column(s) {', '.join(missing)}; "
            "read files with tt.io.read to get a contig table"
        )
        raise SchemaError(msg)


def filter_masks(
    contigs: pd.DataFrame,
    *,
    cells_only: bool = True,
    high_confidence: bool = True,
    productive: bool = True,
    sequence: Literal["nt", "aa"] = "nt",
    check_translation: bool = True,
    encoded: tuple[np.ndarray, pa.Array] | None = None,
) -> list[tuple[str, np.ndarray]]:
    """The (reason, drop mask) pairs of :func:`filter_contigs`, in the order they apply.

    The junction checks run once per distinct junction, on the dictionary encoding of the
    junction column the definition uses; ``encoded`` (codes, -1 for NA, and dictionary) passes
    one the caller already has.
    """
    n = len(contigs)
    masks: list[tuple[str, np.ndarray]] = []
    if cells_only:
        masks.append((_qc.NOT_A_CELL, _false(contigs.get(s.IS_CELL), n)))
    if high_confidence:
        masks.append((_qc.LOW_CONFIDENCE, _false(contigs.get(s.HIGH_CONFIDENCE), n)))
    masks.append((_qc.MULTI_LOCUS_CONTIG, _equals(contigs[s.LOCUS], s.MULTI_LOCUS)))
    if productive:
        masks.append((_qc.NON_PRODUCTIVE, ~_true(contigs[s.PRODUCTIVE])))
    column = s.JUNCTION if sequence == "nt" else s.JUNCTION_AA
    if encoded is None:
        encoded = encode(strings(contigs[column]))
    masks.append((_qc.MISSING_JUNCTION, encoded[0] < 0))
    aa = strings(contigs[s.JUNCTION_AA]) if sequence == "nt" and check_translation else None
    ok = well_formed(aa, sequence, *encoded)
    masks.append((_qc.MALFORMED_JUNCTION, ~ok))
    return masks


def well_formed(
    aa: pa.ChunkedArray | None,
    sequence: str,
    codes: np.ndarray,
    dictionary: pa.Array,
) -> np.ndarray:
    """Rows whose junction is missing or well formed, from the junction column's dictionary
    encoding: the sequence checks and the translation run once per distinct junction, and
    each row compares its ``junction_aa`` (``aa``; None: no translation check) with its
    junction's translation. Shared by ``tt.pp.filter_contigs`` and the engine of
    ``tt.tl.clonotypes``, which has the columns as Arrow arrays."""
    from tcrtrack._translate import is_codon_sequence, translate

    present = codes >= 0
    if sequence == "aa":
        per_value = to_numpy(pc.match_substring_regex(dictionary, _AA_PATTERN), fill=False)
        return ~present | per_value[np.where(present, codes, 0)] if len(dictionary) else ~present
    if not len(dictionary):
        return np.ones(len(codes), dtype=bool)
    whole = is_codon_sequence(dictionary)  # per distinct junction
    ok = ~present | whole[np.where(present, codes, 0)]
    if aa is not None:
        both = present & to_numpy(pc.is_valid(aa))
        if both.any():
            # translation of each distinct junction of whole codons (others cannot match)
            lengths = to_numpy(pc.binary_length(dictionary), fill=0).astype(np.int64)
            codon_rows = np.flatnonzero(lengths % 3 == 0)
            if len(codon_rows) == len(dictionary):  # the usual case: no copy of the dictionary
                table = translate(dictionary)
                lookup = np.arange(len(dictionary), dtype=np.int64)
            else:
                table = translate(dictionary.take(indices(codon_rows)))
                lookup = np.full(len(dictionary), -1, dtype=np.int64)
                lookup[codon_rows] = np.arange(len(codon_rows))
            upper = may_have_lower_case(aa)
            # rows in ranges: the amino acids compared in place (a slice, no copy unless they
            # need upper-casing), the expected strings of one range at a time
            for start in range(0, len(codes), _SLICE):
                stop = min(start + _SLICE, len(codes))
                part = both[start:stop]
                if not part.any():
                    continue
                at = lookup[np.where(part, codes[start:stop], 0)]
                expected = table.take(from_numpy(at, mask=~part | (at < 0)))
                got = aa.slice(start, stop - start)
                if upper:
                    got = pc.ascii_upper(got)
                same = to_numpy(pc.equal(expected, got), fill=False)
                ok[start:stop] &= ~part | (same & (to_numpy(pc.binary_length(got), fill=0) > 0))
    return ok


#: Rows compared with their junction's translation at a time (bounds the temporary strings).
_SLICE: Final = 1 << 18


def claim_sample(seen: dict[str, int], name: str, table: int) -> None:
    """Record that sample ``name`` comes from table number ``table``; raise
    :class:`SchemaError` if an earlier table already has it."""
    if name in seen:
        msg = (
            f"sample name {name!r} occurs in tables {seen[name]} and {table}; "
            "give each file its own sample name"
        )
        raise SchemaError(msg)
    seen[name] = table


def units_of_table(table: pd.DataFrame) -> dict[str, str]:
    """The clone-size unit of each sample of a contig table: the table's unit
    (``attrs[ATTRS_UNIT]``, ``cells`` when not set), or the per-sample units a table joined
    by :func:`concat` records (``attrs[ATTRS_UNITS]``)."""
    import pandas as pd

    unit = table.attrs.get(s.ATTRS_UNIT, s.UNIT_CELLS)
    per_sample = table.attrs.get(s.ATTRS_UNITS) or {}
    names = pd.Series(table[s.SAMPLE].unique()).astype("string").dropna()
    return {str(x): str(per_sample.get(str(x), unit)) for x in names}


def concat(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack contig tables of different samples into one, merging their QC ledgers.

    Categorical columns are unioned; sample names must be distinct across tables. Tables may
    count clone sizes in different units (templates and reads, single-cell and bulk data):
    the joined table records each sample's unit (``attrs[ATTRS_UNITS]``), and
    :func:`tcrtrack.tl.clonotypes` keeps it per sample.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> both = tt.pp.concat([a, b])
    >>> both["sample"].value_counts().to_dict() == {"a": len(a), "b": len(b)}
    True
    """
    import pandas as pd

    if not tables:
        msg = "concat needs at least one contig table, got none"
        raise EmptyError(msg)
    seen: dict[str, int] = {}
    for i, t in enumerate(tables):
        check_contig_table(t, what=f"table {i}")
        for name in pd.Series(t[s.SAMPLE].unique()).astype("string").dropna():
            claim_sample(seen, str(name), i)
    units: dict[str, str] = {}
    for t in tables:
        units.update(units_of_table(t))
    cat_cols = [c for c in s.CATEGORICAL_COLUMNS if any(c in t for t in tables)]
    from pandas.api.types import union_categoricals

    # categoricals are joined with union_categoricals; the rest by pd.concat, after giving
    # every table every column (with the dtype the column has elsewhere)
    dtypes: dict[str, object] = {}
    for t in tables:
        for col in t.columns:
            if col not in cat_cols:
                dtypes.setdefault(col, t[col].dtype)
    parts = []
    for t in tables:
        # a new frame over the same arrays (no copy of the columns before pd.concat's own)
        columns = {
            col: t[col].array if col in t else pd.array([pd.NA] * len(t), dtype=dtype)  # type: ignore[call-overload]
            for col, dtype in dtypes.items()
        }
        parts.append(pd.DataFrame(columns, copy=False))
    out = pd.concat(parts, ignore_index=True)
    for col in cat_cols:
        cats = [
            t[col].astype("category") if col in t else pd.Series(pd.Categorical([None] * len(t)))
            for t in tables
        ]
        out[col] = union_categoricals(cats, ignore_order=True)
    order = [c for c in tables[0].columns] + [c for c in out.columns if c not in tables[0]]
    if list(out.columns) != order:
        out = out[order]
    ledger = _qc.QCLedger()
    for t in tables:
        ledger = ledger + _qc.ledger_of(t)
    distinct = set(units.values())
    if len(distinct) > 1:
        out.attrs[s.ATTRS_UNITS] = units
    else:
        first = tables[0].attrs.get(s.ATTRS_UNIT, s.UNIT_CELLS)
        out.attrs[s.ATTRS_UNIT] = next(iter(distinct), first)
    return _qc.with_ledger(out, ledger)
