"""``tcrtrack persist``: did the reference's clones persist, and where do later clones come from?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tcrtrack.cli import _background, _common, _sheet

if TYPE_CHECKING:
    from tcrtrack.tl import CloneCounts, ClonotypeSpec, Persistence


def register(group: click.Group) -> None:
    group.add_command(persist)


def _parse_cells(values: tuple[str, ...]) -> dict[str, int]:
    """``NAME=N`` pairs of ``--cells``; a usage error names a malformed one."""
    out: dict[str, int] = {}
    for value in values:
        name, sep, number = value.rpartition("=")
        if not sep or not name or not number.isdigit() or int(number) < 1:
            msg = (
                f"--cells {value!r}: expected NAME=N with N a positive whole number of cells "
                "(e.g. --cells pbmc_3m=20000)"
            )
            raise click.UsageError(msg)
        out[name] = int(number)
    return out


def render(result: Persistence, counts: Any) -> str:
    """The human tables: detection, origin, recapture, trajectories (one rendering, shared
    with the report through :meth:`Persistence.display_tables`)."""
    tables = result.display_tables()
    ref = result.reference
    n_units = counts.totals()
    n_clono = counts.n_clonotypes_per_sample()
    unit = result.unit

    def facts(name: str) -> str:
        return f"{name} ({int(n_clono[name]):,} clonotypes, {int(n_units[name]):,} {unit})"

    lines = [f"Reference: {facts(ref)}."]
    if result.baseline is not None:
        lines.append(f"Baseline: {facts(result.baseline)}.")
    else:
        lines.append(
            "No baseline (--baseline): clones of the product cannot be told from clones "
            "that were in the blood before the infusion; origin 'reference' = in the reference."
        )
    lines.append(f"Clonotype: {result.spec}.")
    level = f"{result.detection_level:.0%}"
    lines += [
        "",
        f"Detection of {ref} clonotypes in each later sample (LOD = the clone frequency seen "
        f"with {level} probability; absent = not seen although it would have been with "
        f"{level} probability at its {ref} frequency; undersampled = not seen, could have "
        "been missed):",
        tables["detection"].to_string(),
        "",
        f"Origin of each later sample's clonotypes (clonotypes; {unit}):",
        tables["origin"].to_string(),
        "",
        f"Recapture by {ref} clone size: detected/clonotypes of that size (expected if every "
        "clone had kept its frequency):",
        tables["recapture"].to_string(),
        "",
        f"Trajectories over the later time points ({', '.join(result.timepoints)}):",
        tables["trajectories"].to_string(),
    ]
    return "\n".join(lines)


def _payload(result: Persistence) -> dict[str, object]:
    """Every number of ``result`` for ``--format json``."""

    def records(frame: Any) -> list[dict[str, object]]:
        return json.loads(frame.reset_index().to_json(orient="records", double_precision=15))

    import pandas as pd

    summary = {k: (None if pd.isna(v) else int(v)) for k, v in result.summary.items()}
    return {
        "reference": result.reference,
        "baseline": result.baseline,
        "samples": list(result.samples),
        "timepoints": list(result.timepoints),
        "unit": result.unit,
        "detection_level": result.detection_level,
        "ci": result.ci,
        "detection": records(result.detection),
        "origin": records(result.origin),
        "recapture": records(result.recapture),
        "trajectories": summary,
    }


@click.command("persist")
@_sheet.reference_and_samples
@_common.baseline_option
@click.option(
    "--cells",
    "n_cells",
    multiple=True,
    metavar="NAME=N",
    help="Cells sampled for a sample counted in reads or UMIs (default: estimated by its "
    "number of clonotypes); repeat per sample.",
)
@click.option(
    "--detection",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Detection probability of the limit of detection and of the 'absent' class.",
)
@_common.ci_option("Level of the exact binomial intervals.", allow_zero=False)
@click.option(
    "--clones",
    "clones_out",
    type=_common.OUTPUT_FILE,
    default=None,
    help="Also write one row per reference clone and later sample (sizes, p_detect, "
    "detection class) and its trajectory, as TSV.",
)
@_common.format_option
@_common.output_option
@_common.figure_option("--plot-recapture", "Draw the recapture curves")
@_common.figure_option("--plot-trajectories", "Draw the top clones' frequencies over time")
@_common.figure_option("--plot-origin", "Draw the origin of each later sample's clonotypes")
@_background.background_options
def persist(
    reference: Path | None,
    samples: tuple[Path, ...],
    name: tuple[str, ...],
    sheet: Path | None,
    spec: ClonotypeSpec,
    baseline: Path | None,
    n_cells: tuple[str, ...],
    detection: float,
    ci: float,
    clones_out: Path | None,
    fmt: str,
    output: Path | None,
    plot_recapture: Path | None,
    plot_trajectories: Path | None,
    plot_origin: Path | None,
    background: _background.Options,
) -> None:
    """Did the clones of REF (the infusion product) persist in the later SAMPLEs, and where
    do the clones of each SAMPLE come from?

    Prints, per later sample, the limit of detection and how many REF clonotypes were
    detected, how many are absent (not seen, although they would have been seen with 95%
    probability had they kept their REF frequency) and how many undersampled; the origin of
    every clonotype of the sample (product, pre-existing, baseline-only, unexplained; with
    --baseline, the blood before the infusion); the recapture of REF clonotypes by their
    size beside what depth alone would give; and each REF clonotype's trajectory over the
    later samples (persistent, intermittent, late, transient, lost). SAMPLEs are given in
    time order; names given with -n apply to REF first, then each SAMPLE (the baseline is
    named after its file).

    With --samples SHEET instead of files, each patient's reference and baseline rows give
    the roles and the time points the order (samples at one time point, e.g. sorted
    fractions, are pooled in the trajectories).

    \b
    Examples:
      tcrtrack persist infusion.csv pbmc_3m.csv pbmc_6m.csv --baseline pre.csv
      tcrtrack persist infusion.tsv d28.tsv --cells d28=20000 --format json
      tcrtrack persist --samples cohort.tsv --clones clones.tsv
    """
    cells = _parse_cells(n_cells)
    figures = {
        "recapture": plot_recapture,
        "trajectories": plot_trajectories,
        "origin": plot_origin,
    }
    cohort = _sheet.open_sheet(
        sheet, [p for p in (reference, *samples, baseline) if p is not None], name
    )
    runs: list[tuple[str | None, Persistence, Any]] = []
    if cohort is not None:
        _sheet.require_references(cohort)
        for patient in cohort.patients:
            counts, names = _sheet.patient_counts(cohort, patient, spec)
            later = cohort.later(patient)
            if not later:
                raise _common.usage_error(
                    f"{cohort.path}: patient {patient!r} has no sample besides the reference "
                    "and the baseline; persist needs at least one later sample"
                )
            labels = cohort.timepoint_labels(patient)
            result = _persist(
                counts,
                names[0],
                cohort.baseline(patient),
                later,
                {x: labels[x] for x in later},
                cells,
                detection,
                ci,
            )
            runs.append((patient, result, counts))
    else:
        if reference is None or not samples:
            raise _common.usage_error("give the reference file and at least one later sample file")
        paths = [reference, *samples]
        names = _common.sample_names(paths, list(name))
        paths, names, base_name = _common.add_baseline(paths, names, baseline)
        counts = _common.load_counts(paths, names, spec)
        later = names[1 : 1 + len(samples)]
        result = _persist(counts, names[0], base_name, later, None, cells, detection, ci)
        runs.append((None, result, counts))

    extra = _add_background(runs, background) if background.active else {}
    _emit(runs, fmt, output, extra)
    if clones_out is not None:
        _write_clones(runs, clones_out, extra)
    for kind, path in figures.items():
        if path is None:
            continue
        for owner, result, _ in runs:
            target = path if owner is None else _common.per_patient(path, owner)
            _plot(kind, result, target)


def _persist(
    counts: CloneCounts,
    reference: str,
    baseline: str | None,
    later: list[str],
    timepoints: dict[str, str] | None,
    cells: dict[str, int],
    detection: float,
    ci: float,
) -> Persistence:
    import tcrtrack as tt

    unknown = sorted(set(cells) - set(later))
    if unknown:
        raise click.UsageError(
            f"--cells names {', '.join(map(repr, unknown))}, not a later sample "
            f"({', '.join(later)})"
        )
    return tt.tl.persist(
        counts,
        reference=reference,
        baseline=baseline,
        samples=later,
        timepoints=timepoints,
        n_cells=cells or None,
        detection=detection,
        ci=ci,
    )


def _add_background(
    runs: list[tuple[str | None, Persistence, Any]], options: Any
) -> dict[str | None, tuple[Any, ...]]:
    """Per patient (None for files): ``--background``/``--pgen`` results as
    :func:`tcrtrack.cli._background.add` gives them (table, text, meta, shared clonotypes)."""
    import pandas as pd

    out = {}
    for patient, result, counts in runs:
        empty = pd.DataFrame(index=pd.Index(list(result.samples), name="sample"))
        table, text, meta, clones, publicity = _background.add(
            counts, result.reference, options, empty, "", {}, patient, list(result.samples)
        )
        if not table.empty and len(table.columns):
            meta["background"]["sharing"] = json.loads(  # type: ignore[index]
                table.reset_index().to_json(orient="records")
            )
        out[patient] = (table, text.strip(), meta, clones, publicity)
    return out


def _emit(
    runs: list[tuple[str | None, Persistence, Any]],
    fmt: str,
    output: Path | None,
    extra: dict[str | None, tuple[Any, ...]] | None = None,
) -> None:
    """One block per patient (``patient`` null for files) through
    :func:`tcrtrack.cli._common.emit`: one row per later sample in TSV/CSV, every number in
    named JSON fields. ``extra``: the background per patient (its table, text and JSON fields)."""
    extra = extra or {}
    blocks = []
    for p, result, counts in runs:
        text, frame, fields = render(result, counts), result.to_frame(), _payload(result)
        if p in extra:
            table, background, meta = extra[p][:3]
            text, frame, fields = f"{text}\n\n{background}", frame.join(table), fields | meta
        blocks.append(_common.Block(p, frame, text, fields, rows=False))
    _common.emit("persist", str(runs[0][1].spec), blocks, fmt, output)


def _write_clones(
    runs: list[tuple[str | None, Persistence, Any]],
    path: Path,
    extra: dict[str | None, tuple[Any, ...]] | None = None,
) -> None:
    import pandas as pd

    frames = []
    for patient, result, _ in runs:
        traj = result.trajectories.set_index("clonotype")[
            ["n_found", "n_timepoints", "first", "last", "trajectory"]
        ]
        frame = result.clones.join(traj, on="clonotype")
        if extra and patient in extra:
            _, _, meta, clones, publicity = extra[patient]
            if publicity is not None:  # every reference clone, shared or not
                k = meta["background"]["public_donors"]
                frame["n_background_donors"] = frame["clonotype"].map(publicity).astype("int64")
                frame["public"] = frame["n_background_donors"] >= k
            if "pgen" in clones.columns:  # the shared clones' (empty for the others)
                frame = frame.join(clones.set_index("clonotype")["pgen"], on="clonotype")
        if patient is not None:
            frame.insert(0, "patient", patient)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    _common.write_file(
        path, lambda tmp: table.to_csv(tmp, sep="\t", index=False, lineterminator="\n")
    )


def _plot(kind: str, result: Persistence, path: Path) -> None:
    import tcrtrack as tt

    draw = {
        "recapture": lambda ax: tt.pl.recapture(result, ax=ax),
        "trajectories": lambda ax: tt.pl.trajectories(result, ax=ax),
        "origin": lambda ax: tt.pl.origin(result, ax=ax),
    }[kind]
    _common.save_figure(draw, path, figsize=(8, 4.5))
