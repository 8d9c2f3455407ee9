"""scirpy round trip: AnnData built by scirpy from a 10x file -> from_scirpy -> annotate."""

from __future__ import annotations

import sys
import warnings

import anndata
import numpy as np
import pandas as pd
import pytest
import scirpy

import tcrtrack as tt
from tcrtrack.errors import SchemaError

TENX = tt.datasets.path("pbmc3_t_filtered")


def scirpy_read(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anndata: awkward arrays are "experimental"
        return scirpy.io.read_10x_vdj(path)


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """The bundled 10x file split by cell into two samples, a (reference) and b."""
    raw = pd.read_csv(TENX)
    cells = raw["barcode"].drop_duplicates().sample(frac=0.5, random_state=0)
    folder = tmp_path_factory.mktemp("halves")
    paths = {}
    for name, part in (
        ("a", raw[raw["barcode"].isin(cells)]),
        ("b", raw[~raw["barcode"].isin(cells)]),
    ):
        paths[name] = folder / f"{name}.csv"
        part.to_csv(paths[name], index=False)
    return paths


def naive_primary_trb(path, sample):
    """Each cell's primary TRB junction by hand: filters, then most UMIs, reads, larger nt."""
    raw = pd.read_csv(path)
    ok = (
        raw["is_cell"]
        & raw["high_confidence"]
        & raw["productive"].astype(str).eq("True")
        & raw["chain"].eq("TRB")
        & raw["cdr3_nt"].notna()
        & raw["cdr3_nt"].ne("None")
    )
    trb = raw[ok].sort_values(["umis", "reads", "cdr3_nt"], ascending=False)
    first = trb.groupby("barcode", sort=False).head(1)
    return pd.Series(first["cdr3_nt"].to_numpy(), index=first["barcode"].to_numpy(), name=sample)


def test_round_trip_single_sample():
    adata = scirpy_read(TENX)
    from_sc = tt.tl.clonotypes(tt.io.from_scirpy(adata, sample="p"))
    direct = tt.tl.clonotypes(tt.io.read_10x(TENX, sample="p"))
    a = from_sc.to_frame().sort_values("clonotype").reset_index(drop=True)
    b = direct.to_frame().sort_values("clonotype").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert tt.qc(from_sc).summary().equals(tt.qc(direct).summary())


def test_round_trip_two_samples_and_annotate(halves):
    parts = {name: scirpy_read(path) for name, path in halves.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = anndata.concat(parts, label="sample", index_unique=None)
    contigs = tt.io.from_scirpy(adata, sample_key="sample")
    from_sc = tt.tl.clonotypes(contigs)
    direct = tt.tl.clonotypes(
        tt.pp.concat(
            [tt.io.read_10x(halves["a"], sample="a"), tt.io.read_10x(halves["b"], sample="b")]
        )
    )
    for name in ("a", "b"):
        x = from_sc.to_frame().set_index("clonotype")[name]
        y = direct.to_frame().set_index("clonotype")[name]
        assert x[x > 0].sort_index().equals(y[y > 0].sort_index())

    labels = tt.tl.annotate(adata, from_sc, reference="a", sample_key="sample")
    assert list(labels.columns) == ["tcrtrack_clonotype", "tcrtrack_in_reference", "tcrtrack_class"]
    pd.testing.assert_series_equal(adata.obs["tcrtrack_clonotype"], labels["tcrtrack_clonotype"])

    # expected labels computed from the files directly, by hand
    primary = {name: naive_primary_trb(path, name) for name, path in halves.items()}
    ref_set = set(primary["a"])
    obs = adata.obs
    for name in ("a", "b"):
        cells = obs.index[obs["sample"] == name]
        want_clone = primary[name].reindex(cells)
        got_clone = obs.loc[cells, "tcrtrack_clonotype"].astype(object)
        assert got_clone.isna().equals(want_clone.isna())
        assert (got_clone.dropna() == want_clone.dropna()).all()
        want_in_ref = want_clone.dropna().isin(ref_set)
        got_in_ref = obs.loc[want_in_ref.index, "tcrtrack_in_reference"].astype(bool)
        assert got_in_ref.tolist() == want_in_ref.tolist()
        classes = obs.loc[want_in_ref.index, "tcrtrack_class"].astype(str)
        if name == "a":
            assert set(classes) == {"reference"}
        else:
            expected = np.where(want_in_ref, "persisting", "not_in_reference")
            assert classes.tolist() == expected.tolist()
    # some clones persist, most do not: the test can tell the two apart
    in_b = obs.loc[obs["sample"] == "b", "tcrtrack_class"].value_counts()
    assert in_b["persisting"] > 0 and in_b["not_in_reference"] > 0


def test_annotate_with_tracking_classes():
    adata = scirpy_read(TENX)
    cc = tt.tl.clonotypes(tt.io.from_scirpy(adata, sample="p"))
    labels = cc.clonotypes["clonotype"]
    track = pd.DataFrame(
        {
            "clonotype": labels,
            "class": np.where(np.arange(len(labels)) % 2 == 0, "expanded", "lost"),
        }
    )
    out = tt.tl.annotate(adata, track, counts=cc, reference="p", key_added="tt")
    mapping = dict(zip(track["clonotype"], track["class"], strict=True))
    has = out["tt_clonotype"].notna()
    expected = out.loc[has, "tt_clonotype"].map(mapping)
    assert out.loc[has, "tt_class"].astype(str).tolist() == expected.tolist()
    assert out.loc[~has, "tt_class"].isna().all()
    assert "tt_class" in adata.obs


def test_mudata():
    import mudata

    adata = scirpy_read(TENX)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mdata = mudata.MuData({"airr": adata})
    contigs = tt.io.from_scirpy(mdata, sample="p")
    assert len(contigs) == len(tt.io.read_10x(TENX))
    cc = tt.tl.clonotypes(contigs)
    tt.tl.annotate(mdata, cc, reference="p")
    written = mdata.mod["airr"].obs["tcrtrack_clonotype"]
    assert int(written.notna().sum()) == int(cc.totals()["p"])


def test_errors():
    adata = scirpy_read(TENX)
    with pytest.raises(SchemaError, match=r"sample_key 'donor' is not a column of obs"):
        tt.io.from_scirpy(adata, sample_key="donor")
    with pytest.raises(SchemaError, match=r"no AIRR data in obsm\['ir'\]"):
        tt.io.from_scirpy(adata, airr_key="ir")
    cc = tt.tl.clonotypes(tt.io.read(tt.datasets.path("pbmc3_t_filtered"), sample="p"))
    with pytest.raises(SchemaError, match="give reference="):
        tt.tl.annotate(adata, cc)
    with pytest.raises(KeyError, match="unknown sample 'q'"):
        tt.tl.annotate(adata, cc, reference="q")


def test_missing_awkward_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "awkward", None)
    with pytest.raises(ImportError, match=r"pip install 'tcrtrack\[scirpy\]'"):
        tt.io.from_scirpy(anndata.AnnData())


def test_annotate_with_per_sample_classes(halves):
    """A tracking result classifies each clone per later sample; cells get their sample's class."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class FakeTrack:  # the shape of tt.tl.Track: tests(clonotype, sample, class), reference
        tests: pd.DataFrame
        reference: str

    parts = {name: scirpy_read(path) for name, path in halves.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = anndata.concat(parts, label="sample", index_unique=None)
    cc = tt.tl.clonotypes(tt.io.from_scirpy(adata, sample_key="sample"))
    frame = cc.to_frame()
    tests = pd.DataFrame(
        {
            "clonotype": frame["clonotype"],
            "sample": "b",
            "class": np.where(frame["a"] > 0, "persistent", "new"),
        }
    )
    out = tt.tl.annotate(adata, FakeTrack(tests, "a"), counts=cc, sample_key="sample")
    in_a = set(frame.loc[frame["a"] > 0, "clonotype"])
    obs_b = out[(adata.obs["sample"] == "b").to_numpy() & out["tcrtrack_clonotype"].notna()]
    want = np.where(obs_b["tcrtrack_clonotype"].isin(in_a), "persistent", "new")
    assert obs_b["tcrtrack_class"].astype(str).tolist() == want.tolist()
    obs_a = out[(adata.obs["sample"] == "a").to_numpy() & out["tcrtrack_clonotype"].notna()]
    assert set(obs_a["tcrtrack_class"].astype(str)) == {"reference"}


def test_annotate_with_a_track_result(halves):
    """``annotate(adata, tt.tl.track(...))`` takes the CloneCounts from the Track itself
    (``Track.counts``) and writes each cell's class in its sample from ``Track.tests``."""
    parts = {name: scirpy_read(path) for name, path in halves.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = anndata.concat(parts, label="sample", index_unique=None)
    cc = tt.tl.clonotypes(tt.io.from_scirpy(adata, sample_key="sample"))
    result = tt.tl.track(cc, samples=["a", "b"])
    assert isinstance(result.counts, tt.tl.CloneCounts)
    out = tt.tl.annotate(adata, result, sample_key="sample")
    # expected: the class of each b cell's clone, read from the tests table by hand
    cls = dict(zip(result.tests["clonotype"], result.tests["class"].astype(str), strict=True))
    b_cells = (adata.obs["sample"] == "b").to_numpy() & out["tcrtrack_clonotype"].notna()
    got = out.loc[b_cells, "tcrtrack_class"].astype(str)
    want = out.loc[b_cells, "tcrtrack_clonotype"].map(cls)
    assert got.tolist() == want.tolist()
    assert set(got) >= {"new"}  # most b clones are not in a
    a_cells = (adata.obs["sample"] == "a").to_numpy() & out["tcrtrack_clonotype"].notna()
    assert set(out.loc[a_cells, "tcrtrack_class"].astype(str)) == {"reference"}
    # a Track of the top clones holds the CloneCounts of every clone; cells of other clones
    # get no class
    top = tt.tl.track(cc, samples=["a", "b"], top=5)
    assert top.counts.n_clonotypes == cc.n_clonotypes
    out = tt.tl.annotate(adata, top, sample_key="sample", key_added="top")
    kept = out["top_clonotype"].isin(list(top.sizes.index)).to_numpy()
    in_b = (adata.obs["sample"] == "b").to_numpy()
    assert out.loc[in_b & ~kept, "top_class"].isna().all()
    assert out.loc[in_b & kept, "top_class"].notna().all()
    assert (in_b & kept).any()
