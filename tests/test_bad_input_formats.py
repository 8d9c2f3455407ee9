"""Bad input beyond Cell Ranger: damage a reader must repair without changing the answer.

Every format other than 10x contig tables (immunoSEQ, MiXCR, VDJtools, MiTCR, Cell Ranger
``clonotypes.csv``, minimal AIRR) is damaged the ways files get damaged in the wild — a Windows
or spreadsheet round trip, compression, a missing or extra line end, white space around a
junction, counts written as floats — and must give the clonotypes and counts of a naive count
of the clean file (tests/naive.py), a silently different answer being the failure that matters
most. The damage a reader must refuse is in tests/test_bad_input.py and tests/test_units.py.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

import tcrtrack as tt
from naive import (
    naive_clone_table,
    naive_clonotypes_csv,
    naive_immunoseq,
    naive_mixcr,
    naive_vdjtools,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
FORMATS = DATA / "formats"
TABLES = DATA / "clonetables"
IMMUNARCH = TABLES / "immunarch_TRB_Unsorted_83.tsv.gz"
VENDOR = TABLES / "vendor_TRB_Unsorted_949.csv.gz"


def _naive_airr_bulk(path: Path) -> dict[str, int]:
    """Summed ``duplicate_count`` per productive junction of a minimal bulk AIRR table."""
    out: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(_text(path)), delimiter="\t"):
        nt, aa = row["junction"].upper(), row["junction_aa"].upper()
        if re.search(r"[*_]", aa) or len(nt) != 3 * len(aa):
            continue
        out[nt] = out.get(nt, 0) + int(row["duplicate_count"])
    return out


def _naive_clonotypes(path: Path) -> dict[str, int]:
    return naive_clonotypes_csv(path)["counts"]


#: name -> (clean file, delimiter, junction column, count column, naive count of the clean file)
SOURCES: dict[str, tuple[Path, str, str, str, Callable[[Path], dict[str, int]]]] = {
    "immunoseq-v2": (
        ROOT / "examples" / "data" / "bmt" / "TRB_Unsorted_83.tsv.gz",
        "\t",
        "aminoAcid",
        "count (templates/reads)",
        naive_immunoseq,
    ),
    "mixcr": (
        DATA / "bulk" / "TRB-Pt-1-8_S150.clones.txt.gz",
        "\t",
        "nSeqCDR3",
        "cloneCount",
        naive_mixcr,
    ),
    "mixcr-umis": (
        DATA / "units" / "lt6_mixcr_umis.tsv.gz",
        "\t",
        "nSeqCDR3",
        "uniqueMoleculeCount",
        naive_mixcr,
    ),
    "vdjtools": (FORMATS / "vdjtools_Pt-1-8.txt", "\t", "cdr3nt", "#count", naive_vdjtools),
    "mitcr": (FORMATS / "mitcr_Pt-1-8_top200.txt", "\t", "cdr3nt", "count", naive_vdjtools),
    "clonotypes-csv": (
        FORMATS / "lb6_clonotypes.csv.gz",
        ",",
        "cdr3s_nt",
        "frequency",
        _naive_clonotypes,
    ),
    "airr-minimal": (
        FORMATS / "airr_minimal_bulk_Pt-1-8.tsv",
        "\t",
        "junction",
        "duplicate_count",
        _naive_airr_bulk,
    ),
    "clone-table-immunarch": (
        IMMUNARCH,
        "\t",
        "CDR3.nt",
        "Clones",
        partial(naive_clone_table, sep="\t", junction="CDR3.nt", aa="CDR3.aa", count="Clones"),
    ),
    "clone-table-vendor": (
        VENDOR,
        ",",
        "CDR3 nucleotide sequence",
        "Count",
        partial(
            naive_clone_table,
            sep=",",
            junction="CDR3 nucleotide sequence",
            aa="CDR3 amino acid sequence",
            count="Count",
        ),
    ),
}


def _junction_counts(contigs: object) -> dict[str, int]:
    """Junction -> count of the one sample of ``contigs`` (the default clonotype definition)."""
    counts = tt.tl.clonotypes(contigs)
    junctions = counts.clonotypes["junction"].astype(str)
    return dict(zip(junctions, counts.matrix.toarray()[0].tolist(), strict=True))


def _text(path: Path) -> str:
    raw = path.read_bytes()
    return (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")


def _rows(text: str, delimiter: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    return rows[0], rows[1:]


def _join(header: list[str], rows: list[list[str]], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


def _edit_column(
    column: str, change: Callable[[str], str], every: int = 3
) -> Callable[[str, str, str, str], str]:
    """Change ``column`` (the junction or the count column) on every ``every``-th row."""

    def edit(text: str, delimiter: str, junction: str, count: str) -> str:
        header, rows = _rows(text, delimiter)
        at = header.index(junction if column == "junction" else count)
        for row in rows[::every]:
            row[at] = change(row[at])
        return _join(header, rows, delimiter)

    return edit


def _reorder(text: str, delimiter: str, junction: str, count: str) -> str:
    """The columns in reverse order (a spreadsheet export may reorder them)."""
    header, rows = _rows(text, delimiter)
    return _join(header[::-1], [r[::-1] for r in rows], delimiter)


def _extra_column(text: str, delimiter: str, junction: str, count: str) -> str:
    """An extra column at the end, as a lab's notes add one."""
    header, rows = _rows(text, delimiter)
    return _join([*header, "note"], [[*r, "ok"] for r in rows], delimiter)


#: name -> (rewrite of the text, write gzipped)
DAMAGE: dict[str, tuple[Callable[[str, str, str, str], str], bool]] = {
    "crlf": (lambda t, *_: t.replace("\n", "\r\n"), False),
    "utf8-bom": (lambda t, *_: "\ufeff" + t, False),
    "gzip": (lambda t, *_: t, True),
    "no-final-newline": (lambda t, *_: t.rstrip("\n"), False),
    "trailing-blank-lines": (lambda t, *_: t + "\n\n", False),
    "space-after-junction": (_edit_column("junction", lambda v: v + " "), False),
    "float-counts": (_edit_column("count", lambda v: f"{int(float(v))}.0"), False),
    "columns-reordered": (_reorder, False),
    "extra-column": (_extra_column, False),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("fmt", list(SOURCES))
def test_accepted_damage_keeps_the_naive_answer(fmt, damage, tmp_path):
    clean, delimiter, junction, count, naive = SOURCES[fmt]
    rewrite, compress = DAMAGE[damage]
    text = rewrite(_text(clean), delimiter, junction, count)
    name = clean.name.removesuffix(".gz")
    path = tmp_path / (name + ".gz" if compress else name)
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if compress else data)
    contigs = tt.io.read(path, sample="s")
    got = _junction_counts(contigs)
    assert got == naive(clean)
    if damage == "space-after-junction":
        # the repair is counted: every third row (for clonotypes.csv, the contigs of the last
        # chain of every third clonotype: one per cell)
        header, rows = _rows(_text(clean), delimiter)
        if fmt == "clonotypes-csv":
            want = sum(int(r[header.index("frequency")]) for r in rows[::3])
        else:
            want = len(rows[::3])
        assert tt.qc(contigs).count("s", reason="whitespace_stripped") == want


def _table(source: Path, edit: Callable[[list[str], list[list[str]]], None]) -> Callable[[], str]:
    """The text of ``source`` with ``edit(header, rows)`` applied in place."""

    def make() -> str:
        delimiter = "," if ".csv" in source.name else "\t"
        header, rows = _rows(_text(source), delimiter)
        edit(header, rows)
        return _join(header, rows, delimiter)

    return make


def _add_column(name: str, value: str) -> Callable[[list[str], list[list[str]]], None]:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        header.append(name)
        for row in rows:
            row.append(value)

    return edit


def _rename_column(old: str, new: str) -> Callable[[list[str], list[list[str]]], None]:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        header[header.index(old)] = new

    return edit


def _set_value(row: int, column: str, value: str) -> Callable[[list[str], list[list[str]]], None]:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        rows[row][header.index(column)] = value

    return edit


def _imgt_cdr3(header: list[str], rows: list[list[str]]) -> None:
    """The CDR3 without the conserved codons (IMGT's CDR3, not the junction)."""
    nt, aa = header.index("CDR3.nt"), header.index("CDR3.aa")
    for row in rows:
        row[nt], row[aa] = row[nt][3:-3], row[aa][1:-1]


#: name -> (file name, text of the damaged file, the error's message)
REFUSED: dict[str, tuple[str, Callable[[], str], str]] = {
    "clone-table-two-count-columns": (
        "two_counts.tsv",
        _table(IMMUNARCH, _add_column("count", "1")),
        r"two_counts.tsv: columns 'Clones', 'count' are all read as the count of a clone table "
        r"and tcrtrack cannot tell which to use; remove or rename all but one of them",
    ),
    "clone-table-two-junction-columns": (
        "two_junctions.csv",
        _table(VENDOR, _add_column("cdr3nt", "TGTGCCAGCAGTTTC")),
        r"two_junctions.csv: columns 'CDR3 nucleotide sequence', 'cdr3nt' are all read as the "
        r"junction of a clone table",
    ),
    "clone-table-no-count": (
        "no_count.tsv",
        _table(IMMUNARCH, _rename_column("Clones", "n")),
        r"no_count.tsv: a clone table needs a column of each of these roles, under one of "
        r"these names \(any case\): count: Clones, Read.count, .*columns seen: n, Proportion, "
        r"CDR3.nt.*rename the column",
    ),
    "clone-table-negative-count": (
        "negative.csv",
        _table(VENDOR, _set_value(4, "Count", "-3")),
        r"negative.csv: column 'Count', line 6: count -3 is negative",
    ),
    "clone-table-fractional-count": (
        "half.tsv",
        _table(IMMUNARCH, _set_value(2, "Clones", "2.5")),
        r"half.tsv: column 'Clones', line 4: count 2.5 is not a whole number",
    ),
    "clone-table-text-count": (
        "text.csv",
        _table(VENDOR, _set_value(2, "Count", "many")),
        r"text.csv: column 'Count', line 4: cannot read value 'many' in a clone table",
    ),
    "clone-table-cdr3-without-conserved-codons": (
        "imgt_cdr3.tsv",
        _table(IMMUNARCH, _imgt_cdr3),
        r"imgt_cdr3.tsv: column 'CDR3.nt': [\d,]+ of [\d,]+ productive CDR3s do not start with "
        r"the conserved Cys \(C\).*export the junction, or add the two codons",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_clone_tables_name_file_column_and_fix(case, tmp_path):
    name, make, message = REFUSED[case]
    path = tmp_path / name
    path.write_text(make())
    with pytest.raises(tt.errors.FormatError, match=message):
        tt.tl.clonotypes(tt.io.read(path, sample="s"))


def test_immunoseq_space_before_the_read_is_stripped_and_counted(tmp_path):
    """A space before the immunoSEQ read would shift the junction's cut from ``vIndex``: it is
    removed before the cut, and counted (every third row)."""
    clean = SOURCES["immunoseq-v2"][0]
    text = _edit_column("junction", lambda v: " " + v)(_text(clean), "\t", "nucleotide", "")
    path = tmp_path / "spaced.tsv"
    path.write_text(text)
    contigs = tt.io.read(path, sample="s")
    got = _junction_counts(contigs)
    assert got == naive_immunoseq(clean)
    n_rows = len(_text(clean).splitlines()) - 1
    assert tt.qc(contigs).count("s", reason="whitespace_stripped") == (n_rows + 2) // 3
    assert tt.qc(contigs).count("s", reason="junction_not_in_read") == 0
