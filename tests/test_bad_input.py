"""Bad input: one line on stderr naming the file, the problem and the fix; exit 1; no traceback.

Each case is a hand-made file written into ``tmp_path`` and run through the command line
(:func:`tcrtrack.cli.main`), as a user would meet it.
"""

from __future__ import annotations

import gzip
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tcrtrack as tt
from naive import naive_10x_counts
from tcrtrack.cli import main
from tcrtrack.errors import FormatError, InputError, TcrtrackWarning
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


# ------------------------------------------------- damaged copies of real files (issue 14)
P19L = DATA / "ards_P19L.csv"  # 5,011 contigs of one patient's lung (README of tests/data/10x)
P19B = DATA / "ards_P19B.csv.gz"
BULK = Path(__file__).parent / "data" / "bulk"
AIRR = Path(__file__).parent / "data" / "airr" / "immundata_tcrb_200.tsv"
MIXCR = BULK / "TRB-Pt-1-8_S150.clones.txt.gz"
IMMUNOSEQ = BULK / "TRB_Unsorted_0.tsv"


def _raw(path: Path) -> pd.DataFrame:
    """A real file as strings, exactly as written (no NA conversion)."""
    sep = "," if ".csv" in path.name else "\t"
    return pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    sep = "," if ".csv" in path.name else "\t"
    frame.to_csv(path, index=False, sep=sep)
    return path


def _first_trb_productive(raw: pd.DataFrame) -> int:
    ok = raw["chain"].eq("TRB") & raw["productive"].eq("True") & raw["is_cell"].eq("True")
    return int(np.flatnonzero(ok.to_numpy())[0])


def _nul_tail(d: Path) -> Path:
    """The last 2% of the file overwritten with NUL bytes: a crashed copy."""
    data = bytearray(P19L.read_bytes())
    cut = len(data) * 98 // 100
    data[cut:] = bytes(len(data) - cut)
    p = d / "nul_tail.csv"
    p.write_bytes(bytes(data))
    return p


def _nul_head(d: Path) -> Path:
    data = bytearray(P19L.read_bytes())
    data[5000:5040] = bytes(40)
    p = d / "nul_head.csv"
    p.write_bytes(bytes(data))
    return p


def _nul_gzip(d: Path) -> Path:
    data = bytearray(gzip.decompress(P19B.read_bytes()))
    cut = len(data) - 3000
    data[cut:] = bytes(3000)
    p = d / "nul_tail.csv.gz"
    p.write_bytes(gzip.compress(bytes(data)))
    return p


def _nul_bulk(d: Path) -> Path:
    data = bytearray(IMMUNOSEQ.read_bytes())
    data[-2000:] = bytes(2000)
    p = d / "nul_immunoseq.tsv"
    p.write_bytes(bytes(data))
    return p


def _duplicate_barcode(d: Path) -> Path:
    lines = P19L.read_text().splitlines()
    lines = [line + "," + line.split(",")[0] for line in lines]
    p = d / "two_barcodes.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


def _duplicate_airr(d: Path) -> Path:
    raw = _raw(AIRR)
    raw.insert(3, "v_call_copy", raw["j_call"])
    p = _write(raw, d / "two_v_calls.tsv")
    p.write_text(p.read_text().replace("v_call_copy", "v_call", 1))
    return p


def _duplicate_immunoseq(d: Path) -> Path:
    lines = IMMUNOSEQ.read_text().splitlines()
    lines[0] = lines[0].replace("vGeneName", "aminoAcid", 1)
    p = d / "two_amino_acids.tsv"
    p.write_text("\n".join(lines) + "\n")
    return p


def _negative(column: str, value: str, name: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        raw = _raw(P19L)
        raw.loc[_first_trb_productive(raw) + 40, column] = value
        return _write(raw, d / name)

    return make


def _negative_airr(d: Path) -> Path:
    raw = _raw(AIRR)
    raw.loc[17, "duplicate_count"] = "-3"
    return _write(raw, d / "negative_airr.tsv")


def _negative_immunoseq(d: Path) -> Path:
    raw = _raw(IMMUNOSEQ)
    raw.loc[9, "count (templates/reads)"] = "-12"
    return _write(raw, d / "negative_immunoseq.tsv")


def _negative_mixcr(d: Path) -> Path:
    raw = pd.read_csv(MIXCR, dtype=str, keep_default_na=False, sep="\t")
    raw.loc[4, "cloneCount"] = "-1"
    return _write(raw, d / "negative_clones.txt")


DAMAGED: list[tuple[str, Callable[[Path], Path], str]] = [
    (
        "nul-tail",
        _nul_tail,
        rf"nul_tail.csv: NUL byte at byte offset {P19L.stat().st_size * 98 // 100:,}: the file "
        r"is damaged .*copy or download it again",
    ),
    ("nul-head", _nul_head, r"nul_head.csv: NUL byte at byte offset 5,000: the file is damaged"),
    (
        "nul-gzip",
        _nul_gzip,
        r"nul_tail.csv.gz: NUL byte at byte offset 3,088,166 of the decompressed data",
    ),
    ("nul-immunoseq", _nul_bulk, r"nul_immunoseq.tsv: NUL byte at byte offset \d"),
    (
        "duplicate-column",
        _duplicate_barcode,
        r"two_barcodes.csv: column 'barcode' occurs twice in the header \(columns 1 and 19\); "
        r"remove or rename one",
    ),
    ("duplicate-column-airr", _duplicate_airr, r"two_v_calls.tsv: column 'v_call' occurs twice"),
    (
        "duplicate-column-immunoseq",
        _duplicate_immunoseq,
        r"two_amino_acids.tsv: column 'aminoAcid' occurs twice",
    ),
    (
        "negative-umis",
        _negative("umis", "-4", "negative_umis.csv"),
        r"negative_umis.csv: column 'umis', line 43: count -4 is negative; .*fix the value or "
        r"remove the row",
    ),
    (
        "negative-reads",
        _negative("reads", "-1200", "negative_reads.csv"),
        r"negative_reads.csv: column 'reads', line 43: count -1200 is negative",
    ),
    (
        "fractional-umis",
        _negative("umis", "2.5", "half_umis.csv"),
        r"half_umis.csv: column 'umis', line 43: count 2.5 is not a whole number",
    ),
    (
        "negative-duplicate-count",
        _negative_airr,
        r"negative_airr.tsv: column 'duplicate_count', line 19: count -3 is negative",
    ),
    (
        "negative-templates",
        _negative_immunoseq,
        r"negative_immunoseq.tsv: column 'count \(templates/reads\)', line 11: count -12 is "
        r"negative",
    ),
    (
        "negative-mixcr",
        _negative_mixcr,
        r"negative_clones.txt: column 'cloneCount', line 6: count -1 is negative",
    ),
]


@pytest.mark.parametrize(("make", "pattern"), [c[1:] for c in DAMAGED], ids=[c[0] for c in DAMAGED])
def test_damaged_real_file_one_line_exit_1(make, pattern, tmp_path, capsys):
    path = make(tmp_path)
    status = main(["inspect", str(path)])
    out, err = capsys.readouterr()
    assert (status, out) == (1, "")
    assert err.startswith("tcrtrack: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert re.search(pattern, err), err
    with pytest.raises(FormatError, match=pattern):
        tt.io.read(path)


def _tt_counts(path: Path, *, genes: bool = False, **read: object) -> dict[tuple[str, ...], int]:
    spec = tt.tl.ClonotypeSpec(genes="vj" if genes else "none")
    counts = tt.tl.clonotypes(tt.io.read(path, sample="s", **read), spec)  # type: ignore[arg-type]
    long = counts.to_frame(layout="long")
    key = ["junction", "v_call", "j_call"] if genes else ["junction"]
    return {tuple(r[:-1]): int(r[-1]) for r in long[[*key, "count"]].itertuples(index=False)}


def _edit(column: str, every: int, change: Callable[[str], str]) -> Callable[[pd.DataFrame], int]:
    """Change ``column`` on every ``every``-th row; return the rows changed."""

    def edit(raw: pd.DataFrame) -> int:
        rows = raw.index[::every]
        raw.loc[rows, column] = [change(v) for v in raw.loc[rows, column]]
        return len(rows)

    return edit


#: Damage that must not change the answer: (id, edit of the string table returning the rows
#: it changed (None: not counted in the ledger), whitespace_stripped expected, text rewrite).
Edit = Callable[[pd.DataFrame], int] | None
ACCEPTED: list[tuple[str, Edit, bool, Callable[[str], str] | None]] = [
    ("trailing-space-cdr3-nt", _edit("cdr3_nt", 5, lambda v: v + " "), True, None),
    ("leading-space-cdr3-nt", _edit("cdr3_nt", 3, lambda v: "  " + v), True, None),
    ("tab-around-cdr3", _edit("cdr3", 4, lambda v: "\t" + v + "\t"), True, None),
    ("space-in-barcode", _edit("barcode", 7, lambda v: v + " "), True, None),
    ("space-around-chain", _edit("chain", 6, lambda v: " " + v + " "), True, None),
    ("space-around-v-gene", _edit("v_gene", 2, lambda v: v + " "), True, None),
    ("float-umis", _edit("umis", 1, lambda v: f"{int(v)}.0"), False, None),
    ("float-reads", _edit("reads", 1, lambda v: f"{float(v)}"), False, None),
    ("crlf-line-ends", None, False, lambda t: t.replace("\n", "\r\n")),
    ("utf8-bom", None, False, lambda t: "\ufeff" + t),
    ("no-final-newline", None, False, lambda t: t.rstrip("\n")),
    ("trailing-blank-lines", None, False, lambda t: t + "\n\n\n"),
    ("upper-case-booleans", None, False, lambda t: t.replace(",True,", ",TRUE,")),
]


@pytest.mark.parametrize(
    ("edit", "stripped", "rewrite"), [c[1:] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED]
)
def test_damage_that_keeps_the_answer(edit, stripped, rewrite, tmp_path):
    """Each case gives the clonotypes and cell counts of a naive count of the clean file, for
    the junction and for junction + V + J, and counts its repairs in the ledger."""
    raw = _raw(P19L)
    changed = edit(raw) if edit is not None else 0
    path = _write(raw, tmp_path / "damaged.csv")
    if rewrite is not None:
        path.write_bytes(rewrite(path.read_text()).encode())
    expected = naive_10x_counts(P19L)
    assert _tt_counts(path) == expected
    assert _tt_counts(path, genes=True) == naive_10x_counts(P19L, genes=True)
    ledger = tt.qc(tt.io.read(path, sample="s"))
    repaired = ledger.count("s", action="changed", reason="whitespace_stripped")
    assert repaired == (changed if stripped else 0)


def test_trailing_spaces_share_the_same_on_the_command_line(tmp_path, capsys):
    """The issue's case: a spreadsheet round trip left a space after cdr3_nt on a fifth of the
    contigs; share must give the clean file's numbers, and say nothing."""
    raw = _raw(P19L)
    _edit("cdr3_nt", 5, lambda v: v + " ")(raw)
    damaged = _write(raw, tmp_path / "P19L.csv")
    args = ["share", str(P19B), "--format", "tsv", "-n", "B", "-n", "L"]
    assert main([*args, str(P19L)]) == 0
    clean_out, clean_err = capsys.readouterr()
    assert main([*args, str(damaged)]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (clean_out, clean_err)


def test_a_large_drop_is_told_once_naming_file_reason_and_count(tmp_path, capsys):
    """Junctions damaged on 1 row in 10 (a cut sequence): more than 5% of the rows dropped as
    malformed, told in one warning line; the answer is the naive count without those rows."""
    raw = _raw(P19L)
    damaged_rows = raw.index[::10]
    raw.loc[damaged_rows, "cdr3_nt"] = [
        v[:-1] if v != "None" else v for v in raw.loc[damaged_rows, "cdr3_nt"]
    ]
    path = _write(raw, tmp_path / "cut.csv")
    n_bad = int((raw.loc[damaged_rows, "cdr3_nt"] != "None").sum())
    status = main(["share", str(P19B), str(path), "--format", "tsv"])
    _, err = capsys.readouterr()
    assert status == 0
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"tcrtrack: warning: {path} (sample 'cut'): ")
    assert re.search(r"\d[\d,]* of 5,011 rows \(\d+\.\d%\) dropped as malformed_junction", lines[0])
    with pytest.warns(TcrtrackWarning, match=r"cut.csv \(sample 'x'\): .* dropped as malformed"):
        counts = tt.tl.clonotypes(tt.io.read(path, sample="x"))
    assert tt.qc(counts).count("x", reason="malformed_junction") <= n_bad
    assert tt.qc(counts).count("x", reason="malformed_junction") > 0.05 * 5011


def test_no_usable_row_of_the_locus_is_an_error_naming_the_main_reason(tmp_path, capsys):
    raw = _raw(P19L)
    raw["cdr3_nt"] = "None"
    path = _write(raw, tmp_path / "no_nt.csv")
    status = main(["share", str(P19B), str(path)])
    _, err = capsys.readouterr()
    assert status == 1
    last = err.splitlines()[-1]
    assert last.startswith(f"tcrtrack: error: {path}: sample 'no_nt' has no TRB clonotype")
    assert "5011 rows read; dropped: missing_junction" in last
    assert "Traceback" not in err


# ------------------------------------------------------------ outputs, options, streams
SMALL_B = P19B  # 15,003 contigs
OUTPUT_COMMANDS = {
    "inspect": ["inspect", str(P19L)],
    "share": ["share", str(P19B), str(P19L)],
    "track": ["track", str(P19B), str(P19L)],
    "persist": ["persist", str(P19B), str(P19L)],
    "diversity": ["diversity", str(P19B), str(P19L)],
    "overlap": ["overlap", str(P19B), str(P19L)],
}


@pytest.mark.parametrize("command", list(OUTPUT_COMMANDS))
def test_every_writing_command_says_what_it_wrote(command, tmp_path, capsys):
    out = tmp_path / "result.tsv"
    assert main([*OUTPUT_COMMANDS[command], "-f", "tsv", "-o", str(out)]) == 0
    stdout, err = capsys.readouterr()
    assert stdout == ""
    assert err.splitlines()[-1] == f"tcrtrack: wrote {out}"
    assert out.read_text().count("\n") >= 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.tsv"]  # no temporary file


@pytest.mark.parametrize("command", list(OUTPUT_COMMANDS))
def test_an_output_that_is_an_input_is_refused_and_the_input_kept(command, tmp_path, capsys):
    copy = tmp_path / "P19L.csv"
    copy.write_bytes(P19L.read_bytes())
    args = [str(copy) if a == str(P19L) else a for a in OUTPUT_COMMANDS[command]]
    assert main([*args, "-o", str(copy)]) == 1
    _, err = capsys.readouterr()
    assert err == (
        f"tcrtrack: error: --output {str(copy)!r} is also an input file: writing it would "
        "destroy the data; choose another output path\n"
    )
    assert copy.read_bytes() == P19L.read_bytes()


def _sheet(tmp_path: Path) -> Path:
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(
        "patient\tsample\ttimepoint\tpath\treference\n"
        f"P19\tblood\t0\t{P19B}\ttrue\n"
        f"P19\tlung\t1\t{tmp_path / 'lung.csv'}\tfalse\n"
    )
    (tmp_path / "lung.csv").write_bytes(P19L.read_bytes())
    return sheet


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["share", str(P19B), "{tmp}/lung.csv", "-o", "{tmp}/link.csv"],
            "--output '{tmp}/link.csv' is also an input file",
        ),
        (
            ["share", str(P19B), "{tmp}/lung.csv", "--shared-clonotypes", "{tmp}/lung.csv"],
            "--shared-clonotypes '{tmp}/lung.csv' is also an input file",
        ),
        (
            ["share", "--samples", "{tmp}/sheet.tsv", "-o", "{tmp}/lung.csv"],
            "--output '{tmp}/lung.csv' is also an input file",
        ),
        (
            ["share", "--samples", "{tmp}/sheet.tsv", "-o", "{tmp}/sheet.tsv"],
            "--output '{tmp}/sheet.tsv' is also an input file",
        ),
        (
            ["report", str(P19B), "{tmp}/lung.csv", "-o", "{tmp}/lung.csv"],
            "--output '{tmp}/lung.csv' is also an input file",
        ),
        (
            ["share", str(P19B), "{tmp}/lung.csv", "-o", "{tmp}/x.png", "--venn", "{tmp}/x.png"],
            "--venn and --output both name '{tmp}/x.png'; give each output its own file",
        ),
        (
            # the output's folder is checked first: the damaged input is never read
            ["share", str(P19B), "{tmp}/nul.csv", "-o", "{tmp}/no/such/out.json"],
            "--output '{tmp}/no/such/out.json': the folder '{tmp}/no/such' does not exist; "
            "create it or choose another path",
        ),
        (
            ["persist", str(P19B), "{tmp}/lung.csv", "--clones", "{tmp}/missing/c.tsv"],
            "--clones '{tmp}/missing/c.tsv': the folder '{tmp}/missing' does not exist",
        ),
    ],
    ids=[
        "symlink-to-input",
        "shared-clonotypes-is-input",
        "output-is-sheet-file",
        "output-is-sheet",
        "report-over-input",
        "two-outputs-one-file",
        "missing-folder-before-work",
        "persist-clones-missing-folder",
    ],
)
def test_output_paths_checked_before_any_work(args, message, tmp_path, capsys):
    _sheet(tmp_path)
    (tmp_path / "link.csv").symlink_to(tmp_path / "lung.csv")
    (tmp_path / "nul.csv").write_bytes(_nul_tail(tmp_path).read_bytes())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(argv) == 1
    _, err = capsys.readouterr()
    assert (
        err
        == f"tcrtrack: error: {message.replace('{tmp}', str(tmp_path))}"
        + err[len("tcrtrack: error: ") + len(message.replace("{tmp}", str(tmp_path))) :]
    )
    assert err.count("\n") == 1
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before


def test_an_unwritable_output_is_refused_before_work(tmp_path, capsys, monkeypatch):
    out = tmp_path / "locked.tsv"
    out.write_text("old\n")
    out.chmod(0o444)
    if os.access(out, os.W_OK):  # running as root
        real = os.access
        monkeypatch.setattr(
            os, "access", lambda p, m: False if Path(p) == out and m & os.W_OK else real(p, m)
        )
    try:
        assert main(["share", str(P19B), str(P19L), "-o", str(out)]) == 1
    finally:
        out.chmod(0o644)
    assert capsys.readouterr().err == (
        f"tcrtrack: error: --output {str(out)!r}: not writable; choose another path\n"
    )
    assert out.read_text() == "old\n"


@pytest.mark.parametrize(
    "failure", [KeyboardInterrupt, OSError(28, "No space left on device")], ids=["ctrl-c", "full"]
)
def test_an_interrupted_write_leaves_the_old_file(failure, tmp_path, capsys):
    from tcrtrack.cli import _common

    out = tmp_path / "table.tsv"
    out.write_text("the previous result\n")

    def half(tmp: Path) -> None:
        tmp.write_text("half of the new res")
        raise failure

    with pytest.raises((KeyboardInterrupt, InputError)) as caught:
        _common.write_file(out, half)
    if isinstance(failure, OSError):
        assert str(caught.value) == (
            f"{str(out)!r}: cannot write (No space left on device); any previous file is "
            "unchanged: free space or choose another path"
        )
    assert out.read_text() == "the previous result\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.tsv"]
    assert capsys.readouterr().err == ""


def test_ctrl_c_during_a_run_exits_130_and_keeps_the_old_output(tmp_path, capsys, monkeypatch):
    import matplotlib.figure

    out, venn = tmp_path / "share.tsv", tmp_path / "venn.png"
    out.write_text("old\n")
    venn.write_bytes(b"old png")

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", interrupt)
    status = main(["share", str(P19B), str(P19L), "-o", str(out), "--venn", str(venn)])
    assert status == 130
    assert venn.read_bytes() == b"old png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["share.tsv", "venn.png"]


@pytest.mark.parametrize(
    ("args", "option", "why"),
    [
        (["share", "--seed", "-1"], "--seed", "-1 is not in the range x>=0"),
        (["share", "--ci", "nan"], "--ci", "nan is not a number"),
        (["share", "--ci", "inf"], "--ci", "inf is not in the range"),
        (["share", "--ci", "1.5"], "--ci", "1.5 is not in the range"),
        (["share", "--rarefy", "--depth", "0"], "--depth", "0 is not in the range x>=1"),
        (["report", "--seed", "-5", "-o", "r.html"], "--seed", "-5 is not in the range x>=0"),
        (["persist", "--ci", "nan"], "--ci", "nan is not a number"),
        (["report", "--top", "0", "-o", "r.html"], "--top", "0 is not in the range x>=1"),
        (["share", "--locus", "TRX"], "--locus", "'TRX' is not one of"),
        (["share", "--genes", "d"], "--genes", "'d' is not one of"),
    ],
    ids=[
        "seed-negative",
        "ci-nan",
        "ci-inf",
        "ci-above-1",
        "depth-0",
        "report-seed",
        "persist-ci-nan",
        "report-top-0",
        "locus",
        "genes",
    ],
)
def test_options_are_checked_at_the_boundary_naming_the_option(args, option, why, capsys):
    command, *options = args
    assert main([command, str(P19B), str(P19L), *options]) == 2
    err = capsys.readouterr().err
    assert f"Invalid value for '{option}'" in err
    assert why in err
    assert "Traceback" not in err


def _share_tsv(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["share", *args, "-f", "tsv", "-n", "B", "-n", "L"]) == 0
    return capsys.readouterr().out


def test_a_named_pipe_is_read_once(tmp_path, capsys):
    """A FIFO (as a shell's process substitution <(zcat x.csv.gz) gives) is read once: the
    header for detection and the rows for parsing come from the same single pass."""
    import threading

    fifo = tmp_path / "lung.fifo"
    os.mkfifo(fifo)
    data = P19L.read_bytes()

    def writer() -> None:
        with fifo.open("wb") as fh:
            fh.write(data)

    thread = threading.Thread(target=writer)
    thread.start()
    via_pipe = _share_tsv([str(P19B), str(fifo)], capsys)
    thread.join(timeout=60)
    assert via_pipe == _share_tsv([str(P19B), str(P19L)], capsys)
    assert "\t1201\t" in via_pipe  # L's 1,201 clonotypes
    # the library reads the same stream again from its single copy
    assert len(tt.io.read(fifo)) == 5011


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_standard_input_as_dash(gz, capsys):
    from click.testing import CliRunner

    from tcrtrack.cli import cli

    data = P19L.read_bytes()
    result = CliRunner().invoke(
        cli,
        ["share", str(P19B), "-", "-f", "tsv", "-n", "B", "-n", "L"],
        input=gzip.compress(data) if gz else data,
    )
    assert result.exit_code == 0, result.output
    expected = _share_tsv([str(P19B), str(P19L)], capsys)
    assert result.stdout == expected


def test_standard_input_sample_name():
    assert tt.io.sample_name("-") == "stdin"


FORMATS = Path(__file__).parent / "data" / "formats"
VDJTOOLS = FORMATS / "mitcr_Pt-1-8_top200.txt"
CLONOTYPES = FORMATS / "lb6_clonotypes.csv.gz"
AIRR_BULK = FORMATS / "airr_minimal_bulk_Pt-1-8.tsv"


def _table_edit(
    source: Path, name: str, edit: Callable[[pd.DataFrame], pd.DataFrame]
) -> Callable[[Path], Path]:
    """A copy of a real file of tests/data/formats with ``edit`` applied (values as text)."""

    def make(d: Path) -> Path:
        sep = "," if ".csv" in source.name else "\t"
        raw = pd.read_csv(source, dtype=str, keep_default_na=False, sep=sep)
        return _write_sep(edit(raw), d / name, sep)

    return make


def _write_sep(frame: pd.DataFrame, path: Path, sep: str) -> Path:
    frame.to_csv(path, index=False, sep=sep)
    return path


def _set(row: int, column: str, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(raw: pd.DataFrame) -> pd.DataFrame:
        raw.loc[row, column] = value
        return raw

    return edit


def _first_chain(row: int, column: str, prefix: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Replace the ``LOCUS:`` of the first chain of ``row`` with ``prefix``."""

    def edit(raw: pd.DataFrame) -> pd.DataFrame:
        raw.loc[row, column] = prefix + raw.loc[row, column].split(":", 1)[1]
        return raw

    return edit


def _drop(column: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda raw: raw.drop(columns=[column])


def _rename(old: str, new: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda raw: raw.rename(columns={old: new})


NEW_FORMATS: list[tuple[str, Callable[[Path], Path], str]] = [
    (
        "vdjtools-no-count",
        _table_edit(VDJTOOLS, "no_count.txt", _drop("count")),
        r"no_count.txt: a VDJtools table needs a count column \('#count' or 'count'\); "
        r"columns seen: freq, cdr3nt.*add the clone sizes",
    ),
    (
        "vdjtools-missing-j",
        _table_edit(VDJTOOLS, "no_j.txt", _drop("j")),
        r"no_j.txt: missing required column\(s\) j for a VDJtools clonotype table",
    ),
    (
        "vdjtools-negative-count",
        _table_edit(VDJTOOLS, "negative.txt", _set(7, "count", "-5")),
        r"negative.txt: column 'count', line 9: count -5 is negative; .*fix the value",
    ),
    (
        "vdjtools-fractional-count",
        _table_edit(VDJTOOLS, "half.txt", _set(3, "count", "2.5")),
        r"half.txt: column 'count', line 5: count 2.5 is not a whole number",
    ),
    (
        "vdjtools-text-count",
        _table_edit(VDJTOOLS, "text.txt", _set(3, "count", "many")),
        r"text.txt: column 'count', line 5: cannot read value 'many'",
    ),
    (
        "clonotypes-zero-frequency",
        _table_edit(CLONOTYPES, "zero.csv", _set(10, "frequency", "0")),
        r"zero.csv: column 'frequency', line 12: 0 cells; a clonotype of clonotypes.csv has 1 "
        r"or more cells: fix the value",
    ),
    (
        "clonotypes-negative-frequency",
        _table_edit(CLONOTYPES, "negative.csv", _set(10, "frequency", "-2")),
        r"negative.csv: column 'frequency', line 12: count -2 is negative",
    ),
    (
        "clonotypes-no-locus-prefix",
        _table_edit(CLONOTYPES, "no_prefix.csv", _first_chain(4, "cdr3s_aa", "")),
        r"no_prefix.csv: column 'cdr3s_aa', line 6: chain 'C[A-Z]+' is not LOCUS:sequence "
        r"with a locus of TRA, TRB.*write each chain as e.g. TRB:CASSF",
    ),
    (
        "clonotypes-unknown-locus",
        _table_edit(CLONOTYPES, "trx.csv", _first_chain(4, "cdr3s_nt", "TRX:")),
        r"trx.csv: column 'cdr3s_nt', line 6: chain 'TRX:TG[ACGT]+' is not LOCUS:sequence",
    ),
    (
        "clonotypes-chain-count-mismatch",
        _table_edit(CLONOTYPES, "mismatch.csv", _set(0, "cdr3s_aa", "TRA:CAVGRVGTSGSRLTF")),
        r"mismatch.csv: line 2: 1 chain\(s\) in 'cdr3s_aa' but 2 in 'cdr3s_nt'; each chain is "
        r"listed in both, in the same order",
    ),
    (
        "clonotypes-chain-order",
        _table_edit(
            CLONOTYPES,
            "order.csv",
            _set(0, "cdr3s_aa", "TRB:CASSILGSGNTIYF;TRA:CAVGRVGTSGSRLTF"),
        ),
        r"order.csv: line 2: chain 1 is TRB in 'cdr3s_aa' but TRA in 'cdr3s_nt'; list the "
        r"chains in the same order",
    ),
    (
        "clonotypes-empty-chain",
        _table_edit(
            CLONOTYPES,
            "empty_chain.csv",
            _set(0, "cdr3s_aa", "TRA:CAVGRVGTSGSRLTF;;TRB:CASSILGSGNTIYF"),
        ),
        r"empty_chain.csv: column 'cdr3s_aa', line 2: an empty chain in",
    ),
    (
        "clonotypes-missing-nt",
        _table_edit(CLONOTYPES, "no_nt.csv", _drop("cdr3s_nt")),
        r"no_nt.csv: missing required column\(s\) cdr3s_nt for a Cell Ranger clonotypes.csv",
    ),
    (
        "airr-minimal-cdr3-only",
        _table_edit(
            AIRR_BULK,
            "cdr3_only.tsv",
            lambda raw: raw.rename(columns={"junction": "cdr3"}).drop(columns=["junction_aa"]),
        ),
        r"cdr3_only.tsv: neither 'junction' nor 'junction_aa' \(nor fwr3, cdr3, fwr4\) is "
        r"present.*'cdr3' alone lacks the conserved Cys and Phe/Trp codons: give fwr3 and fwr4",
    ),
    (
        "airr-minimal-negative-count",
        _table_edit(AIRR_BULK, "negative.tsv", _set(20, "duplicate_count", "-1")),
        r"negative.tsv: column 'duplicate_count', line 22: count -1 is negative",
    ),
    (
        "airr-minimal-count-beyond-exact",
        _table_edit(AIRR_BULK, "huge.tsv", _set(3, "duplicate_count", "9007199254740993")),
        r"huge.tsv: column 'duplicate_count', line 5: count 9007199254740992 is 2\*\*53 or more",
    ),
    (
        "airr-minimal-fractional-umis",
        _table_edit(
            AIRR_BULK,
            "half_umis.tsv",
            lambda raw: _set(5, "umi_count", "1.5")(_rename("duplicate_count", "umi_count")(raw)),
        ),
        r"half_umis.tsv: column 'umi_count', line 7: count 1.5 is not a whole number",
    ),
    (
        "airr-minimal-bad-boolean",
        _table_edit(
            AIRR_BULK,
            "maybe.tsv",
            lambda raw: _set(2, "productive", "maybe")(raw.assign(productive="T")),
        ),
        r"maybe.tsv: column 'productive', line 4: cannot read value 'maybe'",
    ),
]


@pytest.mark.parametrize(
    ("make", "pattern"), [c[1:] for c in NEW_FORMATS], ids=[c[0] for c in NEW_FORMATS]
)
def test_new_format_bad_input_one_line_exit_1(make, pattern, tmp_path, capsys):
    """VDJtools, clonotypes.csv and minimal AIRR files, damaged: the file, the line or column,
    the fix, in one line; the library raises a FormatError."""
    path = make(tmp_path)
    status = main(["inspect", str(path)])
    out, err = capsys.readouterr()
    assert (status, out) == (1, ""), err
    assert err.startswith("tcrtrack: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert str(path) in err
    assert re.search(pattern, err), err
    with pytest.raises(FormatError, match=pattern):
        tt.io.read(path)


def test_airr_without_locus_or_genes(tmp_path):
    path = _table_edit(
        AIRR_BULK, "no_locus.tsv", lambda raw: raw.drop(columns=["v_call", "j_call"])
    )(tmp_path)
    with pytest.raises(FormatError, match=r"no_locus.tsv: no 'locus' field and no gene call"):
        tt.io.read_airr(path)


def test_airr_unit_for_single_cell_file():
    from tcrtrack.errors import ParameterError

    with pytest.raises(ParameterError, match=r"unit='reads' was given, but the file is single"):
        tt.io.read_airr(FORMATS / "airr_minimal_cells_lb6.tsv.gz", unit="reads")
