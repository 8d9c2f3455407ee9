"""The two ways ``io._files.read_table`` parses a file: a plain file of a few MB from its
bytes in memory (in small blocks), others streamed with the NUL check on the way. Both give
the same table, and a NUL byte or a bad row found on the first way is reported as the second
way reports it (file, offset or line, column)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import tcrtrack as tt
from tcrtrack.errors import FormatError
from tcrtrack.io import _files

AIRR = Path(__file__).parent / "data" / "airr" / "immundata_tcrb_200.tsv"


def _parse(path: Path) -> pa.Table:
    return tt.io.detect(path).parse(path, sample="s")


def _message(path: Path) -> str:
    with pytest.raises(FormatError) as info:
        _parse(path)
    return str(info.value)


def test_small_and_streamed_parse_give_the_same_table(monkeypatch):
    small = _parse(AIRR)
    monkeypatch.setattr(_files, "_SMALL_FILE", 0)  # every file streamed
    streamed = _parse(AIRR)
    assert small.equals(streamed)
    assert small.schema.metadata == streamed.schema.metadata


def test_small_file_read_in_small_blocks(monkeypatch):
    monkeypatch.setattr(_files, "_SMALL_BLOCK", 4096)
    table = _files.read_table(
        AIRR, delimiter="\t", columns=["junction_aa"], types={"junction_aa": pa.string()}, what="x"
    )
    assert table.column("junction_aa").num_chunks > 1  # the small-file way was taken
    monkeypatch.setattr(_files, "_SMALL_FILE", 0)
    streamed = _files.read_table(
        AIRR, delimiter="\t", columns=["junction_aa"], types={"junction_aa": pa.string()}, what="x"
    )
    assert table.equals(streamed)


def test_nul_byte_in_a_column_not_read_named_with_its_offset(tmp_path):
    lines = AIRR.read_bytes().split(b"\n")
    header = lines[0].split(b"\t")
    assert b"sequence" in header  # a column the reader does not parse
    at = header.index(b"sequence")
    fields = lines[5].split(b"\t")
    fields[at] = b"AC\x00GT"
    lines[5] = b"\t".join(fields)
    data = b"\n".join(lines)
    path = tmp_path / "nul.tsv"
    path.write_bytes(data)
    offset = data.index(b"\x00")
    assert _message(path) == _files.nul_message(path, offset, compressed=False)


def test_bad_row_found_in_memory_reported_as_streamed(tmp_path, monkeypatch):
    lines = AIRR.read_text().splitlines()
    lines[150] = "\t".join(lines[150].split("\t")[:3])  # a truncated row
    path = tmp_path / "ragged.tsv"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(_files, "_SMALL_BLOCK", 4096)  # several blocks in memory
    small = _message(path)
    monkeypatch.setattr(_files, "_SMALL_FILE", 0)
    assert small == _message(path)
    assert "a row has 3 fields where the header has" in small


def test_airr_white_space_and_lower_case_counted_once(tmp_path):
    rows = [
        ("TGTGCCAGCAGTTTC", "CASSF", "TRBV2", "TRBJ1-1"),
        ("TGTGCCAGCAGTTAC", "CASSY", " TRBV3 ", "TRBJ1-2"),  # white space around a gene
        ("tgtgccagcagttgg", "cassw", "TRBV4", "TRBJ1-3"),  # junctions in lower case
    ]
    path = tmp_path / "quirks.tsv"
    path.write_text(
        "junction\tjunction_aa\tv_call\tj_call\tduplicate_count\n"
        + "".join("\t".join(r) + "\t2\n" for r in rows)
    )
    table = _parse(path)
    assert table.column("v_call").to_pylist() == ["TRBV2", "TRBV3", "TRBV4"]
    assert table.column("junction").to_pylist()[2] == "TGTGCCAGCAGTTGG"
    assert table.column("junction_aa").to_pylist() == ["CASSF", "CASSY", "CASSW"]
    ledger = tt.qc(_files.frame_of(table))
    assert ledger.count("s", reason="whitespace_stripped") == 1
    assert ledger.count("s", reason="sequence_uppercased") == 1


def test_finish_strips_the_columns_not_named_clean():
    table = pa.table({"v_call": [" TRBV2 ", "TRBV3"], "j_call": [" TRBJ1-1", "TRBJ1-2"]})
    done = _files.finish_arrow(table, "s", source="x", clean=["v_call"])
    assert done.column("v_call").to_pylist() == [" TRBV2 ", "TRBV3"]  # trusted as clean
    assert done.column("j_call").to_pylist() == ["TRBJ1-1", "TRBJ1-2"]
