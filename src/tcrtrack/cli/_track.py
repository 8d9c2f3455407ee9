"""``tcrtrack track``: follow the reference's clones over later samples, with per-clone tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tcrtrack.cli import _background, _common, _sheet
from tcrtrack.schema import TRACK_TESTS

if TYPE_CHECKING:
    from tcrtrack.schema import TrackTest
    from tcrtrack.tl import CloneCounts, ClonotypeSpec, Track


def register(group: click.Group) -> None:
    group.add_command(track)


def render_track(result: Track) -> str:
    """The human table (:meth:`Track.display_table`, shared with the report): per clone, its
    clonotype key (the amino acids beside it when the clonotypes are nucleotide sequences), the
    count and frequency per sample, then its presence and change call."""
    later = [x for x in result.samples if x != result.reference]
    if result.test == "fisher":
        test = "Fisher's exact test"
    else:
        phis = ", ".join(f"{x} {result.dispersion[x]:.3g}" for x in later)
        test = f"beta-binomial test (dispersion {phis})"
    header = (
        f"Reference: {result.reference}. Clones ordered by size in the reference; counts in "
        f"{result.unit} (frequency). Vs each sample: presence (shared/new/lost), then the "
        f"change call: {test}, Benjamini-Hochberg q < {result.alpha}, at least "
        f"{result.min_count} {result.unit} in the larger sample."
    )
    return header + "\n" + result.display_table().to_string(index_names=False)


@click.command("track")
@_sheet.reference_and_samples
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Show the N largest clones of the reference (0: every clone).",
)
@click.option(
    "--test",
    type=click.Choice(TRACK_TESTS),
    default=None,
    help="Per-clone test of change from REF, two-sided: fisher (Fisher's exact test, for "
    "cells and templates) or betabinomial (calibrated for overdispersed reads and UMIs). "
    "Default: betabinomial for reads/UMIs, fisher otherwise.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="False-discovery rate (Benjamini-Hochberg) for calling a clone expanded/contracted.",
)
@_common.format_option
@_common.output_option
@_common.figure_option("--plot", "Draw the clones' frequencies over the samples")
@_background.background_options
def track(
    reference: Path | None,
    samples: tuple[Path, ...],
    name: tuple[str, ...],
    sheet: Path | None,
    spec: ClonotypeSpec,
    top: int,
    test: TrackTest,
    alpha: float,
    fmt: str,
    output: Path | None,
    plot: Path | None,
    background: _background.Options,
) -> None:
    """Follow the clones of the reference REF (the infusion product) over later SAMPLEs.

    Prints, for the largest clones of REF, the count and frequency in every sample and the
    clone's class against each SAMPLE: persistent, expanded or contracted (Fisher's exact
    test of the clone against the rest of each sample, Benjamini-Hochberg over all clones),
    new or lost. Samples are given in time order; names given with -n apply to REF first.

    With --samples SHEET instead of files, each patient's samples are followed from that
    patient's reference row, in time-point order, one block per patient (--plot then writes
    one file per patient, the patient's name added to the file name).

    With --background STORE, each tracked clone gets n_background_donors (the store's other
    patients containing it) and public (in at least --public-donors K of them); --pgen adds
    its generation probability (OLGA).

    \b
    Examples:
      tcrtrack track infusion.csv day30.csv day90.csv --top 10 --plot clones.png
      tcrtrack track infusion.csv day30.csv --top 0 --format tsv -o clones.tsv
      tcrtrack track --samples cohort.tsv --top 5
      tcrtrack track infusion.csv day30.csv --background donors/ --pgen
    """
    cohort = _sheet.open_sheet(sheet, [p for p in (reference, *samples) if p is not None], name)
    if cohort is not None:
        _sheet.require_references(cohort)
        blocks = []
        for patient in cohort.patients:
            counts, names = _sheet.patient_counts(cohort, patient, spec)
            if len(names) < 2:
                raise _common.usage_error(
                    f"{cohort.path}: patient {patient!r} has one sample; track needs the "
                    "reference and at least one later sample"
                )
            result = _track(counts, names, top, test, alpha)
            meta = _meta(result, alpha)
            frame, text = result.to_frame(), render_track(result)
            if background.active:
                frame, text = _background.add_track(
                    counts, result, background, frame, text, meta, patient
                )
            blocks.append(_common.Block(patient, frame, text, meta))
            if plot is not None:
                _plot(
                    counts,
                    names,
                    result,
                    top,
                    test,
                    alpha,
                    _common.per_patient(plot, patient),
                )
        _common.emit("track", str(spec), blocks, fmt, output)
        return
    if reference is None or not samples:
        raise _common.usage_error("give the reference file and at least one later sample file")
    paths = [reference, *samples]
    names = _common.sample_names(paths, list(name))
    counts = _common.load_counts(paths, names, spec)
    result = _track(counts, names, top, test, alpha)
    meta = _meta(result, alpha)
    frame, text = result.to_frame(), render_track(result)
    if background.active:
        frame, text = _background.add_track(counts, result, background, frame, text, meta)
    _common.emit("track", str(spec), [_common.Block(None, frame, text, meta)], fmt, output)
    if plot is not None:
        _plot(counts, names, result, top, test, alpha, plot)


def _track(counts: CloneCounts, names: list[str], top: int, test: TrackTest, alpha: float) -> Track:
    """``tt.tl.track`` of ``names`` (time order), the first being the reference."""
    import tcrtrack as tt

    return tt.tl.track(
        counts,
        samples=names,
        reference=names[0],
        top=top or None,
        test=test,
        alpha=alpha,
    )


def _meta(result: Track, alpha: float) -> dict[str, object]:
    dispersion = {x: (None if phi != phi else phi) for x, phi in result.dispersion.items()}
    return {
        "reference": result.reference,
        "unit": result.unit,
        "test": result.test,
        "dispersion": dispersion,
        "alpha": alpha,
    }


def _plot(
    counts: CloneCounts,
    names: list[str],
    result: Track,
    top: int,
    test: TrackTest,
    alpha: float,
    path: Path,
) -> None:
    """The top clones' frequencies over the samples (at most 20)."""
    import tcrtrack as tt

    shown = result if top and top <= 20 else _track(counts, names, 20, test, alpha)
    _common.save_figure(lambda ax: tt.pl.track(shown, ax=ax), path, figsize=(8, 4.5))
