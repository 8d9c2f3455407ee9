"""The sections of the report: each formats the result of a ``tt.tl`` function (and draws a
``tt.pl`` plot) without computing anything itself. User strings are escaped."""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import pandas as pd

from tcrtrack._version import __version__
from tcrtrack.io import file_digest
from tcrtrack.report._render import figure as _figure
from tcrtrack.report._render import table as _table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from tcrtrack.tl import CloneCounts, Diversity, Persistence, Rarefaction, Sharing, Track


def header(
    counts: CloneCounts,
    reference: str,
    others: list[str],
    ci: float,
    seed: int,
    inputs: Mapping[str, str | os.PathLike[str]] | None,
    baseline: str | None = None,
) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = [
        ("tcrtrack", __version__),
        ("Date", now),
        ("Clonotype", str(counts.spec)),
        ("Unit", _units(counts, [reference, *([baseline] if baseline else []), *others])),
        ("Reference", reference),
        ("Baseline", baseline if baseline is not None else "none"),
        ("Samples", ", ".join(others)),
        ("Intervals", f"{ci:.0%}; seed {seed}"),
    ]
    html = '<dl class="meta">' + "".join(
        f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in meta
    )
    html += "</dl>"
    if inputs:
        rows = []
        for sample, path in inputs.items():
            size, digest = file_digest(path)
            rows.append(
                {"sample": sample, "file": str(path), "bytes": f"{size:,}", "sha256": digest}
            )
        html += "<h3>Input files</h3>" + _table(pd.DataFrame(rows).set_index("sample"))
    return html


def _units(counts: CloneCounts, names: list[str]) -> str:
    """The samples' unit; for samples of different units, each unit with its samples."""
    units = {counts.unit_of(x) for x in names}
    if len(units) == 1:
        return units.pop()
    return counts.unit_listing(names)


def omitted(error: Exception) -> str:
    """The paragraph standing for a section that compares counts across samples of different
    units: the error's message names the samples, their files and units, and the fix."""
    return (
        '<p class="omitted"><b>Omitted:</b> '
        f"{escape(str(error))}. The presence-level sections (sharing, shared clonotypes) "
        "do not depend on the unit and are shown.</p>"
    )


def qc_table(counts: CloneCounts, names: list[str]) -> pd.DataFrame:
    """The ledger summary of the report's samples: one column per sample, one row per count."""
    summary = counts.qc.summary()
    keep = [x for x in names if x in summary.index]
    return summary.loc[keep].T


def sharing(result: Sharing) -> str:
    """The tables of :meth:`Sharing.display_tables` (the ones ``tcrtrack share`` prints)."""
    ref = result.reference
    # samples of different units: each count-weighted value is labelled with its unit
    unit = "units" if result.mixed_units else result.unit
    tables = result.display_tables()
    first = result.table.iloc[0]
    return (
        f"<p>Reference <b>{escape(ref)}</b>: {int(first.n_reference_clonotypes):,} clonotypes, "
        f"{int(first.n_reference_cells):,} {escape(result.units[ref])}. Every fraction is "
        "shown as "
        f"shared/total = percent [{result.ci:.0%} interval: {escape(str(result.method))} for "
        f"clonotype fractions, bootstrap over {escape(unit)} for fractions of "
        f"{escape(unit)}].{_mixed_note(result)}</p>"
        f"<h3>Each sample's clonotypes and {escape(unit)} found in {escape(ref)}</h3>"
        + _table(tables["samples"])
        + f"<h3>{escape(ref)} clonotypes and {escape(unit)} found again in each sample</h3>"
        + _table(tables["reference"])
    )


def _mixed_note(result: Sharing) -> str:
    if not result.mixed_units:
        return ""
    listing = ", ".join(f"{escape(x)}: {escape(u)}" for x, u in result.units.items())
    return (
        f" The samples count in different units ({listing}): each sample's count-weighted "
        "fractions are in its own unit, as labelled."
    )


def rarefied(rarefied: Rarefaction) -> str:
    """The table of :meth:`Rarefaction.display_table` (the one ``tcrtrack share --rarefy``
    prints)."""
    return (
        f"<p>Every sample subsampled to {rarefied.depth:,} without replacement, "
        f"{rarefied.n} times (seed {rarefied.seed}); mean [central {rarefied.ci:.0%} range]. "
        "The reference is kept whole. A sample of exactly that depth is its own subsample: "
        "its range has width 0 (the range reflects subsampling only).</p>"
        + _table(rarefied.display_table())
    )


def regions(counts: CloneCounts, names: list[str]) -> str:
    import tcrtrack as tt

    if len(names) <= 3:
        regions = tt.tl.venn_regions(counts, names)
        frame = regions.to_frame()
        caption = (
            "Venn diagram: clonotypes found in exactly each combination of samples "
            "(each circle's label gives the sample's clonotype total)."
        )
        figure = _figure(lambda ax: tt.pl.venn(regions, ax=ax), caption, (6, 5))
    else:
        every = tt.tl.intersections(counts, names)
        frame = every.iloc[:_MAX_BARS]
        caption = "UpSet plot: clonotypes found in exactly each combination of samples"
        if len(every) > len(frame):
            caption += f" (the {len(frame)} largest of {len(every)} combinations)"
        caption += "."
        figure = _figure(
            lambda ax: tt.pl.upset(frame, ax=ax, max_bars=None),
            caption,
            (3.0 + 0.35 * len(frame), 2.5 + 0.25 * len(names)),
        )
        member = frame[names].to_numpy(dtype=bool)
        listing = pd.DataFrame(
            {
                "samples": [
                    " + ".join(n for n, m in zip(names, row, strict=True) if m) for row in member
                ],
                "clonotypes": [f"{int(v):,}" for v in frame["n_clonotypes"]],
            },
            index=pd.RangeIndex(1, len(frame) + 1, name="combination"),
        )
        return figure + _table(listing)
    marks = frame[names].map(lambda v: "●" if v else "")
    marks["clonotypes"] = [f"{int(v):,}" for v in frame["n_clonotypes"]]
    marks.index = pd.RangeIndex(1, len(marks) + 1, name="region")
    return figure + _table(marks)


#: Combinations shown in the UpSet plot and its table beyond 3 samples.
_MAX_BARS = 30


def tilt(ax: Axes, tilt: bool) -> Axes:
    """Slant the sample names under a plot with many samples so that they do not overlap."""
    if tilt:
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    return ax


def track(tracked: Track) -> str:
    """The table of :meth:`Track.display_table` (the one ``tcrtrack track`` prints)."""
    frame = tracked.display_table()
    test = (
        "Fisher's exact test"
        if tracked.test == "fisher"
        else "beta-binomial test, dispersion "
        + ", ".join(f"{escape(x)} {phi:.3g}" for x, phi in tracked.dispersion.items())
    )
    return (
        f"<p>The {len(frame)} largest clones of <b>{escape(tracked.reference)}</b>: count in "
        f"{escape(tracked.unit)} (frequency) per sample, and against each later sample the "
        f"presence (shared, new, lost) and the change call ({test}, Benjamini–Hochberg "
        f"q &lt; {tracked.alpha}, at least {tracked.min_count} {escape(tracked.unit)} in the "
        "larger sample).</p>" + _table(frame)
    )


def persistence(result: Persistence) -> str:
    """The tables of :meth:`Persistence.display_tables` (the ones ``tcrtrack persist``
    prints) and the recapture, origin and trajectory plots."""
    import tcrtrack as tt

    ref, unit = escape(result.reference), escape(result.unit)
    level = f"{result.detection_level:.0%}"
    tables = result.display_tables()
    if result.baseline is None:
        roles = (
            "<p>No baseline (blood before the infusion) was given: clones of the product "
            f"cannot be told from clones already in the blood; origin <i>reference</i> = in "
            f"{ref}.</p>"
        )
    else:
        roles = (
            f"<p>Baseline <b>{escape(result.baseline)}</b>: the blood before the infusion. "
            f"Origin of a later clonotype: <i>product</i> (in {ref}, not in the baseline), "
            f"<i>pre-existing</i> (in both), <i>baseline-only</i>, <i>unexplained</i> "
            "(in neither).</p>"
        )
    n = len(result.samples)
    return (
        roles + f"<h3>Detection of {ref} clonotypes in each later sample</h3>"
        f"<p>LOD: the clone frequency seen with {level} probability in the sample; "
        f"<i>absent</i>: not seen although it would have been with {level} probability at "
        f"its {ref} frequency; <i>undersampled</i>: not seen, could have been missed; "
        "<i>expected if unchanged</i>: the number detected had every clone kept its "
        f"frequency ({result.ci:.0%} exact intervals).</p>"
        + _table(tables["detection"])
        + f"<h3>Origin of each later sample's clonotypes (clonotypes; {unit})</h3>"
        + _table(tables["origin"])
        + _figure(
            lambda ax: tt.pl.origin(result, ax=ax),
            f"Origin of each later sample's clonotypes (fractions of its {result.unit}).",
            (5.5 + 0.6 * n, 4),
        )
        + f"<h3>Recapture by {ref} clone size</h3>"
        "<p>Detected / clonotypes of that size (expected if every clone had kept its "
        "frequency: depth alone). Observed below expected is evidence of loss.</p>"
        + _table(tables["recapture"])
        + _figure(
            lambda ax: tt.pl.recapture(result, ax=ax),
            f"Fraction of {result.reference} clonotypes detected in each later sample by their "
            f"size in {result.reference} (bars: {result.ci:.0%} exact intervals), beside the "
            "fraction expected from depth alone (dashed).",
            (7, 4),
        )
        + f"<h3>Trajectories over the later time points "
        f"({escape(', '.join(result.timepoints))})</h3>"
        + _table(tables["trajectories"])
        + _figure(
            lambda ax: tilt(tt.pl.trajectories(result, ax=ax), n > 4),
            f"Frequency of the largest {result.reference} clones at each time point.",
            (max(7.0, 3.0 + 0.8 * n), 4),
        )
    )


def diversity(result: Diversity) -> str:
    """The tables of :meth:`Diversity.display_tables` (the ones ``tcrtrack diversity``
    prints): observed, then at the common depth."""
    tables = result.display_tables()
    unit = escape("/".join(result.units))
    html = (
        "<p>Richness: distinct clonotypes; Shannon entropy (natural log); clonality = 1 − "
        "Shannon / ln(richness) (NA for one clonotype); Simpson = Σ<i>p</i><sup>2</sup>; "
        "Gini coefficient of the clone sizes; D50: the fewest clonotypes, largest first, that "
        f"hold at least half of the sample's {unit} (and their % of the richness).</p>"
        + _table(tables["observed"])
    )
    if result.depth is not None:
        html += (
            f"<h3>At a common depth of {result.depth:,} {unit}</h3>"
            "<p>Richness, Shannon entropy and D50 grow with the number sequenced: every "
            f"sample subsampled without replacement to the smallest one, {result.n_repeats} "
            f"times (seed {result.seed}); mean [central {result.ci:.0%} range].</p>"
            + _table(tables["rarefied"])
        )
    return html


def public(
    counts: CloneCounts,
    reference: str,
    others: list[str],
    *,
    background: Any,
    public_donors: int,
    exclude_patients: Sequence[str] | None,
    pgen: bool,
    top: int,
) -> str:
    """Public clones among the shared ones (:func:`tcrtrack.cohort.background`): the sharing
    with and without them (:meth:`Background.display_table`, as ``tcrtrack share
    --background`` prints it) and the ``top`` largest shared clonotypes with their background
    donors and Pgen (:func:`tcrtrack._display.publicity_table`; Pgen computed for those only)."""
    import tcrtrack as tt
    from tcrtrack._display import publicity_table

    if background is None:
        clones, result = tt.tl.shared_clonotypes(counts, reference=reference, samples=others), None
    else:
        result = tt.cohort.background(
            counts,
            reference=reference,
            store=background,
            public_donors=public_donors,
            exclude_patients=exclude_patients,
            samples=others,
        )
        clones = result.clonotypes
    shown = clones.head(top).copy()
    if pgen:  # only for the clonotypes shown (OLGA takes ~30 ms per junction)
        shown["pgen"] = tt.cohort.pgen(
            shown["junction_aa"].astype(str).tolist(), locus=counts.spec.locus
        )
    ref = escape(reference)
    html = ""
    if result is not None:
        where = getattr(background, "path", background)  # a Store or its folder
        html += (
            f"<p>Background: the clonotype store <code>{escape(str(where))}</code>; "
            f"{escape(result.describe())}. A public clonotype is shared between unrelated "
            "people by convergent recombination, so its presence in both the product and "
            "the blood is weak evidence of persistence; the sharing without public "
            "clonotypes counts only the others.</p>"
            f"<h3>Clonotypes shared with {ref}, public ones, and the sharing without public "
            "clonotypes</h3>" + _table(result.display_table())
        )
    words = []
    if result is not None:
        words.append("the background donors containing it and whether it is public")
    if pgen:
        words.append("its generation probability (OLGA, bundled human model)")
    html += (
        f"<h3>Shared clonotypes ({len(shown)} of {len(clones)}, largest in {ref} first)</h3>"
        f"<p>Each clonotype of {ref} found again in a sample, with "
        + escape(" and ".join(words))
        + ".</p>"
        + _table(publicity_table(shown).set_index("clonotype"))
    )
    return html
