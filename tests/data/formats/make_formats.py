"""Write the test files of the formats no public example was available for offline.

VDJtools / MiTCR clonotype tables, a 10x ``clonotypes.csv`` and minimal AIRR tables are written
from real public data (the project's shared data folder, see README.md here), with the Python
standard library only, so the files do not depend on tcrtrack's readers. Run it by hand:

    python tests/data/formats/make_formats.py /work/shared/data

Nothing reads the shared folder at test time: the written files are committed. The sources are
byte-identical to files already in tests/data (``10x/nsclc_lb6.csv.gz``,
``bulk/TRB-Pt-1-8_S150.clones.txt.gz``), so the tests compare each written file, read by its
reader, with its source read by the source's reader.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).parent
MIXCR = "bulk/format-variants/TRB-Pt-1-8_S150.clones.txt"
TENX = "10x/nsclc-p6-blood-normal-tumor/lb6.csv.gz"


def _rows(path: Path, delimiter: str) -> list[dict[str, str]]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return list(csv.DictReader(io.StringIO(raw.decode()), delimiter=delimiter))


def _write(path: Path, header: list[str], rows: list[list[object]], delimiter: str) -> None:
    """Write a table; gzip-compressed (reproducibly: no time stamp) when ``path`` ends .gz."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = text.getvalue().encode()
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


def _genes(hits: str) -> str:
    """MiXCR ``allVHits`` (``TRBV5-5*00(1234),TRBV5-6*00(1100)``) -> ``TRBV5-5,TRBV5-6``:
    every hit, in MiXCR's order, without score and ``*00``, as VDJtools writes a segment
    with several tied hits; '' -> '.'"""
    genes = (hit.split("(")[0].strip().removesuffix("*00") for hit in hits.split(","))
    return ",".join(g for g in genes if g) or "."


def vdjtools(shared: Path) -> None:
    """The MiXCR clones of one TCRβ repertoire as VDJtools and MiTCR tables, and as a minimal
    bulk AIRR table (junction, junction_aa, v_call, j_call, duplicate_count; no locus)."""
    clones = _rows(shared / MIXCR, "\t")
    total = sum(int(c["cloneCount"]) for c in clones)
    vdj = []
    for c in sorted(clones, key=lambda c: -int(c["cloneCount"])):
        count = int(c["cloneCount"])
        vdj.append(
            [
                count,
                repr(count / total),
                c["nSeqCDR3"],
                c["aaSeqCDR3"],
                _genes(c["allVHits"]),
                _genes(c["allDHits"]),
                _genes(c["allJHits"]),
                -1,
                -1,
                -1,
                -1,
                c["cloneId"],
            ]
        )
    header = ["#count", "freq", "cdr3nt", "cdr3aa", "v", "d", "j"]
    _write(
        HERE / "vdjtools_Pt-1-8.txt",
        [*header, "VEnd", "DStart", "DEnd", "JStart", "cloneId"],
        vdj,
        "\t",
    )
    # MiTCR: no '#', no segment positions, the first 200 clones
    _write(
        HERE / "mitcr_Pt-1-8_top200.txt", ["count", *header[1:]], [r[:7] for r in vdj[:200]], "\t"
    )
    airr = [
        [
            c["nSeqCDR3"],
            c["aaSeqCDR3"],
            _genes(c["allVHits"]),
            _genes(c["allJHits"]),
            c["cloneCount"],
        ]
        for c in clones
    ]
    _write(
        HERE / "airr_minimal_bulk_Pt-1-8.tsv",
        ["junction", "junction_aa", "v_call", "j_call", "duplicate_count"],
        airr,
        "\t",
    )


def clonotypes_csv(shared: Path) -> None:
    """A Cell Ranger ``clonotypes.csv`` of one sample and the sample as a minimal single-cell
    AIRR table (one row per contig).

    ``clonotypes.csv``: one row per ``raw_clonotype_id``; ``frequency`` = cells (barcodes with
    ``is_cell`` true) of the clonotype; ``cdr3s_aa`` / ``cdr3s_nt`` = the productive,
    high-confidence TRA/TRB chains most of its cells carry (``TRA:...;TRB:...``, sorted by
    chain, then amino acids), as Cell Ranger lists them; ``proportion`` = frequency / cells.
    """
    contigs = _rows(shared / TENX, ",")
    chains: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    clonotype_of: dict[str, str] = {}
    for c in contigs:
        if c["is_cell"] != "True" or c["raw_clonotype_id"] in ("", "None"):
            continue
        clonotype_of[c["barcode"]] = c["raw_clonotype_id"]
        good = c["high_confidence"] == "True" and c["productive"] == "True"
        if good and c["chain"] in ("TRA", "TRB") and c["cdr3_nt"] not in ("", "None"):
            chains[c["barcode"]].append((c["chain"], c["cdr3"], c["cdr3_nt"]))
    sets: dict[str, Counter[tuple[tuple[str, str, str], ...]]] = defaultdict(Counter)
    for barcode, clonotype in clonotype_of.items():
        sets[clonotype][tuple(sorted(chains[barcode]))] += 1
    n_cells = len(clonotype_of)
    rows = []
    for clonotype, counter in sets.items():
        frequency = sum(counter.values())
        chain_set = counter.most_common(1)[0][0]
        if not chain_set:
            continue  # a clonotype without a productive TRA/TRB chain is not listed
        rows.append(
            [
                clonotype,
                frequency,
                repr(frequency / n_cells),
                ";".join(f"{locus}:{aa}" for locus, aa, _ in chain_set),
                ";".join(f"{locus}:{nt}" for locus, _, nt in chain_set),
            ]
        )
    rows.sort(key=lambda r: (-int(r[1]), int(str(r[0]).removeprefix("clonotype"))))
    header = ["clonotype_id", "frequency", "proportion", "cdr3s_aa", "cdr3s_nt"]
    _write(HERE / "lb6_clonotypes.csv.gz", header, rows, ",")
    airr = [
        [
            c["barcode"],
            c["contig_id"],
            c["chain"],
            c["cdr3_nt"],
            c["cdr3"],
            c["v_gene"],
            c["j_gene"],
            c["productive"],
            c["umis"],
            c["reads"],
        ]
        for c in contigs
        if c["is_cell"] == "True" and c["high_confidence"] == "True"
    ]
    airr = [[("" if v == "None" else v) for v in row] for row in airr]
    _write(
        HERE / "airr_minimal_cells_lb6.tsv.gz",
        [
            "cell_id",
            "sequence_id",
            "locus",
            "junction",
            "junction_aa",
            "v_call",
            "j_call",
            "productive",
            "umi_count",
            "consensus_count",
        ],
        airr,
        "\t",
    )


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data")
    vdjtools(folder)
    clonotypes_csv(folder)
