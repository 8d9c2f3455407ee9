"""The polars engine against the pandas path it replaces (the test oracle).

``tt.tl.clonotypes(tt.io.read_each(paths))`` digests Cell Ranger, AIRR, immunoSEQ and MiXCR
files with the engine (``tl/_engine.py``) straight from the readers' Arrow tables;
``tt.tl.clonotypes(list(files))`` reads the same files into pandas contig tables and digests
them with ``tl/_digest.py``. Every real file of the repository, every clonotype definition, with
and without the filter, and random tables (NA, ``Multi``, lower case, stop codons, ties,
unsorted barcodes) must give the same ``CloneCounts``: samples, counts matrix, clonotype table
with dtypes, cells table, cell counts and the QC ledger entry by entry — or the same error.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcrtrack as tt
from naive import naive_translate
from tcrtrack.errors import TcrtrackError, TcrtrackWarning

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TENX = DATA / "10x"
FILE_SETS = {
    "10x-layouts": [
        TENX / "v3_filtered_contig_annotations_small.csv",
        TENX / "v6_all_contig_annotations_small.csv",
        TENX / "v2_no_cdr3_nt.csv",
        TENX / "ards_P19L.csv",
        TENX / "ards_P19B.csv.gz",
    ],
    "10x-real": [
        TENX / "covid_C146_filtered_contig_annotations.csv.gz",
        TENX / "nsclc_lb6.csv.gz",
    ],
    "airr-and-10x": [
        TENX / "cellranger_airr_rearrangement.tsv",
        TENX / "v3_filtered_contig_annotations_small.csv",
    ],
    "patient1": sorted((ROOT / "examples" / "data" / "patient1").glob("*.csv.gz")),
    "patient2": sorted((ROOT / "examples" / "data" / "patient2").glob("*.csv.gz")),
    "nsclc-p6": sorted((ROOT / "examples" / "data" / "real" / "nsclc-p6").glob("*.csv.gz")),
    # the readers brought onto the engine after Cell Ranger's (issue 11): AIRR (single-cell,
    # bulk, minimal and with quirks the reader repairs), immunoSEQ v2 and v3, MiXCR
    "airr": [
        DATA / "airr" / "immundata_tcrb_200.tsv",
        DATA / "airr" / "quirks.tsv",
        DATA / "formats" / "airr_minimal_bulk_Pt-1-8.tsv",
    ],
    "airr-cells": [
        DATA / "formats" / "airr_minimal_cells_lb6.tsv.gz",
        TENX / "cellranger_airr_rearrangement.tsv",
    ],
    "immunoseq": [
        DATA / "bulk" / "TRB_Unsorted_0.tsv",
        DATA / "bulk" / "TRB_Unsorted_32.tsv",
        DATA / "bulk" / "twin_immunoseq_v2.tsv",
        DATA / "bulk" / "7972BW_TCRB.tsv",
        DATA / "bulk" / "860011108_TCRB-500.tsv.gz",
        DATA / "bulk" / "immunoseq_1.txt",
        DATA / "bulk" / "immunoseq_4.txt",
    ],
    "mixcr": [
        DATA / "bulk" / "TRB-Pt-1-8_S150.clones.txt.gz",
        DATA / "units" / "ln6_mixcr_reads.tsv.gz",
        DATA / "units" / "lt6_mixcr_umis.tsv.gz",
    ],
}
GRID = [
    tt.tl.ClonotypeSpec(locus=locus, sequence=seq, genes=genes, multichain=multi)  # type: ignore[arg-type]
    for locus, seq, genes, multi in itertools.product(
        ["TRB", "TRA", "TRA+TRB"], ["nt", "aa"], ["none", "v", "vj"], ["primary", "all", "drop"]
    )
]


def assert_same_counts(new: tt.tl.CloneCounts, old: tt.tl.CloneCounts) -> None:
    assert new.samples == old.samples
    assert new.units == old.units and new.single_cell == old.single_cell
    assert new.spec == old.spec
    assert new.matrix.shape == old.matrix.shape
    assert np.array_equal(new.matrix.toarray(), old.matrix.toarray())
    pd.testing.assert_frame_equal(new.clonotypes, old.clonotypes)
    if old.cells is None:
        assert new.cells is None
    else:
        assert new.cells is not None
        pd.testing.assert_frame_equal(new.cells, old.cells)
    assert np.array_equal(new.totals().to_numpy(), old.totals().to_numpy())
    assert new.qc.entries == old.qc.entries  # reason by reason, in the same order


def run_both(
    paths: list[Path], spec: tt.tl.ClonotypeSpec, *, filter: bool = True
) -> tuple[object, object]:
    """(engine result or error, pandas result or error) for the same files."""
    files = tt.io.read_each(paths, samples=[f"s{i}" for i in range(len(paths))])
    results = []
    told = []
    for tables in (files, lambda: list(files)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TcrtrackWarning)
            try:
                source = tables() if callable(tables) else tables
                results.append(tt.tl.clonotypes(source, spec, filter=filter))
            except TcrtrackError as e:
                results.append(e)
        told.append([str(w.message) for w in caught])
    assert told[0] == told[1]  # the same warnings of large drops
    return results[0], results[1]


def check(paths: list[Path], spec: tt.tl.ClonotypeSpec, *, filter: bool = True) -> None:
    new, old = run_both(paths, spec, filter=filter)
    if isinstance(old, Exception):
        assert type(new) is type(old) and str(new) == str(old)
    else:
        assert not isinstance(new, Exception), new
        assert_same_counts(new, old)  # type: ignore[arg-type]


def test_the_engine_runs_on_cell_ranger_files():
    files = tt.io.read_each([TENX / "v3_filtered_contig_annotations_small.csv"])
    parsed = next(iter(files.parsed()))
    assert not isinstance(parsed, pd.DataFrame)  # an Arrow table: no DataFrame was built


@pytest.mark.parametrize(
    ("path", "engine"),
    [
        (TENX / "cellranger_airr_rearrangement.tsv", True),
        (DATA / "airr" / "immundata_tcrb_200.tsv", True),
        (DATA / "bulk" / "TRB_Unsorted_0.tsv", True),
        (DATA / "bulk" / "immunoseq_1.txt", True),
        (DATA / "bulk" / "TRB-Pt-1-8_S150.clones.txt.gz", True),
        (DATA / "formats" / "vdjtools_Pt-1-8.txt", False),
    ],
    ids=lambda x: x.name if isinstance(x, Path) else str(x),
)
def test_which_readers_reach_the_engine(path, engine):
    """AIRR, immunoSEQ and MiXCR files reach the engine as Arrow tables (issue 11); the other
    formats are read into contig tables and digested by the pandas path."""
    parsed = next(iter(tt.io.read_each([path]).parsed()))
    assert isinstance(parsed, pd.DataFrame) is not engine


@pytest.mark.parametrize("spec", GRID, ids=str)
@pytest.mark.parametrize("name", ["10x-layouts", "airr-and-10x"])
def test_engine_equals_pandas_on_every_definition(name, spec):
    for do_filter in (True, False):
        check(FILE_SETS[name], spec, filter=do_filter)


@pytest.mark.parametrize(
    "spec",
    [
        tt.tl.ClonotypeSpec(),
        tt.tl.ClonotypeSpec(locus="TRA+TRB", sequence="aa", genes="vj"),
        tt.tl.ClonotypeSpec(locus="TRA", genes="v", multichain="drop"),
        tt.tl.ClonotypeSpec(multichain="all", sequence="aa"),
    ],
    ids=str,
)
@pytest.mark.parametrize("name", ["10x-real", "patient1", "patient2", "nsclc-p6"])
def test_engine_equals_pandas_on_real_patients(name, spec):
    check(FILE_SETS[name], spec)


@pytest.mark.parametrize(
    "spec",
    [
        tt.tl.ClonotypeSpec(genes="vj", alleles=True),
        tt.tl.ClonotypeSpec(locus="TRA+TRB", genes="v", alleles=True, multichain="all"),
    ],
    ids=str,
)
def test_engine_equals_pandas_with_alleles(spec):
    check(FILE_SETS["airr-and-10x"], spec)
    check(FILE_SETS["10x-layouts"], spec, filter=False)


BULK_GRID = [
    tt.tl.ClonotypeSpec(locus=locus, sequence=seq, genes=genes)  # type: ignore[arg-type]
    for locus, seq, genes in itertools.product(
        ["TRB", "TRA", "TRA+TRB"], ["nt", "aa"], ["none", "v", "vj"]
    )
]


@pytest.mark.parametrize("spec", BULK_GRID, ids=str)
@pytest.mark.parametrize("name", ["airr", "immunoseq", "mixcr"])
def test_engine_equals_pandas_on_bulk_readers(name, spec):
    """Every real AIRR, immunoSEQ and MiXCR file of the repository: the same counts, clonotype
    table and ledger (the gene repairs, junction cuts and count columns of each reader
    included) from the engine as from the pandas digest, or the same error."""
    for do_filter in (True, False):
        check(FILE_SETS[name], spec, filter=do_filter)


@pytest.mark.parametrize("spec", GRID, ids=str)
def test_engine_equals_pandas_on_single_cell_airr(spec):
    for do_filter in (True, False):
        check(FILE_SETS["airr-cells"], spec, filter=do_filter)


def test_engine_equals_pandas_with_a_filtered_input(tmp_path):
    # a file listed twice under two names; also the gzip and plain copies of one file
    plain = tmp_path / "p19b.csv"
    import gzip

    plain.write_bytes(gzip.decompress((TENX / "ards_P19B.csv.gz").read_bytes()))
    check([plain, TENX / "ards_P19B.csv.gz"], tt.tl.ClonotypeSpec())


# --------------------------------------------------------------------------- random tables

HEADER = (
    "barcode,is_cell,contig_id,high_confidence,length,chain,v_gene,d_gene,j_gene,c_gene,"
    "full_length,productive,cdr3,cdr3_nt,reads,umis,raw_clonotype_id,raw_consensus_id"
)
JUNCTIONS = [
    "TGTGCCAGCAGTTTC",
    "TGTGCCAGCAGTTTA",
    "tgtgccagcagtttc",
    "TGTGCCAGCAGTTT",
    "TGTNCCAGCAGTTTC",
    "TGTTAAAGCTTT",
    "TGCGCC",
    "",
    "None",
]
BOOLS = ["True", "False", "true", "FALSE", "None", ""]


@st.composite
def cell_ranger_rows(draw: st.DrawFn) -> str:
    n_cells = draw(st.integers(1, 6))
    barcodes = [f"AAAC{i:04d}-1" for i in range(n_cells)]
    rows = []
    for _ in range(draw(st.integers(1, 25))):
        nt = draw(st.sampled_from(JUNCTIONS))
        aa_kind = draw(st.sampled_from(["right", "lower", "wrong", "none", "empty"]))
        aa = {
            "right": naive_translate(nt) if nt not in ("", "None") else "CASS",
            "lower": naive_translate(nt).lower() if nt not in ("", "None") else "cass",
            "wrong": "CASSF",
            "none": "None",
            "empty": "",
        }[aa_kind]
        count = st.one_of(st.integers(0, 3).map(str), st.just(""))
        rows.append(
            ",".join(
                [
                    draw(st.sampled_from(barcodes)),
                    draw(st.sampled_from(BOOLS[:4])),
                    "c",
                    draw(st.sampled_from(BOOLS[:4])),
                    "500",
                    draw(st.sampled_from(["TRA", "TRB", "TRB", "Multi", "TRG", "None"])),
                    draw(st.sampled_from(["TRBV1", "TRBV2", "TRAV1", "None"])),
                    "None",
                    draw(st.sampled_from(["TRBJ1", "TRAJ1", "None"])),
                    "None",
                    "True",
                    draw(st.sampled_from(BOOLS)),
                    aa,
                    nt,
                    draw(count),
                    draw(count),
                    "clonotype1",
                    "None",
                ]
            )
        )
    if draw(st.booleans()):
        rows.sort()  # Cell Ranger writes files sorted by barcode
    return HEADER + "\n" + "\n".join(rows) + "\n"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.lists(cell_ranger_rows(), min_size=1, max_size=3),
    spec=st.sampled_from(GRID),
    do_filter=st.booleans(),
)
def test_engine_equals_pandas_on_random_tables(tmp_path_factory, texts, spec, do_filter):
    d = tmp_path_factory.mktemp("random")
    paths = []
    for i, text in enumerate(texts):
        p = d / f"f{i}.csv"
        p.write_text(text)
        paths.append(p)
    check(paths, spec, filter=do_filter)
