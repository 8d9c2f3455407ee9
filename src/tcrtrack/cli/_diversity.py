"""``tcrtrack diversity``: richness, Shannon, clonality, Simpson, Gini and D50 per sample."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tcrtrack.cli import _common, _sheet

if TYPE_CHECKING:
    from tcrtrack.tl import ClonotypeSpec, Diversity


def register(group: click.Group) -> None:
    group.add_command(diversity)


class _Depth(click.ParamType):
    """``min`` or a positive whole number."""

    name = "min|N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) or value is None:
            return value
        text = str(value).strip().lower()
        if text == "min":
            return "min"
        if text.isdigit() and int(text) >= 1:
            return int(text)
        self.fail(f"{value!r} is neither 'min' nor a positive whole number", param, ctx)


def render(result: Diversity) -> str:
    """The readable tables (one rendering, shared with the report through
    :meth:`Diversity.display_tables`), with the definitions in one line."""
    tables = result.display_tables()
    lines = [
        f"Clonotype: {result.spec}.",
        "shannon = -sum p ln p; clonality = 1 - shannon / ln(richness) (NA for one clonotype); "
        "simpson = sum p^2; gini of clone sizes; D50 = clonotypes, largest first, holding at "
        "least half of the sample (% of richness).",
        "",
        tables["observed"].to_string(),
    ]
    if result.depth is not None:
        unit = "/".join(result.units)
        lines += [
            "",
            f"At a common depth of {result.depth:,} {unit}: every sample subsampled without "
            f"replacement, {result.n_repeats} times (seed {result.seed}); mean [central "
            f"{result.ci:.0%} range]:",
            tables["rarefied"].to_string(),
        ]
    return "\n".join(lines)


def _payload(result: Diversity) -> dict[str, object]:
    """Every number of ``result`` for ``--format json``."""
    rows = json.loads(result.table.reset_index().to_json(orient="records", double_precision=15))
    return {
        "units": list(result.units),
        "depth": result.depth,
        "n_repeats": result.n_repeats if result.depth is not None else None,
        "seed": result.seed if result.depth is not None else None,
        "ci": result.ci if result.depth is not None else None,
        "samples": rows,
    }


@click.command("diversity")
@click.argument("files", nargs=-1, required=False, type=_common.INPUT_FILE, metavar="FILE...")
@_common.name_option
@_sheet.samples_option
@_common.spec_options
@click.option(
    "--depth",
    type=_Depth(),
    default=None,
    help="Also report every index at a common depth: 'min' (the smallest sample) or a number "
    "of cells (bulk: templates, reads or UMIs) per subsample.",
)
@click.option(
    "--repeats",
    "n_repeats",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Subsamples per sample at the common depth.",
)
@_common.seed_option
@_common.ci_option("Level of the central range of the subsampled values.", allow_zero=False)
@_common.format_option
@_common.output_option
def diversity(
    files: tuple[Path, ...],
    name: tuple[str, ...],
    sheet: Path | None,
    spec: ClonotypeSpec,
    depth: int | str | None,
    n_repeats: int,
    seed: int,
    ci: float,
    fmt: str,
    output: Path | None,
) -> None:
    """Diversity of each sample: richness (clonotypes), Shannon entropy (natural log),
    clonality (1 - Shannon / ln richness), Simpson (sum of squared frequencies), the Gini
    coefficient of clone sizes and D50 (the fewest clonotypes holding at least half of the
    cells, or templates/reads; also as % of richness).

    Each FILE is one sample. Richness, Shannon entropy and D50 grow with the number of cells
    sequenced: --depth min subsamples every sample to the smallest one (without replacement,
    --repeats times, seeded) and adds the mean and range of each index, which compare fairly.
    Samples counted in different units (templates and reads) have no common depth.

    With --samples SHEET instead of files, one block per patient of the sheet.

    \b
    Examples:
      tcrtrack diversity infusion.csv pbmc_3m.csv pbmc_6m.csv
      tcrtrack diversity infusion.csv pbmc_3m.csv --depth min --format json
      tcrtrack diversity --samples cohort.tsv --depth 2000 -f tsv -o diversity.tsv
    """
    import tcrtrack as tt

    options: dict[str, Any] = {"depth": depth, "n_repeats": n_repeats, "seed": seed, "ci": ci}
    cohort = _sheet.open_sheet(sheet, files, name)
    runs: list[tuple[str | None, Diversity]] = []
    if cohort is not None:
        for patient in cohort.patients:
            counts, _ = _sheet.patient_counts(cohort, patient, spec)
            runs.append((patient, tt.tl.diversity(counts, **options)))
    else:
        if not files:
            raise _common.usage_error("give at least one FILE, or --samples SHEET")
        names = _common.sample_names(list(files), list(name))
        runs.append((None, tt.tl.diversity(_per_file(list(files), names, spec), **options)))
    _emit(runs, fmt, output, spec)


def _per_file(paths: list[Path], names: list[str], spec: ClonotypeSpec) -> list[Any]:
    """One :class:`~tcrtrack.tl.CloneCounts` per file: diversity is a property of each
    sample, so files counted in different units can be described side by side."""
    import tcrtrack as tt

    _common.progress(f"reading {', '.join(map(str, paths))} ...")
    out = []
    units = _common.declared_units(paths, names)
    tables = tt.io.read_each(paths, samples=names, columns=spec.columns)
    for path, sample, table in zip(paths, names, tables, strict=True):
        declared = {sample: units[sample]} if sample in units else None
        counts = tt.tl.clonotypes(table, spec, units=declared)
        _common.check_nonempty(counts, {sample: str(path)})
        out.append(counts)
    return out


def _emit(
    runs: list[tuple[str | None, Diversity]], fmt: str, output: Path | None, spec: Any
) -> None:
    """Every patient's tables: one row per sample in TSV/CSV, every number in JSON."""
    blocks = [
        _common.Block(p, result.to_frame(), render(result), _payload(result), rows=False)
        for p, result in runs
    ]
    _common.emit("diversity", str(spec), blocks, fmt, output)
