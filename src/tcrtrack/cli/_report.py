"""``tcrtrack report``: one self-contained HTML page of tables and figures (``tt.report.build``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tcrtrack.cli import _background, _common, _sheet

if TYPE_CHECKING:
    from tcrtrack.tl import CloneCounts, ClonotypeSpec


def register(group: click.Group) -> None:
    group.add_command(report)


@click.command("report")
@_sheet.reference_and_samples
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Show the N largest clones of REF in the tracking table and plot.",
)
@_common.ci_option(
    "Level of the intervals on every fraction and of the rarefaction ranges.", allow_zero=False
)
@_common.baseline_option
@_common.seed_option
@_common.depth_option("Cells per subsample of the rarefied sharing (default: the smallest sample).")
@click.option("--title", default=None, help="Page title (default: REF vs the samples).")
@_background.background_options
@click.option(
    "-o",
    "--output",
    type=_common.OUTPUT_FILE,
    required=True,
    help="The HTML file to write.",
)
def report(
    reference: Path | None,
    samples: tuple[Path, ...],
    name: tuple[str, ...],
    sheet: Path | None,
    spec: ClonotypeSpec,
    top: int,
    ci: float,
    baseline: Path | None,
    seed: int,
    depth: int | None,
    title: str | None,
    background: _background.Options,
    output: Path,
) -> None:
    """Write one self-contained HTML page comparing each SAMPLE with the reference REF.

    The page holds the input files (size, SHA-256), the clonotype definition, the QC ledger,
    clonotypes and cells per sample, the sharing with REF with intervals, the rarefied
    sharing and sharing curve, a Venn diagram (UpSet plot beyond 3 samples), the top clones
    of REF over the samples with their class, the persistence of REF's clones (detection
    limits, absent and undersampled clones, origin of later clones, recapture by clone size,
    trajectories; as `tcrtrack persist` prints them), the Morisita-Horn overlap heat map and
    the definitions of every number; with --background STORE (a clonotype store of other
    donors) or --pgen, the public clones among the shared ones. Figures are embedded: the
    page opens offline. Names
    given with -n apply to REF first, then each SAMPLE; the --baseline file (the blood before
    the infusion) is named after its file.

    Samples counted in different units (templates beside reads, reads beside UMIs): the page
    keeps the sections that do not depend on the unit (sharing, shared clonotypes, Venn/UpSet,
    each sample's own diversity) and says, in place of each section that compares counts
    across samples, why it is omitted, naming the samples, their files and units; each
    omitted section is also named on stderr, one warning line with its reason.

    With --samples SHEET instead of files, one page is written per patient of the sheet,
    comparing the patient's samples (in time-point order) with its reference row (and its
    baseline row, if any); the patient's name is added to the file name (-o report.html:
    report_P01.html, ...).

    \b
    Examples:
      tcrtrack report infusion.csv pbmc_3m.csv pbmc_6m.csv -o patient1.html
      tcrtrack report infusion.csv pbmc_3m.csv --baseline pre.csv -o patient1.html
      tcrtrack report --samples cohort.tsv -o report.html
      tcrtrack report infusion.csv pbmc_3m.csv --background donors/ --pgen -o patient1.html
    """
    options: dict[str, Any] = {
        "title": title,
        "ci": ci,
        "top": top,
        "seed": seed,
        "depth": depth,
        "background": background,
    }
    cohort = _sheet.open_sheet(
        sheet, [p for p in (reference, *samples, baseline) if p is not None], name
    )
    if cohort is not None:
        _sheet.require_references(cohort)
        for patient in cohort.patients:
            counts, names = _sheet.patient_counts(cohort, patient, spec)
            later = cohort.later(patient)
            if not later:
                raise _common.usage_error(
                    f"{cohort.path}: patient {patient!r} has no sample besides the reference "
                    "and the baseline; a report needs at least one other sample"
                )
            paths = cohort.table.set_index("sample")["path"]
            inputs = {n: Path(str(paths.loc[n])) for n in names}
            target = _common.per_patient(output, patient)
            labels = cohort.timepoint_labels(patient)
            _write(
                counts,
                [names[0], *later],
                inputs,
                target,
                patient=patient,
                baseline=cohort.baseline(patient),
                timepoints={x: labels[x] for x in later},
                **options,
            )
        return
    if reference is None or not samples:
        raise _common.usage_error(
            "give the reference file and at least one sample file to compare with it"
        )
    paths_ = [reference, *samples]
    names = _common.sample_names(paths_, list(name))
    paths_, every, base_name = _common.add_baseline(paths_, names, baseline)
    counts = _common.load_counts(paths_, every, spec)
    inputs = dict(zip(every, paths_, strict=True))
    _write(
        counts, names, inputs, output, patient=None, baseline=base_name, timepoints=None, **options
    )


def _write(
    counts: CloneCounts,
    names: list[str],
    inputs: dict[str, Path],
    output: Path,
    *,
    patient: str | None,
    baseline: str | None,
    timepoints: dict[str, str] | None,
    title: str | None,
    ci: float,
    top: int,
    seed: int,
    depth: int | None,
    background: _background.Options,
) -> None:
    """Build the page of ``names`` (reference first) and write it to ``output``."""
    import tcrtrack as tt

    if title is None and patient is not None:
        title = f"tcrtrack report, patient {patient}: {names[0]} vs {', '.join(names[1:])}"
    elif title is not None and patient is not None:
        title = f"{title} (patient {patient})"
    _common.progress(f"building {output} ...")
    page = tt.report.build(
        counts,
        reference=names[0],
        samples=names[1:],
        title=title,
        ci=ci,
        top=top,
        seed=seed,
        depth=depth,
        inputs=inputs,
        baseline=baseline,
        timepoints=timepoints,
        background=background.store,
        public_donors=background.public_donors,
        exclude_patients=None if patient is None else [patient],
        pgen=background.pgen,
    )
    _common.write_text(output, page.html)
    for heading, reason in page.omitted.items():
        _common.warning(f"{output}: section {heading!r} omitted: {reason}")
