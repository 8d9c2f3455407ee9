"""The main path on a bundled real file: read, filter, clonotypes, with a naive count."""

from __future__ import annotations

import gzip
import io

import pandas as pd

import tcrtrack as tt


def _naive(path) -> pd.DataFrame:
    with gzip.open(path, "rt") as fh:
        return pd.read_csv(io.StringIO(fh.read()), dtype=str, keep_default_na=False)


def test_read_counts_equal_naive_count():
    path = tt.datasets.path("pbmc3_t_filtered")
    naive = _naive(path)
    contigs = tt.io.read_10x(path, sample="pbmc3")
    assert len(contigs) == len(naive)
    assert contigs["cell_id"].nunique() == naive["barcode"].nunique()
    assert tt.qc(contigs).count("pbmc3", action="read") == len(naive)


def test_clonotypes_equal_naive_primary_chain():
    path = tt.datasets.path("pbmc3_t_filtered")
    naive = _naive(path)
    ok = (
        (naive["is_cell"] == "True")
        & (naive["high_confidence"] == "True")
        & (naive["productive"] == "True")
        & (naive["chain"] == "TRB")
        & (naive["cdr3_nt"] != "None")
    )
    trb = naive[ok].copy()
    trb["umis"] = trb["umis"].astype(int)
    trb["reads"] = trb["reads"].astype(int)
    trb = trb.sort_values(
        ["barcode", "umis", "reads", "cdr3_nt"], ascending=[True, False, False, False]
    )
    primary = trb.drop_duplicates("barcode")
    expected = primary["cdr3_nt"].value_counts()

    cc = tt.tl.clonotypes(tt.io.read_10x(path, sample="pbmc3"))
    got = pd.Series(cc.dense()[0], index=cc.clonotypes["junction"].to_numpy())
    got = got[got > 0].sort_index()
    assert got.to_dict() == expected.sort_index().to_dict()
    assert int(cc.totals()["pbmc3"]) == primary["barcode"].nunique()
