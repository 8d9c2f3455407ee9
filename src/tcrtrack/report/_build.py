"""``tt.report.build``: lay the results of ``tt.tl`` and the plots of ``tt.pl`` out as one page.

The builder computes nothing itself: every number comes from a :mod:`tcrtrack.tl` function
and every figure from a :mod:`tcrtrack.pl` plot; :mod:`tcrtrack.report._sections` formats
them and :mod:`tcrtrack.report._render` lays the page out. Every string that comes from the
user (sample names, file paths, the title) is escaped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from tcrtrack._display import overlap_table
from tcrtrack.errors import ParameterError, UnitError
from tcrtrack.report import _sections as sec
from tcrtrack.report._render import SECTIONS, Report, figure, page, table
from tcrtrack.report._text import DEFINITIONS

if TYPE_CHECKING:
    from tcrtrack.cohort import Store
    from tcrtrack.tl import CloneCounts

__all__ = ["SECTIONS", "Report", "build"]


def build(
    counts: CloneCounts,
    *,
    reference: str,
    samples: Sequence[str] | None = None,
    title: str | None = None,
    ci: float = 0.95,
    top: int = 20,
    seed: int = 0,
    depth: int | None = None,
    inputs: Mapping[str, str | os.PathLike[str]] | None = None,
    baseline: str | None = None,
    timepoints: Mapping[str, object] | None = None,
    n_cells: Mapping[str, int] | None = None,
    background: Store | str | os.PathLike[str] | None = None,
    public_donors: int = 2,
    exclude_patients: Sequence[str] | None = None,
    pgen: bool = False,
) -> Report:
    """Build the report of a patient: one HTML page with every table and figure.

    Sections, each computed by a library function on ``counts``:

    1. input and settings: tcrtrack version, date (UTC), the clonotype definition, the
       reference, and for each file in ``inputs`` its size and SHA-256;
    2. the QC ledger per sample (``counts.qc.summary()``);
    3. clonotypes and cells per sample (``counts.summary()``), and the diversity of each
       sample, observed and with every sample subsampled to the smallest
       (:func:`tcrtrack.tl.diversity` with ``depth="min"``);
    4. sharing with the reference, every fraction as ``shared/total = percent [interval]``
       (:func:`tcrtrack.tl.sharing` with ``ci``);
    5. rarefied sharing (:func:`tcrtrack.tl.rarefy` at ``depth``) and the
       sharing curve (:func:`tcrtrack.tl.sharing_curve`, :func:`tcrtrack.pl.sharing_curve`);
    6. the Venn diagram of the reference and the samples (:func:`tcrtrack.tl.venn_regions`,
       :func:`tcrtrack.pl.venn`) for 2–3 samples in all, else the UpSet plot
       (:func:`tcrtrack.tl.intersections`, :func:`tcrtrack.pl.upset`);
    7. the ``top`` clones of the reference over the samples with their class
       (:func:`tcrtrack.tl.track`, :func:`tcrtrack.pl.track`);
    8. persistence (:func:`tcrtrack.tl.persist`): detection limits and reference clones
       detected / absent / undersampled per sample, the origin of each sample's clonotypes
       (product, pre-existing, baseline-only, unexplained when a ``baseline`` is given), the
       recapture by reference clone size and the trajectories over the samples
       (:func:`tcrtrack.pl.recapture`, :func:`tcrtrack.pl.origin`,
       :func:`tcrtrack.pl.trajectories`);
    9. the Morisita–Horn overlap matrix (:func:`tcrtrack.tl.overlap`,
       :func:`tcrtrack.pl.overlap_heatmap`), the baseline included;
    10. with ``background`` (a clonotype store of other donors) or ``pgen``: the public
        clones among the shared ones (:func:`tcrtrack.cohort.background`,
        :func:`tcrtrack.cohort.pgen`) — the sharing with and without them and the largest
        shared clonotypes with their background donors, flag and generation probability;
    11. definitions of every number, with formulas.

    Samples counted in **different units** (templates beside reads, reads beside UMIs): the
    presence-level sections (clonotypes per sample, sharing, shared clonotypes, Venn/UpSet,
    each sample's own diversity) are built as usual; each section that compares counts across
    samples (diversity at a common depth, rarefied sharing, top clones, persistence,
    Morisita–Horn) is replaced by a paragraph saying why it is omitted, naming the samples,
    their files and units (the :class:`~tcrtrack.errors.UnitError` the analysis raises).

    Parameters
    ----------
    counts
        Clonotype counts of the reference and the samples.
    reference
        The reference sample (the infusion product).
    samples
        Samples to compare, in time order (default: all but the reference, in order).
    title
        Page title (default: ``"tcrtrack report: <reference> vs <samples>"``).
    ci
        Level of the intervals and of the rarefaction ranges, in (0, 1).
    top
        Clones of the reference shown in the tracking table and plot.
    seed
        Seed of the bootstrap and the subsampling: the same seed gives the same page
        (apart from the date).
    depth
        Cells (or bulk units) per subsample of the rarefied sharing (default: the smallest
        compared sample, whose range then has width 0).
    inputs
        Sample name → the file it was read from, listed with size and SHA-256.
    baseline
        The patient's blood before the infusion, if sequenced: shown in the QC, sample and
        overlap tables and used for the origin of later clones; not one of ``samples``.
    timepoints
        Sample → time point, passed to :func:`tcrtrack.tl.persist` (samples at one time point
        are pooled in the trajectories; default: each sample its own time point).
    n_cells
        Cells sampled per sample counted in reads or UMIs, passed to
        :func:`tcrtrack.tl.persist` (default: estimated).
    background
        A clonotype store of other donors (:func:`tcrtrack.cohort.build`): adds the section
        on public clones.
    public_donors
        With ``background``: public = found in at least this many background donors.
    exclude_patients
        With ``background``: patients of the store not counted as background (default: the
        patients of the store's samples named like a sample of ``counts``).
    pgen
        Add each shared clonotype's generation probability (OLGA's bundled human model) to
        the section on public clones (which it adds without ``background`` too).

    Returns
    -------
    :class:`Report`; ``Report.write(path)`` saves it, ``Report.omitted`` names the sections
    left out and why.

    Raises
    ------
    tcrtrack.errors.NotFoundError
        An unknown sample, reference or baseline.
    tcrtrack.errors.ParameterError
        ``ci`` outside (0, 1), ``top`` < 1, no sample to compare, or ``samples`` repeating a
        sample, the reference or the baseline.
    tcrtrack.errors.InputError
        A file of ``inputs`` cannot be read.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> report = tt.report.build(counts, reference="a", top=5)
    >>> report.html.startswith("<!DOCTYPE html>"), "Sharing with the reference" in report.html
    (True, True)
    """
    import tcrtrack as tt

    if not 0 < ci < 1:
        msg = f"ci must be a level between 0 and 1 (e.g. 0.95), got {ci!r}"
        raise ParameterError(msg)
    if int(top) < 1:
        msg = f"top must be a positive number of clones, got {top!r}"
        raise ParameterError(msg)
    counts.index(reference)  # an unknown name: NotFoundError listing the samples
    if samples is None:
        others = [x for x in counts.samples if x not in (reference, baseline)]
    else:
        others = list(samples)
    if reference in others or baseline in others or len(set(others)) != len(others):
        roles = f"the reference {reference!r}" + (
            f" and the baseline {baseline!r}" if baseline is not None else ""
        )
        msg = f"samples must be distinct and leave out {roles}, got {list(others)!r}"
        raise ParameterError(msg)
    names = [reference, *others]
    every = [reference] + ([baseline] if baseline is not None else []) + list(others)
    if title is None:
        title = f"tcrtrack report: {reference} vs {', '.join(others)}"

    result = tt.tl.sharing(counts, reference=reference, samples=others, ci=ci, seed=seed)
    parts: dict[str, str] = {}
    omitted: dict[str, str] = {}  # section heading -> why the page leaves it out
    parts["header"] = sec.header(counts, reference, others, ci, seed, inputs, baseline)
    parts["qc"] = (
        "<p>Rows read, dropped per reason and kept, per sample (<code>cells_*</code>: cells "
        "without a chain of the locus, counted in cells).</p>" + table(sec.qc_table(counts, every))
    )
    summary = counts.summary().loc[every]
    parts["samples"] = table(summary.map(lambda v: v if isinstance(v, str) else f"{int(v):,}"))
    parts["diversity"] = _or_omitted(
        f"{SECTIONS['diversity']}, at a common depth",
        omitted,
        lambda: sec.diversity(
            tt.tl.diversity(counts, samples=every, depth="min", seed=seed, ci=ci)
        ),
        # samples of different units: each sample's own indices, without the common depth
        lambda: sec.diversity(tt.tl.diversity(counts, samples=every, ci=ci)),
    )
    parts["sharing"] = sec.sharing(result)
    parts["rarefied"] = _or_omitted(
        SECTIONS["rarefied"], omitted, lambda: _rarefied(counts, reference, others, depth, ci, seed)
    )
    parts["regions"] = sec.regions(counts, names)
    parts["track"] = _or_omitted(
        SECTIONS["track"], omitted, lambda: _track(counts, reference, names, int(top))
    )
    parts["persistence"] = _or_omitted(
        SECTIONS["persistence"],
        omitted,
        lambda: sec.persistence(
            tt.tl.persist(
                counts,
                reference=reference,
                baseline=baseline,
                samples=others,
                timepoints=timepoints,
                n_cells=n_cells,
                ci=ci,
            )
        ),
    )
    parts["overlap"] = _or_omitted(SECTIONS["overlap"], omitted, lambda: _overlap(counts, every))
    if background is not None or pgen:
        parts["public"] = sec.public(
            counts,
            reference,
            others,
            background=background,
            public_donors=public_donors,
            exclude_patients=exclude_patients,
            pgen=pgen,
            top=int(top),
        )
    parts["definitions"] = DEFINITIONS
    return page(title, parts, omitted)


def _or_omitted(
    heading: str,
    omitted: dict[str, str],
    section: Callable[[], str],
    fallback: Callable[[], str] | None = None,
) -> str:
    """The HTML of ``section``; when it compares counts across samples of different units
    (:class:`~tcrtrack.errors.UnitError`), why it is omitted (the samples, files and units),
    after what ``fallback`` can still show, and the reason recorded in ``omitted`` under
    ``heading`` (:attr:`Report.omitted`)."""
    try:
        return section()
    except UnitError as e:
        omitted[heading] = str(e)
        shown = fallback() if fallback is not None else ""
        return shown + sec.omitted(e)


def _rarefied(
    counts: CloneCounts,
    reference: str,
    others: list[str],
    depth: int | None,
    ci: float,
    seed: int,
) -> str:
    import tcrtrack as tt

    rarefied = tt.tl.rarefy(
        counts, reference=reference, samples=others, depth=depth, ci=ci, seed=seed
    )
    curve = tt.tl.sharing_curve(counts, reference=reference, samples=others, ci=ci, seed=seed)
    return sec.rarefied(rarefied) + figure(
        lambda ax: tt.pl.sharing_curve(curve, ax=ax),
        "Sharing curve: mean share of each sample's clonotypes found in the reference versus "
        f"the {curve.unit} subsampled (band: central {curve.ci:.0%} range of {curve.n} "
        "subsamples).",
        (7, 4),
    )


def _track(counts: CloneCounts, reference: str, names: list[str], top: int) -> str:
    import tcrtrack as tt

    tracked = tt.tl.track(counts, samples=names, reference=reference, top=top)
    return sec.track(tracked) + figure(
        lambda ax: sec.tilt(tt.pl.track(tracked, ax=ax), len(names) > 4),
        f"Frequency of the {len(tracked.sizes)} largest clones of the reference in each sample.",
        (max(8.0, 3.0 + 0.8 * len(names)), 4.2),
    )


def _overlap(counts: CloneCounts, every: list[str]) -> str:
    import tcrtrack as tt

    mh = tt.tl.overlap(counts, metric="morisita_horn", samples=every)
    return table(overlap_table(mh)) + figure(
        lambda ax: tt.pl.overlap_heatmap(mh, ax=ax),
        "Morisita–Horn index between every pair of samples (1: same clone-size "
        "distribution; 0: no common clonotype).",
        (2.4 + 0.75 * len(every), 1.6 + 0.6 * len(every)),
    )
