"""Bad input: one line on stderr naming the file, the problem and the fix; exit 1; no traceback.

Each case is a hand-made file written into ``tmp_path`` and run through the command line
(:func:`tcrtrack.cli.main`), as a user would meet it.
"""

from __future__ import annotations

import gzip
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

import tcrtrack as tt
from tcrtrack.cli import main
from tcrtrack.errors import FormatError, InputError
from tcrtrack.io import _files

DATA = Path(__file__).parent / "data" / "10x"
GOOD = DATA / "v3_filtered_contig_annotations_small.csv"


def _empty(d: Path) -> Path:
    p = d / "empty.csv"
    p.write_text("")
    return p


def _blank_lines(d: Path) -> Path:
    p = d / "blank.csv"
    p.write_text("\n\n  \n")
    return p


def _header_only(d: Path) -> Path:
    p = d / "header.csv"
    p.write_text(GOOD.read_text().splitlines()[0] + "\n")
    return p


def _truncated_gzip(d: Path) -> Path:
    p = d / "cut.csv.gz"
    p.write_bytes(gzip.compress(GOOD.read_bytes())[:200])
    return p


def _truncated_large_gzip(d: Path) -> Path:
    """Cut past the first 64 KiB: detection succeeds, the full parse must fail cleanly."""
    p = d / "cut_large.csv.gz"
    p.write_bytes((DATA / "ards_P19B.csv.gz").read_bytes()[:120_000])
    return p


def _binary(d: Path) -> Path:
    p = d / "contigs.xlsx"
    p.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + bytes(range(256)) * 4)
    return p


def _binary_without_nul(d: Path) -> Path:
    p = d / "image.csv"
    p.write_bytes(bytes(range(1, 32)) * 50)
    return p


def _semicolon(d: Path) -> Path:
    p = d / "semicolon.csv"
    p.write_text(GOOD.read_text().replace(",", ";"))
    return p


def _missing_column(d: Path) -> Path:
    lines = [line.split(",") for line in GOOD.read_text().splitlines()]
    drop = lines[0].index("productive")
    p = d / "no_productive.csv"
    p.write_text("\n".join(",".join(f for i, f in enumerate(r) if i != drop) for r in lines))
    return p


def _directory(d: Path) -> Path:
    p = d / "outs"
    p.mkdir()
    return p


def _missing(d: Path) -> Path:
    return d / "does_not_exist.csv"


def _unknown(d: Path) -> Path:
    p = d / "expression.csv"
    p.write_text("gene,cell,count\nCD3E,AAAC-1,4\n")
    return p


def _ragged(d: Path) -> Path:
    lines = GOOD.read_text().splitlines()
    lines[5] = ",".join(lines[5].split(",")[:7])
    p = d / "ragged.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


CASES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("empty", _empty, r"empty.csv: the file is empty; expected a header line"),
    ("blank-lines", _blank_lines, r"blank.csv: the file is empty"),
    (
        "header-only",
        _header_only,
        r"header.csv: the file has a header line but no data rows; check",
    ),
    (
        "truncated-gzip",
        _truncated_gzip,
        r"cut.csv.gz: cannot read the file .*truncated or corrupted",
    ),
    (
        "truncated-gzip-large",
        _truncated_large_gzip,
        r"cut_large.csv.gz: cannot read the file .*truncated or corrupted: download or copy",
    ),
    ("binary", _binary, r"contigs.xlsx: this is a binary file, not a text table.*give the CSV"),
    ("binary-no-nul", _binary_without_nul, r"image.csv: this is a binary file"),
    ("semicolon", _semicolon, r"semicolon.csv: the columns are separated by ';'.*re-save"),
    (
        "missing-column",
        _missing_column,
        r"no_productive.csv: missing required column\(s\) productive for a Cell Ranger contig "
        r"table; columns seen: barcode, .*add the column",
    ),
    ("directory", _directory, r"outs: is a directory, not a file; give the contig table inside"),
    ("missing", _missing, r"does_not_exist.csv: no such file; check the path"),
    (
        "unknown-format",
        _unknown,
        r"expression.csv: unknown format: columns seen: gene, cell, count\. Known formats.*"
        r"10x \(.*barcode.*\); airr \(.*junction_aa.*\)",
    ),
    ("ragged-row", _ragged, r"ragged.csv: a row has 7 fields where the header has 18"),
]


@pytest.mark.parametrize(("make", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_one_line_exit_1(make, pattern, tmp_path, capsys):
    path = make(tmp_path)
    status = main(["inspect", str(path)])
    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("tcrtrack: error: ")
    assert "Traceback" not in err
    assert str(path) in err
    import re

    assert re.search(pattern, err), err


@pytest.mark.parametrize(("make", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_library_error_types(make, pattern, tmp_path):
    """The library raises InputError (an OSError) or FormatError (a ValueError), never prints."""
    path = make(tmp_path)
    with pytest.raises((InputError, FormatError), match=pattern):
        tt.io.read(path)


def test_debug_shows_traceback(tmp_path, capsys):
    path = _empty(tmp_path)
    status = main(["--debug", "inspect", str(path)])
    _, err = capsys.readouterr()
    assert status == 1
    assert "Traceback" in err
    assert err.rstrip().endswith("expected a header line and one row per contig")


def test_unreadable_file(tmp_path, capsys, monkeypatch):
    """chmod 000; as root that does not block reading, so os.access is made to say so."""
    path = tmp_path / "locked.csv"
    path.write_bytes(GOOD.read_bytes())
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # running as root
            monkeypatch.setattr(_files.os, "access", lambda p, mode: False)
        status = main(["inspect", str(path)])
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    _, err = capsys.readouterr()
    assert status == 1
    assert err == (
        f"tcrtrack: error: {path}: permission denied; make the file readable (chmod +r) "
        "or copy it somewhere readable\n"
    )


def test_permission_error_while_opening(tmp_path, monkeypatch):
    """A file that passes os.access but fails to open (e.g. ACLs) gives the same message."""
    path = tmp_path / "acl.csv"
    path.write_bytes(GOOD.read_bytes())

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_files.Path, "open", deny)
    with pytest.raises(InputError, match=r"acl.csv: permission denied; make the file readable"):
        tt.io.read_10x(path)


@pytest.mark.parametrize(
    "args",
    [
        ["inspect"],
        ["inspect", "--format", "xml", "x.csv"],
        ["inspect", "--bogus", "x.csv"],
        ["no-such-command"],
    ],
    ids=["no-file", "bad-format", "bad-option", "bad-command"],
)
def test_usage_errors_exit_2(args, capsys):
    status = main(args)
    _, err = capsys.readouterr()
    assert status == 2
    assert "Usage:" in err or "Error:" in err
    assert "Traceback" not in err


def test_name_count_mismatch_is_usage_error(capsys):
    status = main(["inspect", str(GOOD), "-n", "a", "-n", "b"])
    _, err = capsys.readouterr()
    assert status == 2
    assert "2 name(s) given with -n/--name for 1 file(s)" in err
