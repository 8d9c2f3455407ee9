"""Per-cell persistence labels written back into an AnnData: ``tt.tl.annotate``."""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from tcrtrack.errors import SchemaError
from tcrtrack.tl._counts import CloneCounts

__all__ = ["annotate"]

#: Clone classes used when no tracking result is given.
REFERENCE: Final = "reference"
PERSISTING: Final = "persisting"
NOT_IN_REFERENCE: Final = "not_in_reference"


def _classes_of(result: Any) -> pd.DataFrame:
    """``clonotype``, optionally ``sample``, and ``class`` columns from a tracking result.

    A :class:`tcrtrack.tl.Track` classifies each clone in each later sample (its ``tests``
    table); a plain table may give one class per clonotype.
    """
    tests = getattr(result, "tests", None)
    if isinstance(tests, pd.DataFrame) and {"clonotype", "sample", "class"} <= set(tests.columns):
        frame = tests[["clonotype", "sample", "class"]]
    else:
        frame = result if isinstance(result, pd.DataFrame) else result.to_frame()
        if "class" not in frame.columns or "clonotype" not in frame.columns:
            msg = (
                f"cannot read clone classes from {type(result).__name__}: its table needs "
                f"'clonotype' and 'class' columns (columns: "
                f"{', '.join(map(str, frame.columns))}); pass the result of tt.tl.track"
            )
            raise SchemaError(msg)
        keys = ["clonotype", "sample"] if "sample" in frame.columns else ["clonotype"]
        frame = frame[[*keys, "class"]]
    out = frame.astype("string").drop_duplicates([c for c in frame.columns if c != "class"])
    return out.reset_index(drop=True)


def annotate(
    adata: Any,
    result: Any,
    *,
    reference: str | None = None,
    counts: CloneCounts | None = None,
    sample_key: str | None = None,
    key_added: str = "tcrtrack",
    airr_mod: str = "airr",
) -> pd.DataFrame:
    """Write each cell's clonotype, whether it is in the reference, and its clone class into
    ``adata.obs`` (the only tcrtrack function that writes into an AnnData).

    Three columns are added (``<key_added>_...``):

    * ``clonotype``: the clonotype label of the cell (:attr:`CloneCounts.clonotypes`), NA for
      cells without one (no productive chain of the locus, or filtered out);
    * ``in_reference``: True when the clonotype has a count > 0 in the ``reference`` sample
      (the infusion product), i.e. the cell belongs to a persisting clone; NA without a
      clonotype;
    * ``class``: with a tracking result (``result`` from ``tt.tl.track``), the class of the
      cell's clone in the cell's sample compared with the reference (the ``class`` of
      :attr:`Track.tests`: expanded, contracted, else shared, new, lost; ``reference``
      for cells of the reference sample); a table with one
      ``class`` per ``clonotype`` applies to every sample; otherwise
      ``reference`` for cells of the reference sample, ``persisting`` for cells of other
      samples whose clonotype is in the reference, ``not_in_reference`` for the rest.

    Cells are matched by ``(sample, obs_names)``: the sample of each cell is
    ``obs[sample_key]``, or the single sample of ``counts``. Under
    ``multichain="all"`` a cell with two clonotypes gets the first.

    Parameters
    ----------
    adata
        The AnnData (or MuData: its ``airr_mod`` modality) the contigs came from, e.g. via
        :func:`tcrtrack.io.from_scirpy`.
    result
        :class:`CloneCounts` (single-cell), a :class:`~tcrtrack.tl.Track` (its ``counts``
        are used), or a tracking result whose ``to_frame()`` has ``clonotype`` and ``class``
        columns (then give ``counts`` too). Cells of a clone the result does not list (e.g.
        outside ``top``) get no class.
    reference
        The reference sample; default: ``result.reference`` when the result has one.
    counts
        The :class:`CloneCounts` the tracking result was computed from.
    sample_key
        Column of ``obs`` with each cell's sample name.
    key_added
        Prefix of the columns written.

    Returns
    -------
    The three columns written, indexed like ``adata.obs``.

    Raises
    ------
    tcrtrack.errors.SchemaError
        Bulk counts (no cells), an unknown reference, or cells whose sample cannot be told.

    Examples
    --------
    >>> import warnings, anndata, pandas as pd, tcrtrack as tt
    >>> contigs = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="p")
    >>> cc = tt.tl.clonotypes(contigs)
    >>> adata = anndata.AnnData(obs=pd.DataFrame(index=pd.unique(contigs["cell_id"])))
    >>> labels = tt.tl.annotate(adata, cc, reference="p")
    >>> int(adata.obs["tcrtrack_in_reference"].sum()) == int(cc.totals()["p"])
    True
    """
    cc, classes = _counts_and_classes(result, counts)
    if reference is None:
        reference = getattr(result, "reference", None)
    if reference is None:
        msg = "give reference= (the sample of the infusion product) to label persisting cells"
        raise SchemaError(msg)
    if cc.cells is None:
        msg = f"the counts are bulk ({cc.unit}), without cells; annotate needs single-cell data"
        raise SchemaError(msg)
    ref_row = cc.index(reference)
    in_ref = np.asarray(cc.matrix[[ref_row]].toarray()).ravel() > 0
    labels = cc.clonotypes["clonotype"].astype("string").to_numpy()

    from tcrtrack._anndata import airr_anndata

    target = airr_anndata(adata, airr_mod=airr_mod)
    obs = target.obs
    obs_sample, clone = _match_cells(obs, cc, sample_key)
    has = ~np.isnan(clone)
    idx = np.where(has, clone, 0).astype(np.int64)
    clone_labels = np.full(len(has), None, dtype=object)
    clone_labels[has] = labels[idx[has]]
    clonotype = pd.array(clone_labels, dtype="string")
    clone_in_ref = np.full(len(has), None, dtype=object)
    clone_in_ref[has] = in_ref[idx[has]]
    in_reference = pd.array(clone_in_ref, dtype="boolean")
    is_ref_sample = obs_sample.eq(reference).fillna(False).to_numpy(dtype=bool)
    if classes is not None:
        cls, categories = _result_classes(classes, clonotype, obs_sample, is_ref_sample)
    else:
        cls = np.where(
            is_ref_sample,
            REFERENCE,
            np.where(in_reference.fillna(False), PERSISTING, NOT_IN_REFERENCE),
        ).astype(object)
        categories = [REFERENCE, PERSISTING, NOT_IN_REFERENCE]
    cls[~has] = None
    out = pd.DataFrame(
        {
            f"{key_added}_clonotype": clonotype,
            f"{key_added}_in_reference": in_reference,
            f"{key_added}_class": pd.Categorical(
                np.asarray(cls, dtype=object), categories=categories
            ),
        },
        index=obs.index,
    )
    for column in out.columns:
        obs[column] = out[column].array
    return out


def _counts_and_classes(
    result: Any, counts: CloneCounts | None
) -> tuple[CloneCounts, pd.DataFrame | None]:
    """The counts behind ``result`` and, for a tracking result, its clone classes."""
    if isinstance(result, CloneCounts):
        return result, None
    classes = _classes_of(result)
    given = counts if counts is not None else getattr(result, "counts", None)
    if not isinstance(given, CloneCounts):
        msg = (
            "annotate needs the CloneCounts behind a tracking result; pass counts= "
            "(the object given to tt.tl.track)"
        )
        raise SchemaError(msg)
    return given, classes


def _match_cells(
    obs: pd.DataFrame, cc: CloneCounts, sample_key: str | None
) -> tuple[pd.Series, np.ndarray]:
    """Each obs row's sample and the code of its cell's clonotype (NaN without one).

    Cells are matched on ``(sample, cell_id)``; a cell with two clonotypes (``multichain="all"``)
    gets the first.
    """
    if sample_key is not None:
        if sample_key not in obs:
            msg = f"sample_key {sample_key!r} is not a column of obs; name the sample column"
            raise SchemaError(msg)
        obs_sample = obs[sample_key].astype("string").to_numpy()
    elif cc.n_samples == 1:
        obs_sample = np.full(len(obs), cc.samples[0], dtype=object)
    else:
        msg = (
            f"the counts hold {cc.n_samples} samples; give sample_key= naming the obs column "
            "with each cell's sample"
        )
        raise SchemaError(msg)
    assert cc.cells is not None  # checked by annotate
    cells = cc.cells.drop_duplicates(["sample", "cell_id"], keep="first")
    left = pd.DataFrame(
        {
            "sample": pd.array(obs_sample, dtype="string"),
            "cell_id": pd.array(np.asarray(obs.index, dtype=object), dtype="string"),
        }
    )
    right = pd.DataFrame(
        {
            "sample": cells["sample"].astype("string").to_numpy(),
            "cell_id": cells["cell_id"].astype("string").to_numpy(),
            "clone": cells["clonotype"].to_numpy(dtype=np.int64),
        }
    )
    right["sample"] = right["sample"].astype("string")
    right["cell_id"] = right["cell_id"].astype("string")
    merged = left.merge(right, on=["sample", "cell_id"], how="left")
    return merged["sample"], merged["clone"].to_numpy(dtype=float)


def _result_classes(
    classes: pd.DataFrame,
    clonotype: pd.api.extensions.ExtensionArray,
    obs_sample: pd.Series,
    is_ref_sample: np.ndarray,
) -> tuple[np.ndarray, list[str]]:
    """Each cell's class from a tracking result's ``clonotype``/``sample``/``class`` table."""
    keys = [c for c in ("clonotype", "sample") if c in classes.columns]
    lookup = pd.DataFrame({"clonotype": clonotype, "sample": obs_sample.array})
    found = lookup[keys].merge(classes, on=keys, how="left")["class"]
    cls = np.asarray(found.astype(object).where(found.notna(), None), dtype=object)
    if "sample" in keys:
        cls[is_ref_sample] = REFERENCE
    categories = sorted({str(c) for c in classes["class"].dropna()} | {REFERENCE})
    return cls, categories
