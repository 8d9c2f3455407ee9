"""Scaled copies of the repository's paired, VDJtools, clone-table and clonotypes.csv files.

Usage (from the root of a clone)::

    python benchmarks/formats.py --repeat 1200 --out benchmarks/_data/formats

Writes two files per format (a reference and a sample for ``tcrtrack share``), each a real
file of ``tests/data`` repeated ``--repeat`` times (clonotypes.csv: a tenth and a twentieth of
that, since each of its rows stands for one or more cells). Each copy is made distinct: barcodes
and clonotype ids get the copy's number, and every junction gets two codons inserted after its
first one (in the nucleotides and, translated, in the amino acids: 100 variants of each
junction, in frame as before). docs/performance.md ("The last four readers on the engine")
times ``tcrtrack share`` on them; the commands are printed at the end.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CODONS = {
    "GCT": "A",
    "GGC": "G",
    "TCC": "S",
    "ACC": "T",
    "CTG": "L",
    "AAC": "N",
    "GAT": "D",
    "CAG": "Q",
    "GTC": "V",
    "CGA": "R",
}
VARIANTS = list(itertools.product(CODONS, repeat=2))


def vary(nt: str, aa: str, k: int) -> tuple[str, str]:
    """Copy ``k`` of a junction and its amino acids (copy 0 and empty values unchanged)."""
    if k == 0 or len(nt) < 3 or not aa:
        return nt, aa
    c1, c2 = VARIANTS[k % len(VARIANTS)]
    return nt[:3] + c1 + c2 + nt[3:], aa[0] + CODONS[c1] + CODONS[c2] + aa[1:]


def copies(
    table: pd.DataFrame, pairs: list[tuple[str, str]], ident: str | None, n: int
) -> pd.DataFrame:
    """``n`` copies of ``table``, the (nucleotide, amino-acid) column ``pairs`` varied."""
    parts = []
    for k in range(n):
        part = table.copy()
        for nt_col, aa_col in pairs:
            varied = [vary(a, b, k) for a, b in zip(part[nt_col], part[aa_col], strict=True)]
            part[nt_col] = [v[0] for v in varied]
            part[aa_col] = [v[1] for v in varied]
        if ident is not None:
            part[ident] = part[ident] + f"_{k}"
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def vary_chains(nts: str, aas: str, k: int) -> tuple[str, str]:
    """Copy ``k`` of a clonotypes.csv chain list (``TRA:seq;TRB:seq``)."""
    out_nt, out_aa = [], []
    for nt_item, aa_item in zip(nts.split(";"), aas.split(";"), strict=True):
        locus, nt = nt_item.split(":", 1)
        nt, aa = vary(nt, aa_item.split(":", 1)[1], k)
        out_nt.append(f"{locus}:{nt}")
        out_aa.append(f"{locus}:{aa}")
    return ";".join(out_nt), ";".join(out_aa)


def read_text(path: Path, sep: str) -> pd.DataFrame:
    return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1200)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "_data" / "formats")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    n = args.repeat
    written: dict[str, list[Path]] = {}

    chains = [("TCRA_cdr3nt", "TCRA_cdr3aa"), ("TCRB_cdr3nt", "TCRB_cdr3aa")]
    for name in ("UV019_a_Aqueous", "UV027_a_Aqueous"):
        table = read_text(DATA / "paired" / f"{name}.csv", ",")
        path = out / f"paired_{name}.csv"
        copies(table, chains, "barcode", n).to_csv(path, index=False)
        written.setdefault("paired", []).append(path)

    table = read_text(DATA / "formats" / "vdjtools_Pt-1-8.txt", "\t")
    for tag, size in (("a", n), ("b", n // 2)):
        path = out / f"vdjtools_{tag}.txt"
        copies(table, [("cdr3nt", "cdr3aa")], None, size).to_csv(path, sep="\t", index=False)
        written.setdefault("vdjtools", []).append(path)

    for name in ("immunarch_TRB_Unsorted_83", "immunarch_TRB_Unsorted_949"):
        table = read_text(DATA / "clonetables" / f"{name}.tsv.gz", "\t")
        path = out / f"{name}.tsv"
        copies(table, [("CDR3.nt", "CDR3.aa")], None, n).to_csv(path, sep="\t", index=False)
        written.setdefault("clone-table", []).append(path)

    table = read_text(DATA / "formats" / "lb6_clonotypes.csv.gz", ",")
    for tag, size in (("a", n // 10), ("b", n // 20)):
        parts = []
        for k in range(size):
            part = table.copy()
            varied = [
                vary_chains(a, b, k)
                for a, b in zip(part["cdr3s_nt"], part["cdr3s_aa"], strict=True)
            ]
            part["cdr3s_nt"] = [v[0] for v in varied]
            part["cdr3s_aa"] = [v[1] for v in varied]
            part["clonotype_id"] = part["clonotype_id"] + f"_{k}"
            parts.append(part)
        path = out / f"clonotypes_{tag}.csv"
        pd.concat(parts, ignore_index=True).to_csv(path, index=False)
        written.setdefault("10x-clonotypes", []).append(path)

    for fmt, paths in written.items():
        files = " ".join(str(p) for p in paths)
        print(f"# {fmt}\n/usr/bin/time -v tcrtrack share {files} --format tsv > /dev/null")


if __name__ == "__main__":
    main()
