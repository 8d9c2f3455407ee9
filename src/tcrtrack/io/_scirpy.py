"""Reading the AIRR data scirpy stores in an AnnData or MuData: ``tt.io.from_scirpy``."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack._anndata import airr_anndata
from tcrtrack.errors import SchemaError
from tcrtrack.io._files import finish

if TYPE_CHECKING:
    pass

__all__ = ["from_scirpy"]

#: AIRR fields copied from scirpy's storage when present.
SCIRPY_FIELDS: Final = (
    s.SEQUENCE_ID,
    s.LOCUS,
    s.JUNCTION,
    s.JUNCTION_AA,
    s.V_CALL,
    s.D_CALL,
    s.J_CALL,
    s.C_CALL,
    s.PRODUCTIVE,
    s.UMI_COUNT,
    s.CONSENSUS_COUNT,
    s.DUPLICATE_COUNT,
    s.IS_CELL,
    s.HIGH_CONFIDENCE,
)
_BOOL_FIELDS: Final = (s.PRODUCTIVE, s.IS_CELL, s.HIGH_CONFIDENCE)
_INT_FIELDS: Final = (s.UMI_COUNT, s.CONSENSUS_COUNT, s.DUPLICATE_COUNT)


def _missing(package: str) -> ImportError:
    return ImportError(
        f"{package} is needed to read scirpy data; install it with "
        "`pip install 'tcrtrack[scirpy]'` (or `pip install scirpy`)"
    )


def from_scirpy(
    data: Any,
    *,
    sample_key: str | None = None,
    sample: str | None = None,
    airr_mod: str = "airr",
    airr_key: str = "airr",
) -> pd.DataFrame:
    """Read the chains scirpy stores in an AnnData (or MuData) into a contig table.

    scirpy (≥ 0.13) keeps every chain of every cell as an awkward array in
    ``adata.obsm["airr"]`` with AIRR Rearrangement fields (``locus``, ``junction``,
    ``junction_aa``, ``v_call``, ``productive``, ``umi_count``...). Each chain becomes a row;
    ``cell_id`` is the cell's ``obs_names`` entry, so :func:`tcrtrack.tl.annotate` can write
    results back to the same cells. The array is flattened with awkward and converted to
    Arrow column by column: no Python loop over cells.

    Parameters
    ----------
    data
        An AnnData from ``scirpy.io.read_*`` (or ``ir.io.read_10x_vdj``), or a MuData with the
        AIRR data in modality ``airr_mod``.
    sample_key
        Column of ``obs`` naming each cell's sample. Without it every cell belongs to one
        sample, named ``sample`` (default ``"scirpy"``).
    sample
        The sample name when ``sample_key`` is not given.
    airr_mod, airr_key
        Where scirpy put the data (its defaults).

    Returns
    -------
    The contig table (unit ``cells``), with one QC ``read`` entry per sample.

    Raises
    ------
    ImportError
        awkward (installed with scirpy) is missing.
    tcrtrack.errors.SchemaError
        No AIRR data under ``obsm[airr_key]``, or ``sample_key`` not in ``obs``.

    Examples
    --------
    >>> import warnings, scirpy as ir, tcrtrack as tt
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # anndata: awkward arrays are "experimental"
    ...     adata = ir.io.read_10x_vdj(tt.datasets.path("pbmc3_t_filtered"))
    >>> contigs = tt.io.from_scirpy(adata, sample="pbmc3")
    >>> len(contigs), contigs["cell_id"].nunique() == adata.n_obs
    (4004, True)
    """
    try:
        import awkward as ak
    except ImportError:  # pragma: no cover - depends on the environment
        raise _missing("awkward (installed with scirpy)") from None
    adata = airr_anndata(data, airr_mod=airr_mod)
    with warnings.catch_warnings():
        # anndata flags awkward arrays in obsm as experimental each time they are accessed
        warnings.simplefilter("ignore", category=Warning)
        if airr_key not in adata.obsm:
            msg = (
                f"no AIRR data in obsm[{airr_key!r}] (obsm keys: {', '.join(adata.obsm)}); "
                "read the data with scirpy.io (scirpy >= 0.13) or pass airr_key="
            )
            raise SchemaError(msg)
        chains = adata.obsm[airr_key]
    per_cell = np.asarray(ak.num(chains, axis=1), dtype=np.int64)
    flat = ak.flatten(chains, axis=1)
    present = set(ak.fields(flat))
    n = int(per_cell.sum())
    columns: dict[str, pa.Array] = {
        s.CELL_ID: pa.array(
            np.repeat(np.asarray(adata.obs_names, dtype=object), per_cell), pa.string()
        )
    }
    for field in SCIRPY_FIELDS:
        if field not in present:
            continue
        arr = ak.to_arrow(flat[field], extensionarray=False)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if field in _BOOL_FIELDS:
            arr = (
                arr.cast(pa.bool_()) if not pa.types.is_null(arr.type) else pa.nulls(n, pa.bool_())
            )
        elif field in _INT_FIELDS:
            arr = (
                arr.cast(pa.int64()) if not pa.types.is_null(arr.type) else pa.nulls(n, pa.int64())
            )
        else:
            arr = (
                arr.cast(pa.string())
                if not pa.types.is_null(arr.type)
                else pa.nulls(n, pa.string())
            )
        columns[field] = arr
    table = pa.table(columns)
    for col in (s.JUNCTION, s.JUNCTION_AA):
        if col in table.column_names:
            i = table.column_names.index(col)
            table = table.set_column(i, col, pc.utf8_upper(table.column(col)))
    source = f"scirpy AnnData obsm[{airr_key!r}]"
    if sample_key is None:
        return finish(table, sample or "scirpy", source=source)
    if sample_key not in adata.obs:
        msg = (
            f"sample_key {sample_key!r} is not a column of obs (columns: "
            f"{', '.join(map(str, adata.obs.columns))}); name the column holding each cell's sample"
        )
        raise SchemaError(msg)
    labels = adata.obs[sample_key].astype("string")
    if labels.isna().any():
        bad = str(adata.obs_names[np.flatnonzero(labels.isna().to_numpy())[0]])
        msg = f"cell {bad!r} has no value in obs[{sample_key!r}]; every cell needs a sample"
        raise SchemaError(msg)
    codes, names = pd.factorize(labels)
    row_sample = np.repeat(codes, per_cell)
    parts = [
        finish(table.filter(pa.array(row_sample == i)), str(name), source=source)
        for i, name in enumerate(names)
    ]
    from tcrtrack._contigs import concat

    out = concat(parts)
    return _qc.with_ledger(out, _qc.ledger_of(out))
