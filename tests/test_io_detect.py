"""Format detection from the header, and the registry other modules add formats to."""

from __future__ import annotations

import inspect
from pathlib import Path

import pandas as pd
import pytest

import tcrtrack as tt
from tcrtrack.errors import FormatError
from tcrtrack.io import _detect, _registry

DATA = Path(__file__).parent / "data"
#: One example file per format (the test that uses them checks that every format has one).
_EXAMPLES = [
    DATA / "10x" / "v3_filtered_contig_annotations_small.csv",
    DATA / "airr" / "quirks.tsv",
    DATA / "bulk" / "TRB_Unsorted_0.tsv",
    DATA / "bulk" / "860011108_TCRB-500.tsv.gz",
    DATA / "bulk" / "TRB-Pt-1-8_S150.clones.txt.gz",
    DATA / "paired" / "UV019_a_Aqueous.csv",
    DATA / "formats" / "vdjtools_Pt-1-8.txt",
    DATA / "formats" / "lb6_clonotypes.csv.gz",
    DATA / "clonetables" / "vendor_TRB_Unsorted_83.csv.gz",
]


def test_registered_format_is_detected_and_read(tmp_path, monkeypatch):
    path = tmp_path / "bulk.tsv"
    path.write_text("nucleotide\taminoAcid\tcount (templates)\nTGTGCC\tCA\t3\n")
    calls = []

    def reader(p, *, sample=None, columns=None):
        calls.append(columns)
        return pd.DataFrame({"sample": [sample], "seen": [Path(p).name]})

    fmt = _registry.Format("toy", "a toy bulk export", ("nucleotide", "aminoAcid"), reader)
    monkeypatch.setattr(_detect, "formats", lambda: (fmt,))
    assert tt.io.detect(path).name == "toy"
    assert fmt in tt.io.known_formats()
    assert tt.io.read(path, sample="b")["seen"].tolist() == ["bulk.tsv"]
    assert tt.io.read(path, sample="b", format="toy", columns=["junction"])["sample"].tolist() == [
        "b"
    ]
    # every reader gets the same keywords, columns included: nothing is probed
    assert calls == [None, ["junction"]]


def test_one_table_of_formats_built_once():
    """The table is a tuple built on first use; every reader takes (path, *, sample, columns)."""
    table = _registry.formats()
    assert isinstance(table, tuple)
    assert _registry.formats() is table
    names = [f.name for f in tt.io.known_formats()]
    assert names[:2] == ["10x", "airr"]
    assert len(set(names)) == len(names)
    for fmt in table:
        params = inspect.signature(fmt.reader).parameters
        assert next(iter(params)) == "path"
        for keyword in ("sample", "columns"):
            assert params[keyword].kind is inspect.Parameter.KEYWORD_ONLY, (fmt.name, keyword)
            assert params[keyword].default is None, (fmt.name, keyword)


@pytest.mark.parametrize("fmt", [f.name for f in _registry.formats()])
def test_every_format_reads_with_columns(fmt, tmp_path):
    """``tt.io.read(..., columns=)`` works for every format (a 10x table skips the others)."""
    spaced = tmp_path / "spaced.txt"
    spaced.write_text("Clone count\tN. Seq. CDR3\tAA. Seq. CDR3\n5\tTGTGCCAGCAGTTTC\tCASSF\n")
    path = next(p for p in (*_EXAMPLES, spaced) if tt.io.detect(p).name == fmt)
    contigs = tt.io.read(path, sample="x", columns=["junction", "locus"])
    assert len(contigs) > 0
    assert tt.qc(contigs).count("x", action="read") == len(contigs)


def test_near_match_goes_to_reader_which_names_missing_column(tmp_path):
    source = DATA / "10x" / "v3_filtered_contig_annotations_small.csv"
    frame = pd.read_csv(source, dtype=str, keep_default_na=False).drop(columns=["cdr3"])
    path = tmp_path / "no_cdr3.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(FormatError, match=r"no_cdr3.csv: missing required column\(s\) cdr3"):
        tt.io.read(path)


def test_unknown_format_lists_columns_and_formats(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("alpha\tbeta\n1\t2\n")
    with pytest.raises(FormatError) as info:
        tt.io.detect(path)
    message = str(info.value)
    assert message.startswith(f"{path}: unknown format: columns seen: alpha, beta.")
    for known in tt.io.known_formats():
        assert f"{known.name} ({known.description}: {', '.join(known.signature)})" in message


def test_unknown_format_name(tmp_path):
    with pytest.raises(FormatError, match=r"unknown format 'xlsx'; known formats: 10x, airr"):
        tt.io.read(DATA / "10x" / "ards_P19L.csv", format="xlsx")
