"""The QC ledger: every row a reader or filter reads, drops or changes, counted by reason.

A contig table carries its ledger in ``DataFrame.attrs`` (key :data:`tcrtrack.schema.ATTRS_QC`)
as plain records, so it survives copying and boolean indexing. Readers add one ``read`` entry per
sample, and one ``dropped`` or ``changed`` entry per reason; filters and
:func:`tcrtrack.tl.clonotypes` add theirs. For each sample, the contig (or bulk) rows kept equal
the rows read minus the rows dropped: :meth:`QCLedger.summary` shows that balance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from tcrtrack import schema as s

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["QCEntry", "QCLedger", "Reason"]

# Reasons; the names are what users see in ``tcrtrack inspect``.
READ: Final = "read"
NOT_A_CELL: Final = "not_a_cell"
LOW_CONFIDENCE: Final = "low_confidence"
NON_PRODUCTIVE: Final = "non_productive"
MISSING_JUNCTION: Final = "missing_junction"
MALFORMED_JUNCTION: Final = "malformed_junction"
MULTI_LOCUS_CONTIG: Final = "multi_locus_contig"
OTHER_LOCUS: Final = "other_locus"
EXTRA_CHAIN: Final = "extra_chain"
CELL_WITHOUT_LOCUS_CHAIN: Final = "cell_without_locus_chain"
CELL_WITH_EXTRA_CHAINS: Final = "cell_with_extra_chains"
ZERO_COUNT: Final = "zero_count"
LOCUS_RENAMED: Final = "locus_renamed"
GENE_RENAMED: Final = "gene_renamed"
JUNCTION_CUT_FROM_READ: Final = "junction_cut_from_read"
JUNCTION_NOT_IN_READ: Final = "junction_not_in_read"
COUNT_MISSING: Final = "count_missing"
JUNCTION_DERIVED_FROM_REGIONS: Final = "junction_derived_from_regions"
LOCUS_INFERRED_FROM_GENES: Final = "locus_inferred_from_genes"
SEQUENCE_UPPERCASED: Final = "sequence_uppercased"
COUNT_FROM_NONSTANDARD_COLUMN: Final = "count_from_nonstandard_column"
WHITESPACE_STRIPPED: Final = "whitespace_stripped"
PRODUCTIVE_INFERRED: Final = "productive_inferred"
COUNT_FROM_OTHER_FIELD: Final = "count_from_other_field"
GENE_FROM_TIES: Final = "gene_from_ties"
ALLELE_REMOVED: Final = "allele_removed"
GENE_TIES_SORTED: Final = "gene_ties_sorted"

#: Reasons that point at damaged or mismatched data rather than biology or the analysis's
#: choices (other loci, second chains, non-productive contigs are expected in every file):
#: when one of them drops more than :data:`LARGE_DROP` of a file's rows, a warning says so.
WARNED_REASONS: Final = {
    MISSING_JUNCTION: (
        "the rows have no nucleotide junction: compare amino acids (--sequence aa, "
        "sequence='aa') or export the file with its nucleotide CDR3"
    ),
    MALFORMED_JUNCTION: (
        "check the junction column (characters other than ACGT, lengths not a multiple of 3, "
        "or a translation different from the amino-acid column)"
    ),
    ZERO_COUNT: "check the count column: rows with a count of 0 or none count for nothing",
}
#: The share of a file's rows one warned reason may drop before a warning.
LARGE_DROP: Final = 0.05

Reason = str
Action = Literal["read", "dropped", "changed"]
#: What the ``n`` of a ledger entry counts (never a clone-size unit: see ``CloneCounts.unit``).
Counted = Literal["contigs", "cells", "rows"]

#: Human descriptions of the reasons (docs/qc.md lists each; a test checks both agree).
DESCRIPTIONS: Final = {
    READ: "rows read from the file",
    NOT_A_CELL: "contig of a barcode that Cell Ranger did not call a cell (is_cell false)",
    LOW_CONFIDENCE: "contig not high-confidence (high_confidence false)",
    NON_PRODUCTIVE: "contig not productive (productive false or missing)",
    MISSING_JUNCTION: "no CDR3 nucleotide sequence (junction / cdr3_nt empty)",
    MALFORMED_JUNCTION: (
        "junction with characters other than A, C, G, T, a length not a multiple of 3, "
        "or a translation different from junction_aa"
    ),
    MULTI_LOCUS_CONTIG: "10x chain 'Multi': V, J and C genes from different loci",
    OTHER_LOCUS: "contig of a locus the clonotype definition does not use",
    EXTRA_CHAIN: "second or further chain of a cell under multichain='primary'",
    CELL_WITHOUT_LOCUS_CHAIN: "cell without a usable chain of the clonotype's locus",
    CELL_WITH_EXTRA_CHAINS: (
        "cell with more than one chain of a locus, excluded under multichain='drop'"
    ),
    ZERO_COUNT: "bulk sequence with a clone size of 0 or missing",
    LOCUS_RENAMED: "locus spelled in a non-standard way (e.g. TCRB) renamed to AIRR (TRB)",
    GENE_RENAMED: "gene name converted to IMGT nomenclature",
    JUNCTION_CUT_FROM_READ: "junction cut out of a longer bulk read",
    JUNCTION_NOT_IN_READ: (
        "bulk read whose junction runs past its end or does not translate to the amino-acid "
        "sequence (junction set to NA)"
    ),
    COUNT_MISSING: "bulk export without a count column: each row counts once",
    JUNCTION_DERIVED_FROM_REGIONS: (
        "junction missing, rebuilt as the last codon of fwr3 + cdr3 + the first codon of fwr4 "
        "(checked: Cys first, Phe/Trp last, translation equal to cdr3_aa / junction_aa)"
    ),
    LOCUS_INFERRED_FROM_GENES: "locus column absent, taken from the V, J or C gene name prefix",
    SEQUENCE_UPPERCASED: "junction written in lower case, upper-cased",
    COUNT_FROM_NONSTANDARD_COLUMN: (
        "clone size taken from a non-standard column (e.g. counts) as duplicate_count"
    ),
    WHITESPACE_STRIPPED: (
        "spaces or tabs around a sequence, gene, locus or barcode removed (a spreadsheet "
        "round trip adds them)"
    ),
    PRODUCTIVE_INFERRED: (
        "AIRR file without a productive field: productive when junction_aa has no stop (*) "
        "or frame-shift (_) and the junction is 3 times as long"
    ),
    COUNT_FROM_OTHER_FIELD: (
        "bulk AIRR file without duplicate_count: clone size taken from umi_count (unit umis) "
        "or else consensus_count (unit reads)"
    ),
    GENE_FROM_TIES: (
        "immunoSEQ gene call that names no gene (unresolved, or a family only) replaced by "
        "the tied genes the export lists (vGeneNameTies / v_gene_ties)"
    ),
    ALLELE_REMOVED: (
        "gene call compared at gene level (--genes v|vj without --alleles): allele removed "
        "(TRBV14*01 -> TRBV14)"
    ),
    GENE_TIES_SORTED: (
        "gene call of several tied genes written as their sorted set, repeats merged "
        "(TRBV12-4,TRBV12-3 -> TRBV12-3,TRBV12-4)"
    ),
}


@dataclass(frozen=True, slots=True)
class QCEntry:
    """One line of the ledger: ``n`` rows of ``sample`` were read, dropped or changed."""

    sample: str
    stage: str
    action: Action
    reason: Reason
    n: int
    counted: Counted = "contigs"
    source: str = ""


_COLUMNS: Final = ("sample", "source", "stage", "action", "reason", "counted", "n")


@dataclass(frozen=True, slots=True)
class QCLedger:
    """The QC ledger of a table: an ordered, immutable list of :class:`QCEntry`.

    Examples
    --------
    >>> ledger = QCLedger((QCEntry("s1", "read", "read", "read", 10),
    ...                    QCEntry("s1", "filter", "dropped", "non_productive", 3)))
    >>> ledger.summary().loc["s1", ["read", "dropped", "kept"]].tolist()
    [10, 3, 7]
    """

    entries: tuple[QCEntry, ...] = ()

    def __add__(self, other: QCLedger) -> QCLedger:
        return QCLedger(self.entries + other.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def select(self, samples: Iterable[str]) -> QCLedger:
        """The entries of ``samples`` only."""
        keep = set(samples)
        return QCLedger(tuple(e for e in self.entries if e.sample in keep))

    def extend(self, entries: Iterable[QCEntry]) -> QCLedger:
        """Return a new ledger with ``entries`` appended (entries with ``n == 0`` are kept)."""
        return QCLedger(self.entries + tuple(entries))

    def to_frame(self) -> pd.DataFrame:
        """One row per entry: sample, source, stage, action, reason, counted, n."""
        import pandas as pd

        return pd.DataFrame(
            [[getattr(e, c) for c in _COLUMNS] for e in self.entries], columns=list(_COLUMNS)
        ).astype({"n": "int64"})

    def samples(self) -> list[str]:
        """Sample names in order of first appearance."""
        return list(dict.fromkeys(e.sample for e in self.entries))

    def count(
        self,
        sample: str,
        *,
        action: Action | None = None,
        reason: Reason | None = None,
        counted: Counted | None = None,
    ) -> int:
        """Sum of ``n`` over the entries of ``sample`` matching the given fields."""
        return sum(
            e.n
            for e in self.entries
            if e.sample == sample
            and (action is None or e.action == action)
            and (reason is None or e.reason == reason)
            and (counted is None or e.counted == counted)
        )

    def summary(self) -> pd.DataFrame:
        """Per sample: contig rows read, dropped (total and per reason), kept.

        ``kept = read - dropped`` counts contig rows (or bulk rows), and ``dropped_<reason>``
        columns add up to ``dropped``. Cell-level entries (cells without a chain of the locus,
        ambiguous cells) are in ``cells_<reason>`` columns, counted in cells.
        """
        import pandas as pd

        rows = []
        for sample in self.samples():
            read = self.count(sample, action="read")
            by_reason: dict[str, int] = {}
            for e in self.entries:
                if e.sample == sample and e.action == "dropped":
                    prefix = "cells" if e.counted == "cells" else "dropped"
                    by_reason[f"{prefix}_{e.reason}"] = (
                        by_reason.get(f"{prefix}_{e.reason}", 0) + e.n
                    )
            row_dropped = self.count(sample, action="dropped", counted="contigs") + self.count(
                sample, action="dropped", counted="rows"
            )
            row = {"sample": sample, "read": read, "dropped": row_dropped} | by_reason
            row["kept"] = read - row_dropped
            rows.append(row)
        frame = pd.DataFrame(rows).set_index("sample") if rows else pd.DataFrame()
        return frame.fillna(0).astype("int64")

    def _repr_html_(self) -> str:
        return "<p><b>QC ledger</b></p>" + self.summary().to_html()

    def __repr__(self) -> str:
        return f"QCLedger({len(self.entries)} entries, samples={self.samples()!r})"


def warn(message: str) -> None:
    """Issue a :class:`~tcrtrack.errors.TcrtrackWarning` (the one warnings helper)."""
    import warnings

    from tcrtrack.errors import TcrtrackWarning

    warnings.warn(message, TcrtrackWarning, stacklevel=3)


def large_drops(ledger: QCLedger) -> list[str]:
    """One message per sample and reason of :data:`WARNED_REASONS` that dropped more than
    :data:`LARGE_DROP` of the sample's rows read, naming the file, the reason and the count."""
    messages = []
    for sample in ledger.samples():
        read = ledger.count(sample, action="read")
        source = next((e.source for e in ledger.entries if e.sample == sample and e.source), "")
        where = f"{source} (sample {sample!r})" if source else f"sample {sample!r}"
        for reason, hint in WARNED_REASONS.items():
            n = sum(
                e.n
                for e in ledger.entries
                if e.sample == sample
                and e.action == "dropped"
                and e.reason == reason
                and e.counted != "cells"
            )
            if read and n > LARGE_DROP * read:
                messages.append(
                    f"{where}: {n:,} of {read:,} rows ({100 * n / read:.1f}%) dropped as "
                    f"{reason} ({DESCRIPTIONS[reason]}); {hint}"
                )
    return messages


def ledger_of(frame: pd.DataFrame) -> QCLedger:
    """The ledger stored in ``frame.attrs`` (empty if none)."""
    records = frame.attrs.get(s.ATTRS_QC, ())
    return QCLedger(tuple(QCEntry(**r) for r in records))


def with_ledger(frame: pd.DataFrame, ledger: QCLedger) -> pd.DataFrame:
    """Store ``ledger`` in ``frame.attrs`` (in place; callers own ``frame``); return ``frame``."""
    frame.attrs[s.ATTRS_QC] = [
        {c: getattr(e, c) for c in QCEntry.__slots__} for e in ledger.entries
    ]
    return frame


def drop_rows(
    frame: pd.DataFrame,
    masks: Sequence[tuple[Reason, pd.Series]],
    *,
    stage: str,
    counted: Counted = "contigs",
) -> pd.DataFrame:
    """Drop rows by reason, each row counted under the first reason whose mask holds.

    ``masks`` are boolean Series aligned with ``frame`` (True = drop). Returns a new frame
    whose ledger has one ``dropped`` entry per sample and reason (zeros included, so every
    reason checked is visible).
    """
    import numpy as np

    entries, remaining = count_drops(frame[s.SAMPLE], masks, stage=stage, counted=counted)
    if remaining.all():
        out = frame.reset_index(drop=True)  # a new frame sharing the (immutable) columns
    else:
        out = frame.take(np.flatnonzero(remaining)).reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    return with_ledger(out, ledger_of(frame).extend(entries))


def count_drops(
    samples: pd.Series,
    masks: Sequence[tuple[Reason, object]],
    *,
    stage: str,
    counted: Counted = "contigs",
) -> tuple[list[QCEntry], np.ndarray]:
    """The ledger entries of :func:`drop_rows` and the boolean mask of the rows it keeps.

    Lets a caller count drops without building the filtered frame.
    """
    import numpy as np

    remaining = np.ones(len(samples), dtype=bool)
    codes, names = _sample_codes(samples)
    entries: list[QCEntry] = []
    for reason, mask in masks:
        hit = np.asarray(mask, dtype=bool) & remaining
        per_sample = np.bincount(codes[hit], minlength=len(names))
        entries.extend(
            QCEntry(str(name), stage, "dropped", reason, int(n), counted)
            for name, n in zip(names, per_sample, strict=True)
        )
        remaining &= ~hit
    return entries, remaining


def _sample_codes(samples: pd.Series) -> tuple[np.ndarray, list[str]]:
    import numpy as np
    import pandas as pd

    if isinstance(samples.dtype, pd.CategoricalDtype):
        return np.asarray(samples.cat.codes), [str(c) for c in samples.cat.categories]
    codes, uniques = pd.factorize(samples)
    return codes, [str(u) for u in uniques]
