"""Write the generic clone tables of the tests from two real immunoSEQ v2 exports.

Days 83 and 949 of the BMT series (the shared data folder, see README.md here; byte-identical
to ``tests/data/stats/TRB_Unsorted_{83,949}.tsv.gz``) are written in two layouts a user may
bring: an immunarch table (tab-separated, ``Clones``, ``Proportion``, ``CDR3.nt``, ``CDR3.aa``,
``V.name``, ``D.name``, ``J.name``) and a vendor clone export, comma-separated, with QIAGEN
CLC's column names (``Chain``, ``V``, ``D``, ``J``, ``CDR3 nucleotide sequence``, ``CDR3 amino
acid sequence``, ``Count``...). Python standard library only, independent of tcrtrack's
readers. Run it by hand:

    python tests/data/clonetables/make_clone_tables.py /work/shared/data

Rules, per row of the export:

* the junction is cut out of the 87-nt read: ``nucleotide[vIndex : vIndex + 3 × len(aminoAcid)]``
  for rows with an amino-acid CDR3 (in frame or with a stop codon), kept only when it translates
  to ``aminoAcid``; rows whose cut does not translate are left out (no junction is known);
* out-of-frame rows (no ``aminoAcid``): ``nucleotide[vIndex : vIndex + cdr3Length]``, amino
  acids empty (CLC leaves them empty for out-of-frame CDR3s);
* counts: ``count (templates/reads)`` as written (reads on day 83, templates on day 949);
* genes: ``v/d/jMaxResolved`` with Adaptive's spelling made IMGT-like (``TCRBV05-04*01`` ->
  ``TRBV5-4*01``: ``TCR`` prefix to ``TR``, zero padding removed), ``unresolved`` -> empty.

Nothing reads the shared folder at test time: the written files are committed.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
SERIES = "bulk/bmt-longitudinal-immunoseq-v2"
DAYS = ("83", "949")

_BASES = "TCAG"
_CODE = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
_CODONS = {
    a + b + c: _CODE[16 * i + 4 * j + k]
    for i, a in enumerate(_BASES)
    for j, b in enumerate(_BASES)
    for k, c in enumerate(_BASES)
}


def _translate(nt: str) -> str:
    return "".join(_CODONS.get(nt[i : i + 3], "X") for i in range(0, len(nt) - 2, 3))


def _gene(call: str) -> str:
    """``TCRBV05-04*01`` -> ``TRBV5-4*01``; ``unresolved`` -> ''."""
    if not call or call == "unresolved":
        return ""
    call = re.sub(r"^TCR", "TR", call)
    return re.sub(r"(?<=[VDJ-])0+(\d)", r"\1", call)


def _clones(path: Path) -> list[dict[str, str | int]]:
    out: list[dict[str, str | int]] = []
    with path.open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            read, aa = row["nucleotide"].upper(), row["aminoAcid"]
            start = int(row["vIndex"])
            if aa:
                junction = read[start : start + 3 * len(aa)]
                if len(junction) != 3 * len(aa) or _translate(junction) != aa:
                    continue
            else:
                junction = read[start : start + int(row["cdr3Length"])]
            out.append(
                {
                    "junction": junction,
                    "aa": aa,
                    "count": int(row["count (templates/reads)"]),
                    "v": _gene(row["vMaxResolved"]),
                    "d": _gene(row["dMaxResolved"]),
                    "j": _gene(row["jMaxResolved"]),
                }
            )
    return out


def _write(path: Path, header: list[str], rows: list[list[object]], delimiter: str) -> None:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(gzip.compress(text.getvalue().encode(), mtime=0))


def write(shared: Path) -> None:
    for day in DAYS:
        clones = _clones(shared / SERIES / f"TRB_Unsorted_{day}.tsv")
        total = sum(int(c["count"]) for c in clones)
        immunarch = [
            [
                c["count"],
                repr(int(c["count"]) / total),
                c["junction"],
                c["aa"],
                c["v"],
                c["d"],
                c["j"],
            ]
            for c in clones
        ]
        _write(
            HERE / f"immunarch_TRB_Unsorted_{day}.tsv.gz",
            ["Clones", "Proportion", "CDR3.nt", "CDR3.aa", "V.name", "D.name", "J.name"],
            immunarch,
            "\t",
        )
        vendor = [
            [
                i + 1,
                "TRB",
                c["v"],
                c["d"],
                c["j"],
                c["junction"],
                c["aa"],
                len(str(c["junction"])),
                c["count"],
                f"{100 * int(c['count']) / total:.4f}",
            ]
            for i, c in enumerate(clones)
        ]
        _write(
            HERE / f"vendor_TRB_Unsorted_{day}.csv.gz",
            [
                "Clonotype #",
                "Chain",
                "V",
                "D",
                "J",
                "CDR3 nucleotide sequence",
                "CDR3 amino acid sequence",
                "CDR3 length",
                "Count",
                "Frequency (%)",
            ],
            vendor,
            ",",
        )


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"))
