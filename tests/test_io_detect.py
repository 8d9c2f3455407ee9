"""Format detection from the header, and the registry other modules add formats to."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import tcrtrack as tt
from tcrtrack.errors import FormatError
from tcrtrack.io import _detect

DATA = Path(__file__).parent / "data"


def test_registered_format_is_detected_and_read(tmp_path, monkeypatch):
    path = tmp_path / "bulk.tsv"
    path.write_text("nucleotide\taminoAcid\tcount (templates)\nTGTGCC\tCA\t3\n")

    def reader(p, *, sample=None):
        return pd.DataFrame({"sample": [sample], "seen": [Path(p).name]})

    fmt = _detect.Format("toy", "a toy bulk export", ("nucleotide", "aminoAcid"), reader)
    monkeypatch.setattr(_detect, "EXTRA_FORMATS", [fmt])
    assert tt.io.detect(path).name == "toy"
    assert fmt in tt.io.known_formats()
    assert tt.io.read(path, sample="b")["seen"].tolist() == ["bulk.tsv"]
    assert tt.io.read(path, sample="b", format="toy")["sample"].tolist() == ["b"]


def test_extra_formats_registry_is_a_module_list():
    """Other modules append to this very list (tcrtrack.io._detect.EXTRA_FORMATS)."""
    assert isinstance(_detect.EXTRA_FORMATS, list)
    names = [f.name for f in tt.io.known_formats()]
    assert names[:2] == ["10x", "airr"]


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
