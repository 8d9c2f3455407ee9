"""``tt.report.build``: lay the results of ``tt.tl`` and the plots of ``tt.pl`` out as one page.

The builder computes nothing itself: every number comes from a :mod:`tcrtrack.tl` function
and every figure from a :mod:`tcrtrack.pl` plot; this module only formats them. Every string
that comes from the user (sample names, file paths, the title) is escaped.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tcrtrack._version import __version__
from tcrtrack.errors import InputError
from tcrtrack.report._text import DEFINITIONS, STYLE

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from tcrtrack.tl import CloneCounts

__all__ = ["SECTIONS", "Report", "build"]

#: Section headings, in page order (ids are the keys).
SECTIONS = {
    "header": "Input and settings",
    "qc": "QC ledger",
    "samples": "Clonotypes and cells per sample",
    "sharing": "Sharing with the reference",
    "rarefied": "Rarefied sharing (depth-fair)",
    "regions": "Shared clonotypes between samples",
    "track": "Top clones of the reference over samples",
    "overlap": "Repertoire overlap (Morisita–Horn)",
    "definitions": "Definitions",
}


@dataclass(frozen=True)
class Report:
    """A report page.

    Attributes
    ----------
    html
        The whole page: one self-contained HTML document (figures embedded, no script,
        no external link).
    fragment
        The page's content without ``<html>``/``<head>``, for embedding (the notebook view).
    title
        The page title (unescaped).
    """

    html: str
    fragment: str
    title: str

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path.

        Raises
        ------
        tcrtrack.errors.InputError
            The file cannot be written (its folder is missing or not writable).
        """
        target = Path(path)
        try:
            target.write_text(self.html, encoding="utf-8")
        except OSError as e:
            msg = (
                f"{str(target)!r}: cannot write the report ({e.strerror or e}); "
                "check that the folder exists and is writable, or choose another path"
            )
            raise InputError(msg) from None
        return target

    def _repr_html_(self) -> str:
        return self.fragment


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
) -> Report:
    """Build the report of a patient: one HTML page with every table and figure.

    Sections, each computed by a library function on ``counts``:

    1. input and settings: tcrtrack version, date (UTC), the clonotype definition, the
       reference, and for each file in ``inputs`` its size and SHA-256;
    2. the QC ledger per sample (``counts.qc.summary()``);
    3. clonotypes and cells per sample (``counts.summary()``);
    4. sharing with the reference, every fraction as ``shared/total = percent [interval]``
       (:func:`tcrtrack.tl.sharing` with ``ci``);
    5. rarefied sharing (:func:`tcrtrack.tl.rarefy` at ``depth``) and the
       sharing curve (:func:`tcrtrack.tl.sharing_curve`, :func:`tcrtrack.pl.sharing_curve`);
    6. the Venn diagram of the reference and the samples (:func:`tcrtrack.tl.venn_regions`,
       :func:`tcrtrack.pl.venn`) for 2–3 samples in all, else the UpSet plot
       (:func:`tcrtrack.tl.intersections`, :func:`tcrtrack.pl.upset`);
    7. the ``top`` clones of the reference over the samples with their class
       (:func:`tcrtrack.tl.track`, :func:`tcrtrack.pl.track`);
    8. the Morisita–Horn overlap matrix (:func:`tcrtrack.tl.overlap`,
       :func:`tcrtrack.pl.overlap_heatmap`);
    9. definitions of every number, with formulas.

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

    Returns
    -------
    :class:`Report`; ``Report.write(path)`` saves it.

    Raises
    ------
    KeyError
        An unknown sample or reference.
    ValueError
        ``ci`` outside (0, 1), ``top`` < 1, or no sample to compare.
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
        raise ValueError(msg)
    if int(top) < 1:
        msg = f"top must be a positive number of clones, got {top!r}"
        raise ValueError(msg)
    from tcrtrack.tl._sharing import _check_reference

    others = _check_reference(counts, reference, samples)
    names = [reference, *others]
    if title is None:
        title = f"tcrtrack report: {reference} vs {', '.join(others)}"

    result = tt.tl.sharing(counts, reference=reference, samples=others, ci=ci, seed=seed)
    rarefied = tt.tl.rarefy(
        counts, reference=reference, samples=others, depth=depth, ci=ci, seed=seed
    )
    curve = tt.tl.sharing_curve(counts, reference=reference, samples=others, ci=ci, seed=seed)
    tracked = tt.tl.track(counts, samples=names, reference=reference, top=int(top))
    mh = tt.tl.overlap(counts, metric="morisita_horn", samples=names)

    parts: dict[str, str] = {}
    parts["header"] = _header(counts, reference, others, ci, seed, inputs)
    parts["qc"] = (
        "<p>Rows read, dropped per reason and kept, per sample (<code>cells_*</code>: cells "
        "without a chain of the locus, counted in cells).</p>" + _table(_qc_table(counts, names))
    )
    summary = counts.summary().loc[names]
    parts["samples"] = _table(summary.map(lambda v: f"{int(v):,}"))
    parts["sharing"] = _sharing(result)
    parts["rarefied"] = _rarefied(rarefied, counts.unit) + _figure(
        lambda ax: tt.pl.sharing_curve(curve, ax=ax).set_xlabel(
            f"depth ({counts.unit} per subsample)"
        ),
        "Sharing curve: mean share of each sample's clonotypes found in the reference versus "
        f"the {counts.unit} subsampled (band: central {curve.ci:.0%} range of {curve.n} "
        "subsamples).",
        (7, 4),
    )
    parts["regions"] = _regions(counts, names)
    parts["track"] = _track(tracked) + _figure(
        lambda ax: _tilt(tt.pl.track(tracked, ax=ax), len(names) > 4),
        f"Frequency of the {len(tracked.counts)} largest clones of the reference in each sample.",
        (max(8.0, 3.0 + 0.8 * len(names)), 4.2),
    )
    parts["overlap"] = _table(mh.map(lambda v: "NA" if pd.isna(v) else f"{v:.3f}")) + _figure(
        lambda ax: tt.pl.overlap_heatmap(mh, ax=ax),
        "Morisita–Horn index between every pair of samples (1: same clone-size "
        "distribution; 0: no common clonotype).",
        (2.4 + 0.75 * len(names), 1.6 + 0.6 * len(names)),
    )
    parts["definitions"] = DEFINITIONS
    return _page(title, parts)


# --- sections -------------------------------------------------------------------------------


def _header(
    counts: CloneCounts,
    reference: str,
    others: list[str],
    ci: float,
    seed: int,
    inputs: Mapping[str, str | os.PathLike[str]] | None,
) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = [
        ("tcrtrack", __version__),
        ("Date", now),
        ("Clonotype", str(counts.spec)),
        ("Unit", counts.unit),
        ("Reference", reference),
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
            size, digest = _file_facts(Path(path))
            rows.append(
                {"sample": sample, "file": str(path), "bytes": f"{size:,}", "sha256": digest}
            )
        html += "<h3>Input files</h3>" + _table(pd.DataFrame(rows).set_index("sample"))
    return html


def _qc_table(counts: CloneCounts, names: list[str]) -> pd.DataFrame:
    """The ledger summary of the report's samples: one column per sample, one row per count."""
    summary = counts.qc.summary()
    keep = [x for x in names if x in summary.index]
    return summary.loc[keep].T


def _file_facts(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as e:
        msg = f"{str(path)!r}: cannot read the input file to hash it ({e.strerror or e})"
        raise InputError(msg) from None
    return path.stat().st_size, digest.hexdigest()


def _pct(num: int, den: int, low: Any = None, high: Any = None) -> str:
    if not den:
        return f"{num:,}/0 = NA"
    text = f"{num:,}/{den:,} = {100 * num / den:.2f}%"
    if low is not None and not pd.isna(low) and not pd.isna(high):
        text += f" [{100 * low:.2f}–{100 * high:.2f}%]"
    return text


def _sharing(result: Any) -> str:
    ref, unit = result.reference, result.unit
    t = result.table
    sample_view = pd.DataFrame(
        {
            "clonotypes": [f"{int(v):,}" for v in t["n_clonotypes"]],
            unit: [f"{int(v):,}" for v in t["n_cells"]],
            f"clonotypes shared with {ref}": [
                _pct(
                    int(r.n_shared),
                    int(r.n_clonotypes),
                    r.get("frac_clonotypes_shared_low"),
                    r.get("frac_clonotypes_shared_high"),
                )
                for _, r in t.iterrows()
            ],
            f"{unit} in shared clonotypes": [
                _pct(
                    int(r.n_cells_shared),
                    int(r.n_cells),
                    r.get("frac_cells_shared_low"),
                    r.get("frac_cells_shared_high"),
                )
                for _, r in t.iterrows()
            ],
        },
        index=t.index,
    )
    reference_view = pd.DataFrame(
        {
            f"{ref} clonotypes found": [
                _pct(
                    int(r.n_shared),
                    int(r.n_reference_clonotypes),
                    r.get("frac_reference_clonotypes_detected_low"),
                    r.get("frac_reference_clonotypes_detected_high"),
                )
                for _, r in t.iterrows()
            ],
            f"{ref} {unit} found": [
                _pct(
                    int(r.n_reference_cells_detected),
                    int(r.n_reference_cells),
                    r.get("frac_reference_cells_detected_low"),
                    r.get("frac_reference_cells_detected_high"),
                )
                for _, r in t.iterrows()
            ],
        },
        index=t.index,
    )
    first = t.iloc[0]
    return (
        f"<p>Reference <b>{escape(ref)}</b>: {int(first.n_reference_clonotypes):,} clonotypes, "
        f"{int(first.n_reference_cells):,} {escape(unit)}. Every fraction is shown as "
        f"shared/total = percent [{result.ci:.0%} interval: {escape(str(result.method))} for "
        f"clonotype fractions, bootstrap over {escape(unit)} for fractions of "
        f"{escape(unit)}].</p>"
        f"<h3>Each sample's clonotypes and {escape(unit)} found in {escape(ref)}</h3>"
        + _table(sample_view)
        + f"<h3>{escape(ref)} clonotypes and {escape(unit)} found again in each sample</h3>"
        + _table(reference_view)
    )


def _rarefied(rarefied: Any, unit: str) -> str:
    labels = {
        "frac_clonotypes_shared": "clonotypes shared with reference",
        "frac_cells_shared": f"{unit} in shared clonotypes",
        "frac_reference_clonotypes_detected": "reference clonotypes found",
        "frac_reference_cells_detected": f"reference {unit} found",
    }
    t = rarefied.table
    view = pd.DataFrame(
        {
            label: [
                f"{100 * m:.2f}% [{100 * lo:.2f}–{100 * hi:.2f}%]"
                for m, lo, hi in zip(t[frac], t[f"{frac}_low"], t[f"{frac}_high"], strict=True)
            ]
            for frac, label in labels.items()
        },
        index=t.index,
    )
    return (
        f"<p>Every sample subsampled to {rarefied.depth:,} without replacement, "
        f"{rarefied.n} times (seed {rarefied.seed}); mean [central {rarefied.ci:.0%} range]. "
        "The reference is kept whole. A sample of exactly that depth is its own subsample: "
        "its range has width 0 (the range reflects subsampling only).</p>" + _table(view)
    )


def _regions(counts: CloneCounts, names: list[str]) -> str:
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


def _tilt(ax: Axes, tilt: bool) -> Axes:
    """Slant the sample names under a plot with many samples so that they do not overlap."""
    if tilt:
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    return ax


def _track(tracked: Any) -> str:
    later = [x for x in tracked.samples if x != tracked.reference]
    classes = tracked.classes()
    qvalues = tracked.tests.pivot(index="clonotype", columns="sample", values="qvalue")
    aa = "junction_aa" in tracked.clonotypes.columns
    data: dict[str, list[str]] = {"CDR3 (aa)": []} if aa else {}
    for x in tracked.samples:
        data[x] = []
    for x in later:
        data[f"vs {x}"] = []
    data["clonotype"] = []
    for i, clone in enumerate(tracked.counts.index):
        if aa:
            data["CDR3 (aa)"].append(str(tracked.clonotypes["junction_aa"].iloc[i]))
        data["clonotype"].append(str(clone))
        for x in tracked.samples:
            n = int(tracked.counts.loc[clone, x])
            data[x].append(f"{n:,} ({100 * tracked.frequencies.loc[clone, x]:.2f}%)")
        for x in later:
            q = qvalues.loc[clone, x]
            data[f"vs {x}"].append(
                str(classes.loc[clone, x]) + ("" if pd.isna(q) else f" (q={q:.2g})")
            )
    frame = pd.DataFrame(data, index=pd.RangeIndex(1, len(tracked.counts) + 1, name="rank"))
    return (
        f"<p>The {len(frame)} largest clones of <b>{escape(tracked.reference)}</b>: count in "
        f"{escape(tracked.unit)} (frequency) per sample, and the class against each later "
        f"sample (Fisher's exact test, Benjamini–Hochberg q &lt; {tracked.alpha}, at least "
        f"{tracked.min_count} {escape(tracked.unit)} in the larger sample).</p>" + _table(frame)
    )


# --- rendering ------------------------------------------------------------------------------


def _table(frame: pd.DataFrame) -> str:
    """An escaped HTML table of ``frame`` (numbers formatted with thousands separators)."""
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_integer_dtype(shown[col].dtype):
            shown[col] = shown[col].map(lambda v: f"{int(v):,}")
    if shown.index.name is not None:  # the index name as the corner cell, not a second row
        shown.columns = pd.MultiIndex.from_arrays([list(map(str, shown.columns))])
        shown.columns.names = [str(shown.index.name)]
        shown.index.name = None
    html = shown.to_html(escape=True, border=0, na_rep="NA")
    return f'<div class="scroll">{html}</div>'


def _figure(draw: Callable[[Axes], Any], caption: str, size: tuple[float, float]) -> str:
    """Draw with ``draw(ax)`` on a new Agg figure; embed it as a base64 SVG ``<img>``."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # a fixed salt makes the SVG ids, hence the page, the same on every run
    with matplotlib.rc_context({"svg.hashsalt": "tcrtrack"}):
        fig = Figure(figsize=size)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        draw(ax)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        fig.clear()
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure><img alt="{escape(caption)}" src="data:image/svg+xml;base64,{data}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _page(title: str, parts: dict[str, str]) -> Report:
    nav = "".join(
        f'<li><a href="#{key}">{escape(heading)}</a></li>' for key, heading in SECTIONS.items()
    )
    body = "".join(
        f'<section id="{key}"><h2>{escape(SECTIONS[key])}</h2>{parts[key]}</section>'
        for key in SECTIONS
    )
    fragment = (
        f'<div class="tcrtrack-report"><style>{STYLE}</style><h1>{escape(title)}</h1>'
        f"<nav><ol>{nav}</ol></nav>{body}</div>"
    )
    html = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="tcrtrack {escape(__version__)}">\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n{fragment}\n</body>\n</html>\n"
    )
    return Report(html=html, fragment=fragment, title=title)
