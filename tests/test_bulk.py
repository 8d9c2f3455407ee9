"""Bulk readers (immunoSEQ v2/v3, MiXCR) against independent counts of the real files."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcrtrack as tt
from tcrtrack.errors import FormatError
from tcrtrack.io._genes import adaptive_to_imgt, mixcr_hits

BULK = Path(__file__).parent / "data" / "bulk"

# the standard genetic code, written out independently of tcrtrack._translate
_BASES = "TCAG"
_AA = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODONS = {
    a + b + c: _AA[16 * i + 4 * j + k]
    for i, a in enumerate(_BASES)
    for j, b in enumerate(_BASES)
    for k, c in enumerate(_BASES)
}


def naive_translate(nt: str) -> str:
    return "".join(CODONS.get(nt[i : i + 3], "X") for i in range(0, len(nt) - 2, 3))


def naive_immunoseq(path: Path) -> pd.DataFrame:
    """Junctions cut with a plain Python loop, the way a person would do it by hand."""
    raw = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    v2 = "nucleotide" in raw
    read_col, aa_col, v_col = (
        ("nucleotide", "aminoAcid", "vIndex") if v2 else ("rearrangement", "amino_acid", "v_index")
    )
    count_col = next(c for c in raw.columns if c.startswith("count")) if v2 else "templates"
    rows = []
    verified_offsets = []
    for rec in raw.to_dict("records"):
        aa = rec[aa_col] if rec[aa_col] not in ("", "na") else ""
        start = int(rec[v_col])
        junction = None
        if aa:
            cut = rec[read_col][start : start + 3 * len(aa)]
            if len(cut) == 3 * len(aa) and naive_translate(cut) == aa:
                junction = cut
                verified_offsets.append(int(rec["cdr3Length" if v2 else "cdr3_length"]) - len(cut))
        rows.append((rec, aa, start, junction))
    offset = max(set(verified_offsets), key=verified_offsets.count)
    out = []
    for rec, aa, start, junction in rows:
        if not aa:
            length = int(rec["cdr3Length" if v2 else "cdr3_length"]) - offset
            junction = rec[read_col][start : start + length]
        status = rec["sequenceStatus" if v2 else "frame_type"]
        out.append(
            {
                "junction": junction,
                "aa": aa or None,
                "count": int(float(rec[count_col])),
                "productive": status == "In",
            }
        )
    return pd.DataFrame(out)


@pytest.mark.parametrize(
    "name",
    ["TRB_Unsorted_0.tsv", "TRB_Unsorted_32.tsv", "860011108_TCRB-500.tsv.gz"],
)
def test_immunoseq_matches_naive_count(name, tmp_path):
    path = BULK / name
    if name.endswith(".gz"):
        plain = tmp_path / name.removesuffix(".gz")
        plain.write_bytes(gzip.decompress(path.read_bytes()))
        expected = naive_immunoseq(plain)
    else:
        expected = naive_immunoseq(path)
    contigs = tt.io.read(path, sample="s")
    assert len(contigs) == len(expected)
    assert contigs["junction"].tolist() == expected["junction"].tolist()
    assert contigs["productive"].tolist() == expected["productive"].tolist()
    assert contigs["duplicate_count"].sum() == expected["count"].sum()
    # clonotype counts: productive rows summed by junction
    cc = tt.tl.clonotypes(contigs)
    got = cc.to_frame().set_index("clonotype")["s"].sort_index()
    prod = expected[expected["productive"]]
    want = prod.groupby("junction")["count"].sum().sort_index()
    assert got.index.tolist() == want.index.tolist()
    assert got.tolist() == want.tolist()
    # out-of-frame and stop rows are counted as non-productive by the filter
    ledger = tt.qc(cc)
    assert ledger.count("s", reason="non_productive") == int((~expected["productive"]).sum())


def test_cdr3_length_three_more_than_junction():
    contigs = tt.io.read_immunoseq(BULK / "TRB_Unsorted_32.tsv")
    raw = pd.read_csv(BULK / "TRB_Unsorted_32.tsv", sep="\t")
    in_frame = raw["aminoAcid"].notna().to_numpy()
    lengths = contigs["junction"].str.len().to_numpy()
    assert (raw["cdr3Length"].to_numpy()[in_frame] - lengths[in_frame] == 3).all()
    assert (lengths[in_frame] == 3 * raw["aminoAcid"].str.len().to_numpy()[in_frame]).all()
    # out-of-frame rows: cdr3Length - 3 as well
    assert (raw["cdr3Length"].to_numpy()[~in_frame] - lengths[~in_frame] == 3).all()


def test_units_detected():
    assert tt.io.read(BULK / "TRB_Unsorted_0.tsv").attrs[tt.schema.ATTRS_UNIT] == "templates"
    assert tt.io.read(BULK / "TRB_Unsorted_32.tsv").attrs[tt.schema.ATTRS_UNIT] == "reads"
    assert tt.io.read(BULK / "TRB-Pt-1-8_S150.clones.txt.gz").attrs[tt.schema.ATTRS_UNIT] == "reads"
    declared = tt.io.read_immunoseq(BULK / "TRB_Unsorted_32.tsv", unit="templates")
    assert declared.attrs[tt.schema.ATTRS_UNIT] == "templates"


def test_bulk_rows_have_no_cells():
    contigs = tt.io.read(BULK / "TRB_Unsorted_0.tsv")
    assert contigs["cell_id"].isna().all()
    assert tt.tl.clonotypes(contigs).cells is None


def test_ledger_counts_cut_junctions():
    contigs = tt.io.read(BULK / "TRB_Unsorted_0.tsv", sample="d0")
    ledger = tt.qc(contigs)
    assert ledger.count("d0", reason="junction_cut_from_read") == 1000
    assert ledger.count("d0", reason="junction_not_in_read") == 0


@pytest.mark.parametrize("name, n", [("immunoseq_1.txt", 1), ("immunoseq_4.txt", 4)])
def test_read_ending_before_junction_end(name, n):
    """These 87-nt reads stop before the last codon: no junction, amino acids kept."""
    contigs = tt.io.read(BULK / name, sample="x")
    assert contigs["junction"].isna().all()
    assert contigs["junction_aa"].notna().all()
    assert tt.qc(contigs).count("x", reason="junction_not_in_read") == n
    # still usable with an amino-acid clonotype
    cc = tt.tl.clonotypes(contigs, tt.tl.ClonotypeSpec(sequence="aa"))
    raw = pd.read_csv(BULK / name, sep="\t")
    assert int(cc.totals()["x"]) == int(raw["templates"].sum())


def test_export_without_count_column():
    contigs = tt.io.read(BULK / "7972BW_TCRB.tsv", sample="x")
    assert (contigs["duplicate_count"] == 1).all()
    assert tt.qc(contigs).count("x", reason="count_missing") == 99
    raw = pd.read_csv(BULK / "7972BW_TCRB.tsv", sep="\t", dtype=str)
    # 'no data' is missing, not a gene
    assert not contigs["d_call"].astype("string").eq("no data").any()
    assert len(contigs) == len(raw)


def test_mixcr_matches_file():
    path = BULK / "TRB-Pt-1-8_S150.clones.txt.gz"
    raw = pd.read_csv(path, sep="\t")
    contigs = tt.io.read(path, sample="m")
    assert contigs["junction"].tolist() == raw["nSeqCDR3"].tolist()
    assert contigs["duplicate_count"].tolist() == raw["cloneCount"].astype(int).tolist()
    assert (
        contigs["v_call"].astype(str).tolist()
        == raw["allVHits"].str.replace("*00", "", regex=False).tolist()
    )
    assert set(contigs["locus"]) == {"TRB"}
    productive = ~raw["aaSeqCDR3"].str.contains(r"[*_]") & (
        raw["nSeqCDR3"].str.len() == 3 * raw["aaSeqCDR3"].str.len()
    )
    assert contigs["productive"].tolist() == productive.tolist()
    cc = tt.tl.clonotypes(contigs)
    want = raw[productive].groupby("nSeqCDR3")["cloneCount"].sum()
    got = cc.to_frame().set_index("clonotype")["m"]
    assert got.sort_index().tolist() == want.sort_index().astype(int).tolist()


def test_mixcr_v4_umis(tmp_path):
    path = tmp_path / "v4.tsv"
    path.write_text(
        "cloneId\treadCount\tuniqueMoleculeCount\tnSeqCDR3\taaSeqCDR3\tallVHitsWithScore\t"
        "allJHitsWithScore\n"
        "0\t100\t7\tTGTGCCAGCAGCCCCGTGAGCAATGAGCAGTTCTTC\tCASSPVSNEQFF\tTRBV28*00(1500)\t"
        "TRBJ2-1*00(300)\n"
        "1\t50\t3\tTGTGCCAGCAGTTTCTTT\tCASSFF\tTRBV9*00(900),TRBV3-1*00(880)\tTRBJ2-7*00(200)\n"
    )
    contigs = tt.io.read(path, sample="v4")
    assert contigs.attrs[tt.schema.ATTRS_UNIT] == "umis"
    assert contigs["duplicate_count"].tolist() == [7, 3]
    assert contigs["v_call"].astype(str).tolist() == ["TRBV28", "TRBV9,TRBV3-1"]


@pytest.mark.parametrize(
    "adaptive, imgt",
    [
        ("TCRBV05-04", "TRBV5-4"),
        ("TCRBV05-04*01", "TRBV5-4*01"),
        ("TCRBV28-01*01", "TRBV28*01"),
        ("TCRBV20-01", "TRBV20-1"),
        ("TCRBV29-01*01", "TRBV29-1*01"),
        ("TCRBJ02-01*01", "TRBJ2-1*01"),
        ("TCRBD02-01*02", "TRBD2*02"),
        ("TCRBV07-02", "TRBV7-2"),
        ("TCRBV03", "TRBV3"),
        ("TCRBV03-01,TCRBV03-02", "TRBV3-1,TRBV3-2"),
        ("TCRBV20-X", "TCRBV20-X"),
        ("TCRBV20-or09_02", "TCRBV20-or09_02"),
        ("unresolved", "unresolved"),
    ],
    ids=lambda x: x,
)
def test_adaptive_gene_names(adaptive, imgt):
    assert adaptive_to_imgt(adaptive) == imgt


def test_gene_names_match_10x_spelling():
    """Genes alone in their subgroup are spelled without '-1', as Cell Ranger spells them."""
    tenx = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"))
    tenx_genes = set(tenx["v_call"].dropna().astype(str))
    bulk = tt.io.read(BULK / "TRB_Unsorted_0.tsv")
    genes = {g.split("*")[0] for g in bulk["v_call"].dropna().astype(str)}
    single = {g for g in tenx_genes if g.startswith("TRBV") and "-" not in g}
    assert {"TRBV2", "TRBV9", "TRBV28"} <= single
    assert not {f"{g}-1" for g in single} & genes
    assert {"TRBV28", "TRBV5-1", "TRBV20-1"} <= genes
    assert {g for g in genes if g.startswith("TRBV")} & tenx_genes


def test_mixcr_hits():
    assert mixcr_hits("TRBV12-3*00(900),TRBV12-4*00(899)") == "TRBV12-3,TRBV12-4"
    assert mixcr_hits("TRBV12-4*00(900.5),TRBV12-3*01(900.5)") == "TRBV12-4,TRBV12-3*01"
    assert mixcr_hits("TRBV5-1*00") == "TRBV5-1"


def test_same_clone_immunoseq_and_10x_twin():
    """One real immunoSEQ row and a hand-made 10x contig of the same clone get one key."""
    bulk = tt.io.read(BULK / "twin_immunoseq_v2.tsv", sample="bulk")
    cells = tt.io.read(BULK / "twin_10x.csv", sample="sc")
    assert tt.io.detect(BULK / "twin_immunoseq_v2.tsv").name == "immunoseq-v2"
    assert tt.io.detect(BULK / "twin_10x.csv").name == "10x"
    key_bulk = tt.tl.clonotypes(bulk).clonotypes["clonotype"].tolist()
    key_sc = tt.tl.clonotypes(cells).clonotypes["clonotype"].tolist()
    assert key_bulk == key_sc == ["TGTGCCAGCAGCCCCGTGAGCAATGAGCAGTTCTTC"]
    # with V genes too: Adaptive TCRBV28-01*01 and 10x TRBV28 agree at gene level (the
    # default), not with alleles
    assert bulk["v_call"].astype(str).tolist() == ["TRBV28*01"]
    assert cells.loc[cells["locus"] == "TRB", "v_call"].astype(str).tolist() == ["TRBV28"]
    spec = tt.tl.ClonotypeSpec(genes="v")
    key_bulk = tt.tl.clonotypes(bulk, spec).clonotypes["clonotype"].tolist()
    key_sc = tt.tl.clonotypes(cells, spec).clonotypes["clonotype"].tolist()
    assert key_bulk == key_sc == ["TRBV28|TGTGCCAGCAGCCCCGTGAGCAATGAGCAGTTCTTC"]
    alleles = tt.tl.ClonotypeSpec(genes="v", alleles=True)
    assert tt.tl.clonotypes(bulk, alleles).clonotypes["clonotype"].tolist() == [
        "TRBV28*01|TGTGCCAGCAGCCCCGTGAGCAATGAGCAGTTCTTC"
    ]


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("TRB_Unsorted_0.tsv", "immunoseq-v2"),
        ("860011108_TCRB-500.tsv.gz", "immunoseq-v3"),
        ("immunoseq_4.txt", "immunoseq-v3"),
        ("TRB-Pt-1-8_S150.clones.txt.gz", "mixcr"),
    ],
)
def test_detect(name, fmt):
    assert tt.io.detect(BULK / name).name == fmt


def test_fractional_count_is_an_error(tmp_path):
    lines = (BULK / "twin_immunoseq_v2.tsv").read_text().splitlines()
    fields = lines[1].split("\t")
    fields[2] = "822.5"
    path = tmp_path / "bad.tsv"
    path.write_text(lines[0] + "\n" + "\t".join(fields) + "\n")
    with pytest.raises(
        FormatError,
        match=r"bad.tsv: column 'count \(templates/reads\)', line 2: "
        r"count 822.5 is not a whole number",
    ):
        tt.io.read(path)


def test_not_an_immunoseq_file(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("a\tb\n1\t2\n")
    with pytest.raises(FormatError, match=r"x\.tsv: not an immunoSEQ export"):
        tt.io.read_immunoseq(path)


def test_write_airr_round_trip_bulk(tmp_path):
    contigs = tt.io.read(BULK / "TRB_Unsorted_0.tsv", sample="d0")
    out = tmp_path / "d0.tsv"
    tt.io.write_airr(contigs, out)
    back = tt.io.read_airr(out, sample="d0")
    assert back["junction"].tolist() == contigs["junction"].tolist()
    assert back["duplicate_count"].tolist() == contigs["duplicate_count"].tolist()
    assert back["productive"].tolist() == contigs["productive"].tolist()
    a = tt.tl.clonotypes(contigs).to_frame()
    b = tt.tl.clonotypes(back).to_frame()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("suffix", [".tsv", ".parquet"])
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_write_counts(tmp_path, suffix, layout):
    a = tt.io.read(BULK / "TRB_Unsorted_0.tsv", sample="d0")
    b = tt.io.read(BULK / "twin_immunoseq_v2.tsv", sample="twin")
    cc = tt.tl.clonotypes(tt.pp.concat([a, b]))
    out = tmp_path / f"counts{suffix}"
    tt.io.write_counts(cc, out, layout=layout)
    back = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out, sep="\t")
    if layout == "wide":
        assert back["d0"].sum() == cc.totals()["d0"]
        assert back["twin"].sum() == 822
        assert len(back) == cc.n_clonotypes
    else:
        assert back.groupby("sample")["count"].sum().to_dict() == {
            "d0": int(cc.totals()["d0"]),
            "twin": 822,
        }
        assert len(back) == cc.matrix.nnz
    if suffix == ".parquet":
        import json

        import pyarrow.parquet as pq

        meta = json.loads(pq.read_schema(out).metadata[b"tcrtrack"])
        assert meta["unit"] == "templates"


def test_write_table_unknown_extension(tmp_path):
    cc = tt.tl.clonotypes(tt.io.read(BULK / "twin_immunoseq_v2.tsv"))
    with pytest.raises(FormatError, match=r"counts.xyz: cannot tell the format"):
        tt.io.write_counts(cc, tmp_path / "counts.xyz")


def test_gene_renamed_counts_rows():
    raw = pd.read_csv(BULK / "TRB_Unsorted_0.tsv", sep="\t", dtype=str).fillna("")
    pattern = re.compile(r"^TCRB[VDJ]\d+(-\d+)?(\*\d+)?$")
    renamed = from_ties = 0
    for _, row in raw.iterrows():
        changed = tied = False
        for seg in "vdj":
            call, ties = row[f"{seg}MaxResolved"], row[f"{seg}GeneNameTies"]
            if ties and (call in ("", "unresolved") or re.match(r"^TCRB[VDJ]\d+$", call)):
                call, tied = ties, True
            changed |= any(pattern.match(part) for part in call.split(","))
        renamed += changed
        from_ties += tied
    contigs = tt.io.read(BULK / "TRB_Unsorted_0.tsv", sample="d0")
    assert tt.qc(contigs).count("d0", reason="gene_renamed") == renamed
    assert tt.qc(contigs).count("d0", reason="gene_from_ties") == from_ties == 394


@given(
    st.lists(
        st.tuples(
            st.text(alphabet="ACGT", min_size=0, max_size=40),
            st.integers(min_value=-1, max_value=45),
            st.integers(min_value=0, max_value=14),
            st.sampled_from(["same", "mutated", "none"]),
        ),
        min_size=1,
        max_size=30,
    )
)
@settings(max_examples=200, deadline=None)
def test_cut_junction_equals_naive(rows):
    """cut_junction against a per-row Python implementation on random reads."""
    import pyarrow as pa

    from tcrtrack.io._bulk import cut_junction

    reads, aas, starts, lengths = [], [], [], []
    for read, start, n_codons, kind in rows:
        reads.append(read)
        starts.append(start)
        piece = read[start : start + 3 * n_codons] if start >= 0 else ""
        aa = naive_translate(piece) if len(piece) == 3 * n_codons and n_codons else ""
        if kind == "mutated" and aa:
            aa = ("W" if aa[0] != "W" else "C") + aa[1:]
        if kind == "none":
            aa = ""
        aas.append(aa or None)
        lengths.append(3 * n_codons + 3)
    got, n_cut, n_failed = cut_junction(
        pa.array(reads), pa.array(aas, pa.string()), np.array(starts), np.array(lengths)
    )
    # naive: verified rows, then the offset, then the rest
    verified = {}
    for i, (read, start, aa) in enumerate(zip(reads, starts, aas, strict=True)):
        if aa and start >= 0 and start + 3 * len(aa) <= len(read):
            cut = read[start : start + 3 * len(aa)]
            if naive_translate(cut) == aa:
                verified[i] = cut
    diffs = [lengths[i] - len(c) for i, c in verified.items()]
    offset = min(set(diffs), key=lambda d: (-diffs.count(d), d)) if diffs else 0
    want = []
    for i, (read, start, aa) in enumerate(zip(reads, starts, aas, strict=True)):
        if i in verified:
            want.append(verified[i])
        elif (
            not aa
            and start >= 0
            and lengths[i] - offset > 0
            and start + lengths[i] - offset <= len(read)
        ):
            want.append(read[start : start + lengths[i] - offset])
        else:
            want.append(None)
    assert got.to_pylist() == want
    assert n_cut == sum(w is not None for w in want)
    assert n_failed == len(want) - n_cut


def test_mixcr_spaced_headers(tmp_path):
    """MiXCR 2's default headers ("Clone count", "N. Seq. CDR3") read like the short ones."""
    import gzip as gz

    text = gz.decompress((BULK / "TRB-Pt-1-8_S150.clones.txt.gz").read_bytes()).decode()
    header, rest = text.split("\n", 1)
    spaced = {
        "cloneId": "Clone ID",
        "cloneCount": "Clone count",
        "cloneFraction": "Clone fraction",
        "nSeqCDR3": "N. Seq. CDR3",
        "aaSeqCDR3": "AA. Seq. CDR3",
        "allVHits": "All V hits",
        "allDHits": "All D hits",
        "allJHits": "All J hits",
    }
    path = tmp_path / "spaced.txt"
    path.write_text("\t".join(spaced.get(c, c) for c in header.split("\t")) + "\n" + rest)
    assert tt.io.detect(path).name == "mixcr-spaced"
    a = tt.io.read(path, sample="m")
    b = tt.io.read(BULK / "TRB-Pt-1-8_S150.clones.txt.gz", sample="m")
    pd.testing.assert_frame_equal(a, b)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.one_of(st.integers(1, 1000), st.integers(2**53 - 8, 2**53 + 8)),
        ),
        min_size=1,
        max_size=30,
    )
)
@settings(max_examples=40, deadline=None)
def test_bulk_clonotypes_sums_counts_near_and_above_2_53_exactly(tmp_path_factory, rows):
    """Each clonotype's count is the exact integer sum of its rows' counts, also where a
    float64 sum (``np.bincount`` with weights) would round: near and above 2**53. (The
    readers parse counts through float64, so the parsed table's counts are set exactly.)"""
    import pyarrow as pa

    junctions = [
        "TGTGCCAGCAGTTTTTTT",
        "TGTGCCAGCAGCCCCTTT",
        "TGTGCCAGCAGGGGGTTT",
        "TGTGCCAGCAGCTTTTTT",
        "TGTGCCAGCAGTTCTTTT",
        "TGTGCCAGCAGAAATTTT",
    ]
    path = tmp_path_factory.mktemp("sum") / "big.tsv"
    lines = ["junction\tjunction_aa\tv_call\tj_call\tduplicate_count"]
    lines += [
        f"{junctions[k]}\t{naive_translate(junctions[k])}\tTRBV2\tTRBJ1-1\t1" for k, _ in rows
    ]
    path.write_text("\n".join(lines) + "\n")
    table = tt.io.detect(path).parse(path, sample="s")
    i = table.column_names.index("duplicate_count")
    exact = pa.array([count for _, count in rows], pa.int64())
    table = table.set_column(i, table.schema.field(i), exact)
    assert table.column("duplicate_count").to_pylist() == [count for _, count in rows]
    expected: dict[str, int] = {}
    for k, count in rows:
        expected[junctions[k]] = expected.get(junctions[k], 0) + count  # Python integers
    got = tt.tl.bulk_clonotypes(table)
    keys = got.keys.column("junction").to_pylist()
    assert dict(zip(keys, got.counts.tolist(), strict=True)) == expected
    assert got.counts.dtype == np.int64
