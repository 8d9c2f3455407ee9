"""Clone tracking across samples with per-clone tests: ``tt.tl.track``."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from tcrtrack.errors import NotFoundError, ParameterError, TcrtrackWarning
from tcrtrack.schema import OVERDISPERSED_UNITS, TRACK_TESTS, TrackTest
from tcrtrack.tl._change import betabinomial_two_sided, estimate_dispersion

if TYPE_CHECKING:
    from tcrtrack.tl._counts import CloneCounts

__all__ = ["CLONE_CLASSES", "Track", "fisher_two_sided", "track"]

#: Presence of a clone in the reference and a later sample (column ``presence``).
PRESENCE: Final = ("shared", "new", "lost", "absent")
#: The change call of a clone between the reference and a later sample (column ``change``;
#: NA for a clone absent from both).
CHANGES: Final = ("expanded", "contracted", "not significant")
#: One label per clone (column ``class``, for colours and cell annotation): the change where
#: significant, else the presence.
CLONE_CLASSES: Final = ("expanded", "contracted", "shared", "new", "lost", "absent")
#: Columns of :attr:`Track.tests`, in order.
TEST_COLUMNS = (
    "clonotype",
    "sample",
    "count_reference",
    "count",
    "total_reference",
    "total",
    "freq_reference",
    "freq",
    "log2fc",
    "pvalue",
    "qvalue",
    "presence",
    "change",
    "class",
)


@dataclass(frozen=True)
class Track:
    """Clone sizes over samples, with a test of change for each clone.

    Attributes
    ----------
    sizes
        Clonotype (index: the clonotype label) × sample clone sizes (cells or the bulk unit),
        ordered by the reference count, largest first.
    frequencies
        ``sizes`` divided by each sample's total (:meth:`CloneCounts.totals`).
    tests
        One row per clonotype and later sample (columns ``TEST_COLUMNS``): counts, totals and
        frequencies in the reference and the sample, ``log2fc``, the test's ``pvalue`` and
        the Benjamini–Hochberg ``qvalue``, ``presence`` (``PRESENCE``), ``change``
        (``CHANGES``) and ``class`` (``CLONE_CLASSES``: the change where significant, else
        the presence).
    clonotypes
        The defining columns of each clonotype (same order as ``sizes``).
    reference
        The reference sample.
    samples
        All samples, reference included, in order.
    unit
        What the counts count.
    test, alpha, min_count, pseudocount
        The settings used (see :func:`track`); ``test`` is the test run (the default
        depends on the unit).
    dispersion
        Per later sample, the dispersion :math:`\\varphi` of the beta-binomial test (given
        or estimated); NaN under Fisher's test.
    counts
        The :class:`CloneCounts` of the tracked samples (every clone, also when ``top`` or
        ``clonotypes`` keep fewer), e.g. for :func:`tcrtrack.tl.annotate`.
    """

    sizes: pd.DataFrame
    frequencies: pd.DataFrame
    tests: pd.DataFrame
    clonotypes: pd.DataFrame
    reference: str
    samples: tuple[str, ...]
    unit: str
    test: str
    alpha: float
    min_count: int
    pseudocount: float
    dispersion: pd.Series
    counts: CloneCounts

    def amino_acids(self) -> pd.Series:
        """The junction amino acids of each clone (index: the clonotype key, in the order of
        ``sizes``): ``junction_aa``, or for paired clonotypes each locus's amino acids joined
        by ``+`` in the order of the key (``TRA+TRB``). A label to show *beside* the key,
        never instead of it: clonotypes defined by nucleotides can share their amino acids.

        Examples
        --------
        >>> import tcrtrack as tt
        >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
        >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
        >>> result = tt.tl.track(tt.tl.clonotypes(tt.pp.concat([a, b])), top=1)
        >>> result.amino_acids().tolist()
        ['CASSLEVGGGEETQYF']
        """
        return pd.Series(
            amino_acid_labels(self.clonotypes), index=self.sizes.index, name="junction_aa"
        )

    def wide(self, column: str) -> pd.DataFrame:
        """Clonotype × later sample: one column of :attr:`tests` (e.g. ``"change"``,
        ``"presence"``, ``"qvalue"``), clones in the order of ``sizes``."""
        if column not in self.tests.columns or column in ("clonotype", "sample"):
            msg = f"unknown column {column!r}; choose from {', '.join(TEST_COLUMNS[2:])}"
            raise NotFoundError(msg)
        wide = self.tests.pivot(index="clonotype", columns="sample", values=column)
        later = [x for x in self.samples if x != self.reference]
        return wide.reindex(index=self.sizes.index, columns=later)

    def classes(self) -> pd.DataFrame:
        """Clonotype × later sample: the ``class`` of each clone (``wide("class")``)."""
        return self.wide("class")

    def to_frame(self) -> pd.DataFrame:
        """Wide table: clonotype columns, then ``count_<sample>`` and ``freq_<sample>`` for
        every sample, then ``log2fc_``, ``pvalue_``, ``qvalue_``, ``presence_`` and
        ``change_<sample>`` per later sample."""
        parts = [self.clonotypes.set_index(self.sizes.index)]
        parts.append(self.sizes.add_prefix("count_"))
        parts.append(self.frequencies.add_prefix("freq_"))
        for key in ("log2fc", "pvalue", "qvalue", "presence", "change"):
            parts.append(self.wide(key).add_prefix(f"{key}_"))
        out = pd.concat(parts, axis=1)
        out.index.name = "clonotype"
        return out.drop(columns=["clonotype"], errors="ignore")

    def display_table(self) -> pd.DataFrame:
        """The readable table the command line prints and the report shows: per clone (rows
        ranked 1, 2, ... in the order of ``sizes``), its clonotype key, the amino acids beside
        it when clonotypes are nucleotide sequences (``junction_aa``), the count in the data's
        unit and the frequency per sample, then against each later sample (``vs <sample>``)
        the presence and the change call, with p and q where the clone was tested.

        Examples
        --------
        >>> import tcrtrack as tt
        >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
        >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
        >>> result = tt.tl.track(tt.tl.clonotypes(tt.pp.concat([a, b])), top=1)
        >>> list(result.display_table().columns)
        ['clonotype', 'junction_aa', 'a', 'b', 'vs b']
        """
        later = [x for x in self.samples if x != self.reference]
        presence, change = self.wide("presence"), self.wide("change")
        pvalues, qvalues = self.wide("pvalue"), self.wide("qvalue")
        data: dict[str, list[str]] = {"clonotype": [str(c) for c in self.sizes.index]}
        if self.counts.spec.sequence == "nt":
            data["junction_aa"] = ["" if v is None else str(v) for v in self.amino_acids()]
        for x in self.samples:
            data[x] = [
                f"{int(n):,} ({100 * f:.2f}%)"
                for n, f in zip(self.sizes[x], self.frequencies[x], strict=True)
            ]
        for x in later:
            column = []
            for clone in self.sizes.index:
                q = qvalues.loc[clone, x]
                tested = "" if pd.isna(q) else f" p={pvalues.loc[clone, x]:.2g} q={q:.2g}"
                column.append(f"{presence.loc[clone, x]}, {change.loc[clone, x]}{tested}")
            data[f"vs {x}"] = column
        return pd.DataFrame(data, index=pd.RangeIndex(1, len(self.sizes) + 1, name="rank"))

    def __repr__(self) -> str:
        return (
            f"Track({len(self.sizes)} clonotypes over {list(self.samples)!r}, "
            f"reference={self.reference!r}, unit={self.unit!r}, test={self.test!r}, "
            f"alpha={self.alpha})"
        )

    def _repr_html_(self) -> str:
        summary = (
            self.tests.groupby(["sample", "presence", "change"], observed=True)
            .size()
            .unstack(fill_value=0)
        )
        return (
            f"<p><b>Track</b>: {len(self.sizes)} clonotypes over {', '.join(self.samples)} "
            f"(reference {self.reference}; {self.test} test, BH q &lt; {self.alpha})</p>"
            + summary.to_html()
        )


def classify(
    a: np.ndarray,
    b: np.ndarray,
    qvalue: np.ndarray,
    log2fc: np.ndarray,
    *,
    alpha: float,
    min_count: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``presence``, ``change`` and ``class`` of each clone (see :func:`track`)."""
    presence = np.full(len(a), "shared", dtype=object)
    presence[(a == 0) & (b > 0)] = "new"
    presence[(a > 0) & (b == 0)] = "lost"
    absent = (a == 0) & (b == 0)
    presence[absent] = "absent"
    significant = qvalue < alpha  # NaN (untested) compares False
    change = np.full(len(a), "not significant", dtype=object)
    change[significant & (log2fc > 0) & (b >= min_count)] = "expanded"
    change[significant & (log2fc < 0) & (a >= min_count)] = "contracted"
    change[absent] = None
    cls = np.where(np.isin(change, ["expanded", "contracted"]), change, presence)
    return presence, change, cls


def amino_acid_labels(clonotypes: pd.DataFrame) -> np.ndarray:
    """Per row of a clonotype table: ``junction_aa``, or the ``<locus>_junction_aa`` columns
    joined by ``+`` (paired clonotypes); NA where a clonotype has none."""
    if "junction_aa" in clonotypes.columns:
        return clonotypes["junction_aa"].astype("string").to_numpy(dtype=object, na_value=None)
    parts = [c for c in clonotypes.columns if str(c).endswith("_junction_aa")]
    if not parts:
        return np.full(len(clonotypes), None, dtype=object)
    joined = clonotypes[parts[0]].astype("string")
    for col in parts[1:]:
        joined = joined + "+" + clonotypes[col].astype("string")
    return joined.to_numpy(dtype=object, na_value=None)


def _log_choose(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


#: Supports up to this size are summed term by term; larger ones use the tails.
_DIRECT_SUPPORT = 2048


def _fisher_direct(
    a: np.ndarray, k: np.ndarray, m: np.ndarray, n: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Sum the pmf over the whole support of every table at once (small supports)."""
    lens = hi - lo + 1
    owner = np.repeat(np.arange(len(a)), lens)
    x = lo[owner] + np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
    total = _log_choose(m, n)
    logpmf = (
        _log_choose(k[owner], x) + _log_choose(m[owner] - k[owner], n[owner] - x) - total[owner]
    )
    observed = _log_choose(k, a) + _log_choose(m - k, n - a) - total
    keep = logpmf <= observed[owner] + np.log1p(1e-7)
    return np.bincount(owner[keep], weights=np.exp(logpmf[keep]), minlength=len(a))


def _fisher_tails(
    a: np.ndarray, k: np.ndarray, m: np.ndarray, n: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """One tail from ``a`` plus the far tail from where the pmf falls to ``P(a)`` (large
    supports; hypergeometric tails from :mod:`scipy.stats`)."""
    from scipy.stats import hypergeom

    total = _log_choose(m, n)

    def logpmf(x: np.ndarray) -> np.ndarray:
        return _log_choose(k, x) + _log_choose(m - k, n - x) - total

    threshold = logpmf(a) + np.log1p(1e-7)
    mode = np.clip(((k + 1) * (n + 1)) // (m + 2), lo, hi)
    below = a < mode
    # binary search (the pmf is unimodal): below the mode, the smallest x >= mode with
    # pmf(x) <= threshold, in (left, right]; above, the largest x <= mode, in [left, right)
    left = np.where(below, mode, lo - 1)
    right = np.where(below, hi + 1, mode)
    for _ in range(64):
        active = right - left > 1
        if not active.any():
            break
        mid = (left + right) // 2
        under = logpmf(np.clip(mid, lo, hi)) <= threshold
        right = np.where(active & below & under, mid, right)
        left = np.where(active & below & ~under, mid, left)
        left = np.where(active & ~below & under, mid, left)
        right = np.where(active & ~below & ~under, mid, right)
    with np.errstate(all="ignore"):
        near = np.where(below, hypergeom.cdf(a, m, k, n), hypergeom.sf(a - 1, m, k, n))
        far_up = np.where(below & (right <= hi), hypergeom.sf(right - 1, m, k, n), 0.0)
        far_down = np.where(~below & (left >= lo), hypergeom.cdf(left, m, k, n), 0.0)
    value = near + far_up + far_down
    return np.where(np.abs(logpmf(mode) - logpmf(a)) <= 1e-14, 1.0, value)


def fisher_two_sided(
    a: np.ndarray, b: np.ndarray, total_a: np.ndarray | int, total_b: np.ndarray | int
) -> np.ndarray:
    """Two-sided Fisher's exact test of each table ``[[a, total_a - a], [b, total_b - b]]``.

    Under the null hypothesis (the clone has the same frequency in both samples) and given
    the margins, ``a`` is hypergeometric: population :math:`M = total_a + total_b`, of which
    :math:`K = a + b` are the clone's, :math:`N = total_a` drawn. The p-value is the summed
    probability of every table no more likely than the observed one:
    :math:`p = \\sum_{x:\\, P(x) \\le P(a)(1 + 10^{-7})} P(x)` (the relative tolerance absorbs
    rounding, as in R's ``fisher.test``). All tables are computed at once: small supports
    term by term in log space; large ones (bulk clone sizes) as the tail from ``a`` plus the
    far tail beyond the point where the (unimodal) pmf falls to :math:`P(a)`, found by a
    vectorised binary search. It equals :func:`scipy.stats.fisher_exact`
    (``alternative="two-sided"``). A table with an empty row or column has p = 1.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    na = np.broadcast_to(np.asarray(total_a, dtype=np.int64), a.shape)
    nb = np.broadcast_to(np.asarray(total_b, dtype=np.int64), a.shape)
    if np.any((a < 0) | (b < 0) | (a > na) | (b > nb)):
        msg = "Fisher's test needs 0 <= count <= total for every clone"
        raise ParameterError(msg)
    p = np.ones(a.shape, dtype=np.float64)
    k = a + b
    m = na + nb
    ok = (k > 0) & (k < m) & (na > 0) & (nb > 0)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return p
    lo = np.maximum(0, k - nb)
    hi = np.minimum(k, na)
    small = ok & (hi - lo + 1 <= _DIRECT_SUPPORT)
    large = ok & ~small
    for mask, method in ((small, _fisher_direct), (large, _fisher_tails)):
        sel = np.flatnonzero(mask)
        if len(sel):
            p[sel] = np.minimum(method(a[sel], k[sel], m[sel], na[sel], lo[sel], hi[sel]), 1.0)
    return p


def track(
    counts: CloneCounts,
    *,
    samples: Sequence[str] | None = None,
    reference: str | None = None,
    top: int | None = None,
    clonotypes: Sequence[str] | None = None,
    test: TrackTest | None = None,
    dispersion: float | None = None,
    alpha: float = 0.05,
    min_count: int = 2,
    pseudocount: float = 0.5,
) -> Track:
    """Follow clones over samples and test each clone's change from the reference.

    For each clone and each later sample *S* (reference *R*), with counts :math:`a` in *R*
    and :math:`b` in *S* and sample totals :math:`N_R`, :math:`N_S`
    (:meth:`CloneCounts.totals`: distinct cells, or the summed bulk counts):

    - frequencies :math:`a/N_R` and :math:`b/N_S`;
    - ``log2fc`` :math:`= \\log_2\\frac{(b + c)/N_S}{(a + c)/N_R}` with pseudocount
      :math:`c` = ``pseudocount`` (0.5 by default), so that a clone absent from one sample has
      a finite fold change;
    - ``pvalue``, two-sided, by ``test``: ``"fisher"``, Fisher's exact test of the 2 × 2
      table :math:`[[a, N_R - a], [b, N_S - b]]` (the clone versus the rest of each sample;
      :func:`fisher_two_sided`), exact for cells and templates, each an independent draw;
      ``"betabinomial"``, for reads and UMIs, whose two-step sampling (cells, then
      molecules of each cell) makes counts overdispersed: given :math:`k = a + b`,
      :math:`a \\sim \\mathrm{BetaBinomial}(k, \\pi\\nu_k, (1-\\pi)\\nu_k)` with
      :math:`\\pi = N_R/(N_R+N_S)`, :math:`\\nu_k = k/(\\varphi-1)`, and the dispersion
      :math:`\\varphi` (the variance inflation of a large clone) estimated robustly from the
      clones of the pair (:func:`tcrtrack.tl._change.estimate_dispersion`) unless given;
    - ``qvalue``: Benjamini–Hochberg adjusted p-values
      (:func:`scipy.stats.false_discovery_control`) across all clones found in *R* or *S*
      (all of them, also when ``top`` or ``clonotypes`` show fewer);
    - ``presence``: ``shared`` when :math:`a > 0` and :math:`b > 0`, ``new`` when
      :math:`a = 0 < b`, ``lost`` when :math:`b = 0 < a`, ``absent`` when both are 0 (the
      clone is in another sample);
    - ``change``, a separate call: ``expanded`` when ``qvalue < alpha``, ``log2fc > 0`` and
      :math:`b \\ge` ``min_count``; ``contracted`` when ``qvalue < alpha``, ``log2fc < 0``
      and :math:`a \\ge` ``min_count``; else ``not significant`` (NA for ``absent``). A
      shared clone is not "unchanged", nor a new clone "expanded", by definition: a new clone
      of many cells can be ``expanded``, a shared one ``not significant``. The
      ``min_count`` rule (default 2): a single cell is never evidence of a change, so a
      clone of 1 + 1 cells is never called expanded or contracted, whatever the depths;
    - ``class``: one label per clone for colours and cell annotation, the ``change`` where
      it is significant, else the ``presence``.

    Parameters
    ----------
    counts
        Clonotype counts.
    samples
        Samples in time order (default: all, in the order of ``counts``).
    reference
        The sample every later one is compared with (default: the first of ``samples``).
    top
        Keep the ``top`` clones in the order below (default: all clones).
    clonotypes
        Keep only these clonotypes (labels of ``counts.clonotypes["clonotype"]``).
    test
        ``"fisher"`` or ``"betabinomial"``; default: ``"betabinomial"`` when the counts are
        reads or UMIs (``counts.unit``), ``"fisher"`` for cells and templates. Fisher's test
        on reads or UMIs warns (:class:`tcrtrack.errors.TcrtrackWarning`): its p-values are
        not calibrated for overdispersed counts.
    dispersion
        The dispersion :math:`\\varphi \\ge 1` of the beta-binomial test, the same for every
        later sample (default: estimated per pair of samples). Ignored by Fisher's test.
    alpha
        False-discovery rate for calling a clone expanded or contracted.
    min_count
        Count the larger sample must hold for a call of expansion or contraction.
    pseudocount
        Added to both counts in ``log2fc``.

    Returns
    -------
    :class:`Track`. Clones are ordered by their count in the reference (largest first), then
    by their largest frequency in the later samples, then by label.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> result = tt.tl.track(counts, top=3)
    >>> result.tests["presence"].tolist(), result.tests["change"].tolist()
    (['shared', 'shared', 'shared'], ['not significant', 'not significant', 'not significant'])
    """
    names, later = _track_samples(counts, samples, reference)
    reference = names[0] if reference is None else reference
    unit = counts.require_one_unit("track (per-clone tests of expansion and contraction)", names)
    test = _check_track_options(
        unit,
        test=test,
        dispersion=dispersion,
        alpha=alpha,
        pseudocount=pseudocount,
        top=top,
    )
    sub = counts.select(names)
    dense = sub.dense()  # samples × clonotypes
    totals = sub.totals().to_numpy().astype(np.int64)
    labels = sub.clonotypes["clonotype"].astype(str).to_numpy()
    r = names.index(reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        freq = dense / np.where(totals > 0, totals, 1)[:, None]

    test_parts = []
    phis: dict[str, float] = {}
    for name in later:
        j = names.index(name)
        part, phis[name] = _test_pair(
            dense[r],
            dense[j],
            (int(totals[r]), int(totals[j])),
            (freq[r], freq[j]),
            labels=labels,
            sample=name,
            test=test,
            dispersion=dispersion,
            alpha=alpha,
            min_count=min_count,
            pseudocount=pseudocount,
        )
        test_parts.append(part)

    later_freq = freq[[names.index(x) for x in later]]
    order = _clone_order(labels, dense[r], later_freq, names, clonotypes=clonotypes, top=top)
    index = pd.Index(labels[order], name="clonotype")
    count_frame = pd.DataFrame(dense[:, order].T, index=index, columns=names).astype("int64")
    freq_frame = pd.DataFrame(freq[:, order].T, index=index, columns=names)
    tests = pd.concat([part.iloc[order] for part in test_parts], ignore_index=True)
    tests["sample"] = pd.Categorical(tests["sample"], categories=later)
    return Track(
        sizes=count_frame,
        frequencies=freq_frame,
        tests=tests[list(TEST_COLUMNS)],
        clonotypes=sub.clonotypes.iloc[order].reset_index(drop=True),
        reference=reference,
        samples=tuple(names),
        unit=sub.unit,
        test=test,
        alpha=float(alpha),
        min_count=int(min_count),
        pseudocount=float(pseudocount),
        dispersion=pd.Series(phis, name="dispersion", dtype=float),
        counts=sub,
    )


def _track_samples(
    counts: CloneCounts, samples: Sequence[str] | None, reference: str | None
) -> tuple[list[str], list[str]]:
    """The samples of a track (reference first when it was not among them) and the later ones."""
    names = list(counts.samples) if samples is None else list(samples)
    if len(set(names)) != len(names):
        msg = f"samples must be distinct, got {names!r}"
        raise ParameterError(msg)
    reference = names[0] if reference is None else reference
    if reference not in names:
        names.insert(0, reference)
    for x in names:
        counts.index(x)
    later = [x for x in names if x != reference]
    if not later:
        msg = f"track needs a sample besides the reference {reference!r}"
        raise ParameterError(msg)
    return names, later


def _check_track_options(
    unit: str,
    *,
    test: TrackTest | None,
    dispersion: float | None,
    alpha: float,
    pseudocount: float,
    top: int | None,
) -> TrackTest:
    """The test to run (its default for ``unit``), after checking every option of :func:`track`."""
    if test is None:
        test = "betabinomial" if unit in OVERDISPERSED_UNITS else "fisher"
    if test not in TRACK_TESTS:
        msg = f"unknown test {test!r}; choose one of {', '.join(map(repr, TRACK_TESTS))}"
        raise ParameterError(msg)
    if dispersion is not None and not (np.isfinite(dispersion) and dispersion >= 1):
        msg = f"dispersion must be a number >= 1 (1: the binomial), got {dispersion!r}"
        raise ParameterError(msg)
    if test == "fisher" and unit in OVERDISPERSED_UNITS:
        warnings.warn(
            f"Fisher's test on {unit}: its p-values are not calibrated for "
            f"overdispersed {unit} (reads of one cell are not independent draws) and "
            "call most clones changed; use test='betabinomial' (the default for "
            f"{unit})",
            TcrtrackWarning,
            stacklevel=3,
        )
    if not 0 < alpha < 1:
        msg = f"alpha must be between 0 and 1, got {alpha!r}"
        raise ParameterError(msg)
    if pseudocount <= 0:
        msg = f"pseudocount must be positive, got {pseudocount!r}"
        raise ParameterError(msg)
    if top is not None and top < 1:
        msg = f"top must be a positive number of clones, got {top!r}"
        raise ParameterError(msg)
    return test


def _test_pair(
    a: np.ndarray,
    b: np.ndarray,
    totals: tuple[int, int],
    freqs: tuple[np.ndarray, np.ndarray],
    *,
    labels: np.ndarray,
    sample: str,
    test: TrackTest,
    dispersion: float | None,
    alpha: float,
    min_count: int,
    pseudocount: float,
) -> tuple[pd.DataFrame, float]:
    """The test rows of one later sample against the reference, and the dispersion used.

    ``a`` and ``b`` are every clone's counts in the reference and in ``sample``; ``totals``
    and ``freqs`` are the two samples' totals and frequencies in that order.
    """
    from scipy import stats

    n_ref, n = totals
    tested = (a > 0) | (b > 0)
    if test == "fisher":
        phi = np.nan
        pvalue = fisher_two_sided(a, b, n_ref, n)
    else:
        phi = (
            estimate_dispersion(a[tested], b[tested], n_ref, n)
            if dispersion is None
            else float(dispersion)
        )
        pvalue = betabinomial_two_sided(a, b, n_ref, n, dispersion=phi)
    qvalue = np.full(len(a), np.nan)
    if tested.any():
        qvalue[tested] = stats.false_discovery_control(pvalue[tested], method="bh")
    log2fc = np.log2((b + pseudocount) / max(n, 1)) - np.log2((a + pseudocount) / max(n_ref, 1))
    presence, change, cls = classify(a, b, qvalue, log2fc, alpha=alpha, min_count=min_count)
    frame = pd.DataFrame(
        {
            "clonotype": labels,
            "sample": sample,
            "count_reference": a,
            "count": b,
            "total_reference": n_ref,
            "total": n,
            "freq_reference": freqs[0],
            "freq": freqs[1],
            "log2fc": log2fc,
            "pvalue": np.where(tested, pvalue, np.nan),
            "qvalue": qvalue,
            "presence": pd.Categorical(presence, categories=list(PRESENCE)),
            "change": pd.Categorical(change, categories=list(CHANGES)),
            "class": pd.Categorical(cls, categories=list(CLONE_CLASSES)),
        }
    )
    return frame, phi


def _clone_order(
    labels: np.ndarray,
    reference_counts: np.ndarray,
    later_freq: np.ndarray,
    names: list[str],
    *,
    clonotypes: Sequence[str] | None,
    top: int | None,
) -> np.ndarray:
    """Positions of the clones to show, in :func:`track`'s order, after ``clonotypes``/``top``."""
    order = np.lexsort((labels, -later_freq.max(axis=0), -reference_counts))
    if clonotypes is not None:
        wanted = pd.Index([str(x) for x in clonotypes])
        missing = wanted.difference(pd.Index(labels))
        if len(missing):
            msg = (
                f"clonotype(s) not found in samples {', '.join(names)}: "
                f"{', '.join(map(repr, missing[:5]))}"
            )
            raise NotFoundError(msg)
        order = order[np.isin(labels[order], wanted)]
    if top is not None:
        order = order[:top]
    return order
