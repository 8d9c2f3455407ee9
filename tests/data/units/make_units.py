"""Write the MiXCR clone exports of tests/data/units from real Cell Ranger contig tables.

Python standard library only, independent of tcrtrack's readers:

    python tests/data/units/make_units.py /work/shared/data

Sources: ``10x/nsclc-p6-blood-normal-tumor/{lt6,ln6}.csv.gz`` of the shared data folder,
byte-identical to ``tests/data/sharing/{lt6,ln6}.csv.gz`` (immunomind/immundata
``inst/extdata/single_cell``, Apache-2.0). Every TRB contig that is a cell's, high-confidence,
productive and has a ``cdr3_nt`` counts; contigs are grouped by ``cdr3_nt`` (the junction),
their UMIs and reads summed, the V and J of a clone are its most frequent calls (ties: the
smallest name). Clones are sorted by count, largest first, then by junction.

- ``lt6_mixcr_umis.tsv.gz``: MiXCR 4 layout (``readCount`` and ``uniqueMoleculeCount``: a UMI
  export, unit ``umis``).
- ``ln6_mixcr_reads.tsv.gz``: MiXCR 3 layout (``cloneCount`` = reads, no UMI column: unit
  ``reads``).
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = Path("10x") / "nsclc-p6-blood-normal-tumor"


def clones(path: Path) -> list[dict[str, object]]:
    text = gzip.decompress(path.read_bytes()).decode()
    groups: dict[str, dict[str, object]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        if not (
            row["is_cell"].lower() == "true"
            and row["high_confidence"].lower() == "true"
            and row["productive"].lower() == "true"
            and row["chain"] == "TRB"
            and row["cdr3_nt"] not in ("", "None")
        ):
            continue
        g = groups.setdefault(
            row["cdr3_nt"],
            {"aa": row["cdr3"], "umis": 0, "reads": 0, "v": Counter(), "j": Counter()},
        )
        g["umis"] = int(g["umis"]) + int(row["umis"])  # type: ignore[call-overload]
        g["reads"] = int(g["reads"]) + int(row["reads"])  # type: ignore[call-overload]
        g["v"][row["v_gene"]] += 1  # type: ignore[index]
        g["j"][row["j_gene"]] += 1  # type: ignore[index]
    out = []
    for nt, g in groups.items():
        v = min(g["v"].items(), key=lambda kv: (-kv[1], kv[0]))[0]  # type: ignore[attr-defined]
        j = min(g["j"].items(), key=lambda kv: (-kv[1], kv[0]))[0]  # type: ignore[attr-defined]
        out.append(
            {"nt": nt, "aa": g["aa"], "umis": g["umis"], "reads": g["reads"], "v": v, "j": j}
        )
    return out


def write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    """A gzipped TSV (no time stamp in the gzip header: the same bytes on every run)."""
    text = io.StringIO()
    w = csv.writer(text, delimiter="\t", lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(gzip.compress(text.getvalue().encode(), mtime=0))


def main(shared: Path) -> None:
    lt6 = sorted(clones(shared / SOURCE / "lt6.csv.gz"), key=lambda c: (-int(c["umis"]), c["nt"]))
    total = sum(int(c["umis"]) for c in lt6)
    write(
        HERE / "lt6_mixcr_umis.tsv.gz",
        [
            "cloneId",
            "readCount",
            "uniqueMoleculeCount",
            "uniqueMoleculeFraction",
            "nSeqCDR3",
            "aaSeqCDR3",
            "allVHitsWithScore",
            "allJHitsWithScore",
        ],
        [
            [
                i,
                c["reads"],
                c["umis"],
                f"{int(c['umis']) / total:.6g}",
                c["nt"],
                c["aa"],
                f"{c['v']}*00(1000)",
                f"{c['j']}*00(200)",
            ]
            for i, c in enumerate(lt6)
        ],
    )
    ln6 = sorted(clones(shared / SOURCE / "ln6.csv.gz"), key=lambda c: (-int(c["reads"]), c["nt"]))
    total = sum(int(c["reads"]) for c in ln6)
    write(
        HERE / "ln6_mixcr_reads.tsv.gz",
        [
            "cloneId",
            "cloneCount",
            "cloneFraction",
            "nSeqCDR3",
            "aaSeqCDR3",
            "allVHitsWithScore",
            "allJHitsWithScore",
        ],
        [
            [
                i,
                c["reads"],
                f"{int(c['reads']) / total:.6g}",
                c["nt"],
                c["aa"],
                f"{c['v']}*00(1000)",
                f"{c['j']}*00(200)",
            ]
            for i, c in enumerate(ln6)
        ],
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
