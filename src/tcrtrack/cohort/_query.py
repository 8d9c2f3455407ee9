"""Queries of a clonotype store, one task per hash partition: ``tt.cohort.query`` and
``tt.cohort.overlap``.

A clonotype and every clonotype equal to it (same junction, nucleotides or amino acids, and the
same genes when asked) share one partition, because the partition is a hash of the amino-acid
junction, which the nucleotides determine. So exact matches never cross partitions: each task
reads one partition's files and returns a small result, and the driver adds them up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import schema as s
from tcrtrack._genes import key_table
from tcrtrack.cohort._store import Store, open_store
from tcrtrack.errors import FormatError, NotFoundError, ParameterError

Sequence_ = Literal["nt", "aa"]
Genes = Literal["none", "v", "vj"]
_SEQUENCES: Final = ("nt", "aa")
_GENES: Final = ("none", "v", "vj")


def _check(sequence: str, genes: str, mismatches: int = 0) -> None:
    if sequence not in _SEQUENCES:
        msg = f"sequence must be nt or aa, got {sequence!r}"
        raise ParameterError(msg)
    if genes not in _GENES:
        msg = f"genes must be none, v or vj, got {genes!r}"
        raise ParameterError(msg)
    if mismatches not in (0, 1):
        msg = f"mismatches must be 0 (exact) or 1, got {mismatches!r}"
        raise ParameterError(msg)


def key_columns(sequence: str, genes: str) -> list[str]:
    """The store columns that define a clonotype for ``sequence`` and ``genes``."""
    seq = s.JUNCTION if sequence == "nt" else s.JUNCTION_AA
    return [seq, *{"none": [], "v": [s.V_CALL], "vj": [s.V_CALL, s.J_CALL]}[genes]]


def label(table: pa.Table, sequence: str, genes: str) -> pa.ChunkedArray | pa.Array:
    """The clonotype of each row as one string: the sequence, ``V|seq`` or ``V|seq|J``
    (a missing gene written ``NA``), as :func:`tcrtrack.tl.clonotypes` labels them."""
    cols = key_columns(sequence, genes)
    seq = table.column(cols[0]).cast(pa.large_string())
    if genes == "none":
        return seq
    gene = [pc.fill_null(table.column(c), "NA").cast(pa.large_string()) for c in cols[1:]]
    parts = [gene[0], seq] if genes == "v" else [gene[0], seq, gene[1]]
    return pc.binary_join_element_wise(*parts, pa.scalar("|", pa.large_string()))


def _open(store: Store | str | os.PathLike[str]) -> Store:
    return store if isinstance(store, Store) else open_store(store)


def _read(
    files: Sequence[str], columns: Sequence[str], samples: Sequence[str] | None = None
) -> pa.Table:
    from tcrtrack.cohort._store import read_files

    return read_files(files, columns, samples)


# ---------------------------------------------------------------- overlap
@dataclass(frozen=True, eq=False)
class CohortOverlap:
    """Repertoire × repertoire overlap of a store.

    Attributes
    ----------
    shared
        Samples × samples: clonotypes found in both (the diagonal: the sample's clonotypes).
        With ``mismatches=1``: pairs of clonotypes (one of each sample) whose junctions
        have equal length and differ at most at one position (CompAIRR's 1-mismatch
        overlap, counts ignored); a clonotype near two of the other sample's counts twice.
    jaccard
        Samples × samples: ``shared / (n_i + n_j - shared)``; ``None`` with
        ``mismatches=1`` (pairs are not a set intersection).
    n_clonotypes
        Distinct clonotypes per sample under this definition.
    definition
        The clonotype definition, e.g. ``junction_aa + V, exact``.
    mismatches
        0 (exact) or 1.
    """

    shared: pd.DataFrame
    jaccard: pd.DataFrame | None
    n_clonotypes: pd.Series
    definition: str
    mismatches: int = 0

    def __repr__(self) -> str:
        n = len(self.n_clonotypes)
        return f"CohortOverlap({n} × {n} repertoires; clonotype = {self.definition})"

    def _repr_html_(self) -> str:
        shown = self.shared if self.jaccard is None else self.jaccard.round(4)
        return f"<p><b>{self!r}</b></p>" + shown.to_html()


def _definition(sequence: str, genes: str, mismatches: int = 0) -> str:
    seq = {"nt": "junction", "aa": "junction_aa"}[sequence]
    extra = {"none": "", "v": " + V", "vj": " + V + J"}[genes]
    match = "exact" if mismatches == 0 else f"up to {mismatches} mismatch (equal length)"
    return f"{seq}{extra}, {match}"


def overlap_partition(job: dict[str, Any]) -> np.ndarray:
    """Samples × samples shared-clonotype counts of one partition (a task)."""
    from scipy import sparse

    n = len(job["samples"])
    cols = key_columns(job["sequence"], job["genes"])
    table = _read(job["files"], [s.SAMPLE, *cols], job.get("keep"))
    if table.num_rows == 0:
        return np.zeros((n, n), dtype=np.int64)
    index = {name: i for i, name in enumerate(job["samples"])}
    sample_names = table.column(s.SAMPLE).dictionary_encode().combine_chunks()
    lut = np.array([index[x] for x in sample_names.dictionary.to_pylist()], dtype=np.int64)
    sample = lut[sample_names.indices.to_numpy()]
    code, _ = pd.factorize(np.asarray(label(table, job["sequence"], job["genes"])), sort=False)
    x = sparse.coo_array(
        (np.ones(len(code), dtype=np.int64), (sample, code)), shape=(n, int(code.max()) + 1)
    ).tocsr()
    x.data[:] = 1  # presence: a clonotype counted once per sample
    return np.asarray((x @ x.T).toarray(), dtype=np.int64)


def overlap(
    store: Store | str | os.PathLike[str],
    *,
    sequence: Sequence_ = "aa",
    genes: Genes = "none",
    samples: Sequence[str] | None = None,
    mismatches: int = 0,
    scheduler: str | None = None,
    workers: int | None = None,
) -> CohortOverlap:
    """Overlap of every pair of repertoires of a store: shared clonotypes and Jaccard.

    One task per hash partition counts, for each pair of samples, the clonotypes of that
    partition found in both (a sparse product of the presence matrix with itself); the
    partitions' counts add up, because a clonotype lives in one partition.
    ``jaccard = shared / (n_i + n_j - shared)``, with ``n_i`` the distinct clonotypes of
    sample ``i``.

    Parameters
    ----------
    store
        A :class:`Store` or its folder.
    sequence
        Compare ``aa`` (amino-acid junctions, default; the usual definition across donors)
        or ``nt`` junctions.
    genes
        Also require the same V gene (``v``) or V and J genes (``vj``).
    samples
        Restrict to these samples (default: all, in the store's order).
    mismatches
        0 (exact, default) or 1: count the pairs of clonotypes whose junctions have equal
        length and differ at most at one position (Hamming distance ≤ 1), with the same
        genes when ``genes`` asks. Found by deletion-neighbourhood hashing after a shuffle
        of the clonotypes to neighbourhood partitions (:mod:`tcrtrack.cohort._near`):
        scratch files in the store's ``.scratch/``, removed at the end.
    scheduler, workers
        As for :func:`build`.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> sheet, data = os.path.join(folder, "sheet.tsv"), tt.datasets.path("pbmc3_t_filtered")
    >>> with open(sheet, "w") as fh:  # one file under two names, for two patients
    ...     _ = fh.write(f"patient\\tsample\\ttimepoint\\tpath\\nP1\\ta\\t0\\t{data}\\n"
    ...                  f"P2\\tb\\t0\\t{data}\\n")
    >>> store = tt.cohort.build(sheet, os.path.join(folder, "s"), partitions=4, workers=1).store
    >>> ov = tt.cohort.overlap(store, workers=1)
    >>> int(ov.shared.loc["a", "b"]) == int(ov.n_clonotypes["a"]), float(ov.jaccard.loc["a", "b"])
    (True, 1.0)
    >>> bool((ov.jaccard == ov.jaccard.T).all().all())
    True
    >>> near = tt.cohort.overlap(store, mismatches=1, workers=1)
    >>> bool((near.shared >= ov.shared).all().all()), near.jaccard is None
    (True, True)
    """
    from tcrtrack.cohort._engine import Engine
    from tcrtrack.cohort._near import near_overlap

    _check(sequence, genes, mismatches)
    st = _open(store)
    names = _select(st, samples)
    files = [_files_of(st, p, names) for p in range(st.partitions)]
    # the rows of other samples are left out as the files are read (None: every sample)
    keep = None if len(set(names)) == st.n_samples else names
    jobs = [
        {"files": f, "samples": names, "keep": keep, "sequence": sequence, "genes": genes}
        for f in files
    ]
    frame = lambda a: pd.DataFrame(a, index=list(names), columns=list(names))  # noqa: E731
    shared = np.zeros((len(names), len(names)), dtype=np.int64)
    with Engine(scheduler, workers=workers) as engine:
        if mismatches:
            cols = key_columns(sequence, genes)
            shared, size = near_overlap(st, names, files, keep, columns=cols, engine=engine)
        else:
            for _, part in engine.map(overlap_partition, jobs):
                shared += part
            size = np.diag(shared).copy()
    jaccard = None
    if not mismatches:
        union = size[:, None] + size[None, :] - shared
        with np.errstate(invalid="ignore", divide="ignore"):
            jaccard = frame(np.where(union > 0, shared / np.maximum(union, 1), 0.0))
    return CohortOverlap(
        shared=frame(shared),
        jaccard=jaccard,
        n_clonotypes=pd.Series(size, index=list(names), name="n_clonotypes"),
        definition=_definition(sequence, genes, mismatches),
        mismatches=mismatches,
    )


def _files_of(store: Store, partition: int, names: Sequence[str]) -> list[str]:
    """The files of ``partition`` with rows of the samples ``names``."""
    from tcrtrack.cohort._store import part_file

    wanted = set(names)
    batches = {r.batch for r in store.records if r.sample in wanted and partition in r.partitions}
    return [str(part_file(store.path, partition, b)) for b in sorted(batches)]


def _select(store: Store, samples: Sequence[str] | None) -> list[str]:
    known = [r.sample for r in store.records]
    if samples is None:
        return known
    missing = [x for x in samples if x not in set(known)]
    if missing:
        msg = (
            f"{store.path}: no sample(s) {', '.join(map(repr, missing))} in the store; "
            f"samples: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}"
        )
        raise NotFoundError(msg)
    return list(samples)


# ---------------------------------------------------------------- query
@dataclass(frozen=True, eq=False)
class CohortQuery:
    """Where a set of clonotypes is found in a store.

    Attributes
    ----------
    table
        One row per queried clonotype (in the query's order): ``clonotype``, ``n_repertoires``
        (samples of the store containing it), ``n_patients`` (distinct patients among them),
        ``max_frequency`` and ``mean_frequency`` (its frequency, count / the sample's total,
        highest and mean over the repertoires containing it; 0 when in none).
    hits
        One row per clonotype and sample containing it: ``clonotype``, ``sample``,
        ``patient``, ``count``, ``frequency``.
    definition
        The clonotype definition.
    """

    table: pd.DataFrame
    hits: pd.DataFrame
    definition: str

    def __repr__(self) -> str:
        found = int((self.table["n_repertoires"] > 0).sum())
        return (
            f"CohortQuery({len(self.table)} clonotypes, {found} found in the store; "
            f"clonotype = {self.definition})"
        )

    def _repr_html_(self) -> str:
        return f"<p><b>{self!r}</b></p>" + self.table.head(50).to_html()


def query_partition(job: dict[str, Any]) -> pd.DataFrame:
    """Rows of one partition whose clonotype is queried (a task): clonotype, sample,
    patient, count (summed over rows of a sample with the same clonotype; with
    ``mismatches`` 1, over the sample's rows within one mismatch of the clonotype)."""
    if job["sample"] is None and not job.get("mismatches") and job["sequence"] == "aa":
        by_key = _hits_by_key(job["files"], job["clonotypes"], job["genes"])
        if by_key is not None:
            return _summed(by_key)
    cols = key_columns(job["sequence"], job["genes"])
    wanted = list(dict.fromkeys([s.SAMPLE, "patient", "count", *cols]))
    table = _read(job["files"], wanted)
    if job.get("mismatches"):
        return _near_hits(table, job["clonotypes"], cols)
    labels = label(table, job["sequence"], job["genes"])
    if job["sample"] is not None:
        own = pc.equal(table.column(s.SAMPLE), job["sample"])
        queried = pc.unique(pc.filter(labels, own))
    else:
        queried = pa.array(job["clonotypes"], pa.large_string())
    mask = pc.is_in(labels, value_set=queried.cast(pa.large_string()))
    hits = pa.table(
        {
            "clonotype": pc.filter(labels, mask),
            "sample": pc.filter(table.column(s.SAMPLE), mask).cast(pa.large_string()),
            "patient": pc.filter(table.column("patient"), mask).cast(pa.large_string()),
            "count": pc.filter(table.column("count"), mask).cast(pa.int64()),
        }
    )
    return _summed(hits)


def _summed(hits: pa.Table) -> pd.DataFrame:
    """Hits (clonotype, sample, patient, count) with the counts of equal keys added."""
    keys = ["clonotype", "sample", "patient"]
    summed = hits.group_by(keys, use_threads=False).aggregate([("count", "sum")])
    return summed.rename_columns([*keys, "count"]).to_pandas()


def _hits_by_key(files: Sequence[str], clonotypes: Sequence[str], genes: str) -> pa.Table | None:
    """The rows of ``files`` holding the amino-acid ``clonotypes``, found by the junctions'
    exact keys (:mod:`tcrtrack.cohort._keys`) without reading a junction: a file's rows are
    ordered by key, so a binary search of the key columns finds each clonotype's rows, and the
    row groups whose key range holds no queried key are not read. None when a queried junction
    has no exact key (longer than 24 letters, or another character): the caller then compares
    the junctions themselves."""
    import pyarrow.parquet as pq

    from tcrtrack.cohort._keys import junction_keys
    from tcrtrack.cohort._store import KEY_HI, KEY_LO, store_file, to_numpy_u64

    seqs, _ = split_labels(clonotypes, genes)
    qhi, qlo, packed = junction_keys(seqs)
    if not packed.all():
        return None
    by_key = np.lexsort((qlo, qhi))
    qhi, qlo = qhi[by_key], qlo[by_key]
    gene_cols = key_columns("aa", genes)[1:]
    wanted = [KEY_HI, KEY_LO, s.SAMPLE, "patient", "count", *gene_cols]
    found: list[pa.Table] = []
    asked: list[np.ndarray] = []
    for f in files:
        # sample, patient and genes as dictionary codes: only the found rows become strings
        with store_file(f):
            parquet = pq.ParquetFile(f, read_dictionary=[s.SAMPLE, "patient", *gene_cols])
            groups = _row_groups(parquet, qhi)
            if not groups:
                continue
            table = parquet.read_row_groups(groups, columns=wanted)
        hi, lo = to_numpy_u64(table.column(KEY_HI)), to_numpy_u64(table.column(KEY_LO))
        left = np.searchsorted(hi, qhi, "left")
        n = np.searchsorted(hi, qhi, "right") - left
        total = int(n.sum())
        if not total:
            continue
        q = np.repeat(np.arange(len(qhi)), n)
        rows = np.repeat(left, n) + np.arange(total) - np.repeat(np.cumsum(n) - n, n)
        same = lo[rows] == qlo[q]
        found.append(table.take(pa.array(rows[same])))
        asked.append(by_key[q[same]])
    if not found:
        return pa.table(
            {
                "clonotype": pa.array([], pa.large_string()),
                "sample": pa.array([], pa.large_string()),
                "patient": pa.array([], pa.large_string()),
                "count": pa.array([], pa.int64()),
            }
        )
    rows_found = pa.concat_tables(found)
    which = pa.array(np.concatenate(asked))
    clonotype = pa.array(list(clonotypes), pa.large_string()).take(which)
    if genes != "none":  # the junction is equal: keep the rows whose genes are too
        keyed = {s.JUNCTION_AA: seqs.take(which)}
        keyed.update({c: rows_found.column(c).cast(pa.string()) for c in gene_cols})
        same_genes = pc.equal(label(pa.table(keyed), "aa", genes), clonotype)
        rows_found, clonotype = rows_found.filter(same_genes), clonotype.filter(same_genes)
    return pa.table(
        {
            "clonotype": clonotype,
            "sample": rows_found.column(s.SAMPLE).cast(pa.large_string()),
            "patient": rows_found.column("patient").cast(pa.large_string()),
            "count": rows_found.column("count").cast(pa.int64()),
        }
    )


def _row_groups(parquet: Any, sorted_hi: np.ndarray) -> list[int]:
    """The row groups of a batch file whose ``key_hi`` range holds one of ``sorted_hi``."""
    from tcrtrack.cohort._store import KEY_HI

    meta = parquet.metadata
    column = parquet.schema_arrow.get_field_index(KEY_HI)
    groups = []
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(column).statistics
        if stats is None or not stats.has_min_max:
            groups.append(g)
            continue
        low = np.searchsorted(sorted_hi, np.uint64(stats.min), "left")
        if low < np.searchsorted(sorted_hi, np.uint64(stats.max), "right"):
            groups.append(g)
    return groups


def split_labels(labels: Sequence[str], genes: str) -> tuple[pa.Array, pa.Array | None]:
    """The junction and the gene label (``V`` or ``V|J``) of clonotype labels."""
    if genes == "none":
        return pa.array(list(labels), pa.large_string()), None
    seqs, gene = [], []
    for x in labels:
        first, last = x.find("|"), x.rfind("|")
        if genes == "v":
            gene.append(x[:first])
            seqs.append(x[first + 1 :])
        else:
            gene.append(f"{x[:first]}|{x[last + 1 :]}")
            seqs.append(x[first + 1 : last])
    return pa.array(seqs, pa.large_string()), pa.array(gene, pa.large_string())


def compared_labels(labels: Sequence[str], genes: str) -> list[str]:
    """Clonotype labels with their genes in the form the store holds them
    (:func:`tcrtrack._genes.canonical_call`: gene level, tied genes as a sorted set), so that
    ``TRBV14*01|CASSF`` finds the store's ``TRBV14|CASSF``.

    >>> compared_labels(["TRBV14*01|CASSF", "TRBV12-4,TRBV12-3|CASSG|TRBJ2-7*01"], "vj")[1]
    'TRBV12-3,TRBV12-4|CASSG|TRBJ2-7'
    """
    from tcrtrack._genes import canonical_call

    if genes == "none":
        return list(labels)
    seqs, gene_labels = split_labels(labels, genes)
    assert gene_labels is not None
    out = []
    for x, seq, gene in zip(labels, seqs.to_pylist(), gene_labels.to_pylist(), strict=True):
        if x.count("|") < (1 if genes == "v" else 2):  # not a label of this definition: as
            # given (nothing in the store will match it)
            out.append(x)
            continue
        v, *j = gene.split("|")  # the gene label is ``V`` or ``V|J`` (split_labels)
        parts = [canonical_call(v)[0], seq, *(canonical_call(g)[0] for g in j)]
        out.append("|".join(parts))
    return out


def _near_hits(table: pa.Table, clonotypes: Sequence[str], cols: Sequence[str]) -> pd.DataFrame:
    """Rows within one mismatch of each queried clonotype: clonotype, sample, patient, count
    (summed over the distinct rows of a sample near the clonotype)."""
    from tcrtrack.cohort._near import _gene_label, near_pairs

    genes = {1: "none", 2: "v", 3: "vj"}[len(cols)]
    seqs, qgenes = split_labels(clonotypes, genes)
    li, ri = near_pairs(seqs, qgenes, table.column(cols[0]), _gene_label(table, cols[1:]))
    hits = pd.DataFrame(
        {
            "clonotype": np.asarray(list(clonotypes), dtype=object)[li],
            "sample": np.asarray(table.column(s.SAMPLE).to_pylist(), dtype=object)[ri],
            "patient": np.asarray(table.column("patient").to_pylist(), dtype=object)[ri],
            "count": table.column("count").to_numpy()[ri],
        }
    )
    return hits.groupby(["clonotype", "sample", "patient"], sort=False, as_index=False)[
        "count"
    ].sum()


def read_clonotypes(path: str | os.PathLike[str], *, sequence: str, genes: str) -> list[str]:
    """The clonotypes of a query file: a CSV/TSV with a ``junction_aa`` (for ``aa``) or
    ``junction`` (for ``nt``) column, and ``v_call`` / ``j_call`` when genes are compared
    (at gene level, tied genes as a set, as the store holds them: ``TRBV14*01`` is
    ``TRBV14``); other columns are ignored. Labels as :func:`label` writes them, duplicates
    once."""
    frame = _read_table(Path(path))
    cols = key_columns(sequence, genes)
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        msg = (
            f"{path}: the clonotype file lacks column(s) {', '.join(missing)} (columns seen: "
            f"{', '.join(map(str, frame.columns[:12]))}); give a CSV/TSV with "
            f"{', '.join(cols)} (e.g. tcrtrack share --shared-clonotypes output)"
        )
        raise FormatError(msg)
    sub = frame[cols].astype("string")
    empty = sub[cols[0]].isna() | (sub[cols[0]].str.len() == 0)
    if empty.any():
        line = int(np.flatnonzero(empty.to_numpy())[0]) + 2
        msg = f"{path}, line {line}: empty {cols[0]}; every row needs a sequence"
        raise FormatError(msg)
    table = pa.Table.from_pandas(sub, preserve_index=False)
    # the store holds gene calls at gene level, tied genes as a set (tcrtrack._genes)
    table = key_table(table, cols[1:], alleles=False)
    return list(dict.fromkeys(label(table, sequence, genes).to_pylist()))


def query(
    store: Store | str | os.PathLike[str],
    *,
    clonotypes: Sequence[str] | str | os.PathLike[str] | None = None,
    sample: str | None = None,
    sequence: Sequence_ = "aa",
    genes: Genes = "none",
    mismatches: int = 0,
    scheduler: str | None = None,
    workers: int | None = None,
) -> CohortQuery:
    """How many repertoires and patients of a store contain each of some clonotypes.

    Give either ``clonotypes`` (labels — the junction, ``V|junction`` or ``V|junction|J``
    as :func:`tcrtrack.tl.clonotypes` writes them — or the path of a CSV/TSV with
    ``junction_aa``/``junction`` and gene columns) or ``sample``, a sample of the store whose
    clonotypes are queried (that sample is counted among the repertoires containing them).
    Genes are compared as the store holds them, at gene level with tied genes as a sorted set
    (:func:`tcrtrack.tl.ClonotypeSpec`): ``TRBV14*01|CASSF`` is looked up, and listed, as
    ``TRBV14|CASSF``.

    Frequencies are the clonotype's count in a sample over that sample's total (cells, or
    bulk counts) in the store.

    With ``mismatches=1`` a sample contains a clonotype when it has a clonotype whose
    junction has the same length and differs at most at one position (and the same genes,
    when ``genes`` asks); the count is then summed over all such clonotypes of the sample.
    Found by deletion-neighbourhood hashing: the queried junctions' deletion keys go to
    every partition's task, which joins them with its rows' keys and verifies each pair.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> sheet, data = os.path.join(folder, "sheet.tsv"), tt.datasets.path("pbmc3_t_filtered")
    >>> with open(sheet, "w") as fh:  # one file under two names, for two patients
    ...     _ = fh.write(f"patient\\tsample\\ttimepoint\\tpath\\nP1\\ta\\t0\\t{data}\\n"
    ...                  f"P2\\tb\\t0\\t{data}\\n")
    >>> store = tt.cohort.build(sheet, os.path.join(folder, "s"), partitions=4, workers=1).store
    >>> q = tt.cohort.query(store, sample="a", workers=1)
    >>> int(q.table.loc[0, "n_repertoires"]), int(q.table.loc[0, "n_patients"])
    (2, 2)
    >>> tt.cohort.query(store, sample="a", mismatches=1, workers=1).definition
    'junction_aa, up to 1 mismatch (equal length)'
    """
    _check(sequence, genes, mismatches)
    if (clonotypes is None) == (sample is None):
        msg = "give either clonotypes (labels or a file) or sample, not both and not neither"
        raise ParameterError(msg)
    st = _open(store)
    if sample is not None:
        _select(st, [sample])
        wanted: list[str] = []
    elif isinstance(clonotypes, str | os.PathLike) and (
        not isinstance(clonotypes, str) or Path(clonotypes).suffix.lower() in _TABLE_SUFFIXES
    ):
        wanted = read_clonotypes(clonotypes, sequence=sequence, genes=genes)
    else:
        given = [clonotypes] if isinstance(clonotypes, str) else clonotypes or ()
        wanted = list(dict.fromkeys(compared_labels(list(given), genes)))
    hits = query_hits(
        st,
        wanted,
        sample=sample,
        sequence=sequence,
        genes=genes,
        mismatches=mismatches,
        scheduler=scheduler,
        workers=workers,
    )
    totals = st.samples.set_index("sample")["total"]
    hits["count"] = hits["count"].astype("int64")
    hits["frequency"] = hits["count"].to_numpy() / totals.reindex(hits["sample"]).to_numpy()
    order = {name: i for i, name in enumerate(st.samples["sample"])}
    if sample is not None:
        own = hits[hits["sample"] == sample].sort_values(
            ["count", "clonotype"], ascending=[False, True], kind="stable"
        )
        wanted = own["clonotype"].tolist()
    rank = {c: i for i, c in enumerate(wanted)}
    hits = hits.assign(_c=hits["clonotype"].map(rank), _s=hits["sample"].map(order))
    hits = hits.sort_values(["_c", "_s"], kind="stable").drop(columns=["_c", "_s"])
    hits = hits.reset_index(drop=True)
    grouped = hits.groupby("clonotype", sort=False)
    table = pd.DataFrame({"clonotype": wanted})
    table["n_repertoires"] = table["clonotype"].map(grouped["sample"].nunique())
    table["n_patients"] = table["clonotype"].map(grouped["patient"].nunique())
    table["max_frequency"] = table["clonotype"].map(grouped["frequency"].max())
    table["mean_frequency"] = table["clonotype"].map(grouped["frequency"].mean())
    table = table.fillna(
        {"n_repertoires": 0, "n_patients": 0, "max_frequency": 0.0, "mean_frequency": 0.0}
    )
    table["n_repertoires"] = table["n_repertoires"].astype("int64")
    table["n_patients"] = table["n_patients"].astype("int64")
    return CohortQuery(table=table, hits=hits, definition=_definition(sequence, genes, mismatches))


_TABLE_SUFFIXES: Final = (".tsv", ".csv", ".txt", ".gz")


def query_hits(
    store: Store,
    clonotypes: Sequence[str],
    *,
    sample: str | None = None,
    sequence: str,
    genes: str,
    mismatches: int = 0,
    scheduler: str | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Every (clonotype, sample) of the store among ``clonotypes`` (or the clonotypes of
    ``sample``): ``clonotype``, ``sample``, ``patient``, ``count``; one task per partition.
    With ``mismatches=1``, the samples' clonotypes within one mismatch, counts summed."""
    from tcrtrack.cohort._engine import Engine

    if mismatches and sample is not None:  # the sample's clonotypes go to every partition
        record = next(r for r in store.records if r.sample == sample)
        own = _read(
            [f for p in record.partitions for f in _files_of(store, p, [sample])],
            key_columns(sequence, genes),
            [sample],
        )
        clonotypes = list(dict.fromkeys(label(own, sequence, genes).to_pylist()))
        sample = None
    routed = _route(store, clonotypes, sequence, genes, exact=not mismatches and sample is None)
    jobs = [
        {
            "files": store.files(p),
            "sequence": sequence,
            "genes": genes,
            "sample": sample,
            "clonotypes": routed[p],
            "mismatches": mismatches,
        }
        for p in range(store.partitions)
        if p in routed and store.files(p)
    ]
    parts = []
    with Engine(scheduler, workers=workers, threads=True) as engine:
        for i, part in engine.map(query_partition, jobs):
            parts.append((i, part))
    parts.sort(key=lambda x: x[0])
    columns = ["clonotype", "sample", "patient", "count"]
    hits = pd.concat([p for _, p in parts], ignore_index=True) if parts else pd.DataFrame()
    hits = hits.reindex(columns=columns)
    if mismatches:  # a sample's neighbours of a clonotype may sit in several partitions
        hits = hits.groupby(columns[:3], sort=False, as_index=False)["count"].sum()
    hits["count"] = hits["count"].astype("int64")
    return hits


def _route(
    store: Store, clonotypes: Sequence[str], sequence: str, genes: str, *, exact: bool
) -> dict[int, list[str]]:
    """The queried clonotypes each partition's task needs. An exact match of an amino-acid
    junction can only sit in the junction's own hash partition, so each clonotype goes to that
    one task (and partitions without a queried clonotype get none). Nucleotide junctions, near
    matches and a sample's own clonotypes go to every partition."""
    from tcrtrack.cohort._keys import partition_of

    if not exact or sequence != "aa":
        return {p: list(clonotypes) for p in range(store.partitions)}
    junctions, _ = split_labels(clonotypes, genes)
    where = partition_of(junctions, store.partitions)
    routed: dict[int, list[str]] = {}
    for clonotype, p in zip(clonotypes, where.tolist(), strict=True):
        routed.setdefault(p, []).append(clonotype)
    return routed


def _read_table(path: Path) -> pd.DataFrame:
    """A CSV or TSV (the delimiter from the header line; gzip by suffix) as strings."""
    import gzip

    from tcrtrack.errors import InputError

    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            header = fh.readline()
            sep = "\t" if "\t" in header else ","
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        msg = f"{path}: clonotype file not found; check the path"
        raise InputError(msg) from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as e:
        msg = f"{path}: cannot read the clonotype file as CSV/TSV ({e})"
        raise FormatError(msg) from None
