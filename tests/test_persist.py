"""``tt.tl.persist`` and ``tcrtrack persist``: every count equals a plain recount of the files.

The recounts here start from the raw files (pandas, the immunoSEQ junction cut by hand; the 10x
cell rules written out) and use plain Python sets and ``math`` for the probabilities, so they
share nothing with the library but the definitions in docs/statistics.md.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tcrtrack as tt
from naive import naive_10x, naive_immunoseq
from tcrtrack.cli import main
from tcrtrack.errors import FormatError, SchemaError

ROOT = Path(__file__).parents[1]
BMT = ROOT / "examples" / "data" / "bmt"
SHARING = Path(__file__).parent / "data" / "sharing"

# a real same-person series: one transplant patient's blood over 4 years (immunoSEQ v2).
# Roles for the test: day 0 is the baseline, day 32 the reference; days 369 and 949 have an
# unsorted and a sorted sample each, pooled as one time point in the trajectories.
SERIES = [
    ("TRB_Unsorted_0", 0, "baseline"),
    ("TRB_Unsorted_32", 32, "reference"),
    ("TRB_Unsorted_83", 82, ""),
    ("TRB_CD8_CMV_369", 369, ""),
    ("TRB_Unsorted_369", 369, ""),
    ("TRB_CD8_949", 949, ""),
    ("TRB_Unsorted_949", 949, ""),
    ("TRB_Unsorted_1320", 1320, ""),
    ("TRB_Unsorted_1496", 1496, ""),
]


# ------------------------------------------------------------------ independent recounts
def naive_persist(
    ref: dict[str, int],
    base: dict[str, int] | None,
    later: dict[str, dict[str, int]],
    n_eff: dict[str, float],
    groups: list[list[str]],
) -> dict[str, object]:
    """Every count of persist, with sets, loops and ``math``."""
    n_ref = sum(ref.values())
    base_set = set(base) if base is not None else set()
    out: dict[str, object] = {"detection": {}, "origin": {}, "recapture": {}}
    for name, clones in later.items():
        detected = absent = undersampled = 0
        expected = 0.0
        for clone, a in ref.items():
            p = 1 - (1 - a / n_ref) ** n_eff[name]
            expected += p
            if clones.get(clone, 0) > 0:
                detected += 1
            elif p >= 0.95:
                absent += 1
            else:
                undersampled += 1
        out["detection"][name] = {
            "n_clonotypes": len(clones),
            "n_units": sum(clones.values()),
            "n_reference_detected": detected,
            "n_reference_absent": absent,
            "n_reference_undersampled": undersampled,
            "n_reference_expected": expected,
            "lod_frequency": 1 - 0.05 ** (1 / n_eff[name]),
        }
        origin: dict[str, list[int]] = {}
        for clone, b in clones.items():
            if base is None:
                label = "reference" if clone in ref else "unexplained"
            elif clone in ref:
                label = "pre-existing" if clone in base_set else "product"
            else:
                label = "baseline-only" if clone in base_set else "unexplained"
            n, u = origin.get(label, [0, 0])
            origin[label] = [n + 1, u + b]
        out["origin"][name] = origin
        classes = {"1": (1, 1), "2-3": (2, 3), "4-10": (4, 10), "11-100": (11, 100)}
        rec = {}
        for label, (lo, hi) in classes.items():
            members = [c for c, a in ref.items() if lo <= a <= hi]
            rec[label] = (len(members), sum(1 for c in members if clones.get(c, 0) > 0))
        members = [c for c, a in ref.items() if a > 100]
        rec[">100"] = (len(members), sum(1 for c in members if clones.get(c, 0) > 0))
        out["recapture"][name] = rec
    every = [c for c in ref if all(any(later[x].get(c, 0) > 0 for x in group) for group in groups)]
    out["every"] = len(every)
    out["every_not_in_baseline"] = len([c for c in every if c not in base_set])
    out["any"] = len([c for c in ref if any(later[x].get(c, 0) > 0 for x in later)])
    return out


# ---------------------------------------------------------------- the real transplant series
@pytest.fixture(scope="module")
def bmt_sheet(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bmt")
    lines = ["patient\tsample\ttimepoint\tpath\treference\tbaseline\tunit\ttimepoint_unit"]
    for name, day, role in reversed(SERIES):  # rows out of time order on purpose
        ref = "yes" if role == "reference" else ""
        base = "yes" if role == "baseline" else ""
        path = BMT / f"{name}.tsv.gz"
        lines.append(f"BMT1\t{name}\t{day}\t{path}\t{ref}\t{base}\treads\tdays")
    path = folder / "sheet.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def bmt_naive() -> dict[str, object]:
    files = {name: naive_immunoseq(BMT / f"{name}.tsv.gz") for name, _, _ in SERIES}
    later = {name: files[name] for name, _, role in SERIES if not role}
    # reads: N_cells estimated by the number of clonotypes, 1/N_eff = 1/N_cells + 1/N_reads
    n_eff = {x: 1 / (1 / len(c) + 1 / sum(c.values())) for x, c in later.items()}
    days: dict[int, list[str]] = {}
    for name, day, role in SERIES:
        if not role:
            days.setdefault(day, []).append(name)
    return naive_persist(
        files["TRB_Unsorted_32"], files["TRB_Unsorted_0"], later, n_eff, list(days.values())
    )


def _as_json(result: tt.tl.Persistence) -> dict[str, object]:
    def records(frame: pd.DataFrame) -> list[dict[str, object]]:
        return json.loads(frame.reset_index().to_json(orient="records", double_precision=15))

    return {
        "detection": records(result.detection),
        "origin": records(result.origin),
        "recapture": records(result.recapture),
        "trajectories": {k: (None if pd.isna(v) else int(v)) for k, v in result.summary.items()},
    }


def _check_against_naive(result_json: dict, naive: dict) -> None:
    for row in result_json["detection"]:
        want = naive["detection"][row["sample"]]
        for key, value in want.items():
            assert row[key] == pytest.approx(value, rel=1e-9), (row["sample"], key)
    for row in result_json["origin"]:
        n, u = naive["origin"][row["sample"]].get(row["origin"], [0, 0])
        assert (row["n_clonotypes"], row["n_units"]) == (n, u), (row["sample"], row["origin"])
    for row in result_json["recapture"]:
        n, k = naive["recapture"][row["sample"]][row["size_class"]]
        assert (row["n_reference_clonotypes"], row["n_detected"]) == (n, k)
    summary = result_json["trajectories"]
    assert summary["n_reference_clonotypes_found_at_every_timepoint"] == naive["every"]
    assert (
        summary["n_reference_clonotypes_found_at_every_timepoint_not_in_baseline"]
        == naive["every_not_in_baseline"]
    )
    assert summary["n_reference_clonotypes_found_at_any_timepoint"] == naive["any"]


def test_persist_cli_on_real_series_equals_naive_recount(bmt_sheet, bmt_naive, capsys):
    assert main(["persist", "--samples", str(bmt_sheet), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    (block,) = payload["patients"]
    assert block["patient"] == "BMT1"
    assert block["reference"] == "TRB_Unsorted_32" and block["baseline"] == "TRB_Unsorted_0"
    # time order from the numeric time points, whatever the row order of the sheet (ties
    # keep the sheet's order, which lists the series backwards)
    rows = [(day, name) for name, day, role in reversed(SERIES) if not role]
    assert block["samples"] == [name for _, name in sorted(rows, key=lambda r: r[0])]
    assert block["timepoints"] == ["82", "369", "949", "1320", "1496"]
    _check_against_naive(block, bmt_naive)
    # the numbers are not trivially zero: the series has clones of every origin but one
    origins = {
        r["origin"]: r["n_clonotypes"] for r in block["origin"] if r["sample"] == "TRB_Unsorted_83"
    }
    assert origins["product"] > 0 and origins["pre-existing"] > 0 and origins["unexplained"] > 0
    assert bmt_naive["every"] > 0


def test_persist_python_api_equals_cli(bmt_sheet, bmt_naive):
    sheet = tt.io.read_sheet(bmt_sheet)
    counts = tt.tl.clonotypes(sheet.load("BMT1"))
    labels = sheet.timepoint_labels("BMT1")
    later = sheet.later("BMT1")
    result = tt.tl.persist(
        counts,
        reference=sheet.reference("BMT1"),
        baseline=sheet.baseline("BMT1"),
        samples=later,
        timepoints={x: labels[x] for x in later},
    )
    _check_against_naive(_as_json(result), bmt_naive)
    # per-clone rows agree with the per-sample counts
    per_sample = result.clones.groupby("sample", observed=True)["detection"].value_counts()
    for name in later:
        assert per_sample[(name, "absent")] == result.detection.loc[name, "n_reference_absent"]
    # a clone's trajectory agrees with where it is found
    traj = result.trajectories.set_index("clonotype")
    found = result.clones.assign(seen=result.clones["count"] > 0).pivot(
        index="clonotype", columns="sample", values="seen"
    )
    assert (found.any(axis=1) == (traj.loc[found.index, "n_found"] > 0)).all()


# ------------------------------------------------------------ single-cell, real same patient
def test_persist_single_cell_real_patient_equals_naive():
    """Lung-cancer patient 6: tumour as the reference, normal lung as the 'baseline', blood
    as the later sample (roles for the test; the counts are what matter)."""
    names = {"lt6": "reference", "ln6": "baseline", "lb6": "later"}
    counts = tt.tl.clonotypes(
        tt.io.read_each([SHARING / f"{x}.csv.gz" for x in names], samples=list(names))
    )
    result = tt.tl.persist(counts, reference="lt6", baseline="ln6")
    files = {x: naive_10x(SHARING / f"{x}.csv.gz") for x in names}
    n_eff = {"lb6": sum(files["lb6"].values())}
    naive = naive_persist(files["lt6"], files["ln6"], {"lb6": files["lb6"]}, n_eff, [["lb6"]])
    _check_against_naive(_as_json(result), naive)
    # cells: N is the number of cells and lod_frequency is 1 - 0.05^(1/N) exactly
    n = int(result.detection.loc["lb6", "n_units"])
    assert result.detection.loc["lb6", "n_effective"] == n
    assert result.detection.loc["lb6", "lod_frequency"] == pytest.approx(1 - 0.05 ** (1 / n))
    assert not result.detection.loc["lb6", "n_cells_estimated"]


def test_lod_for_templates_is_the_template_count():
    counts = tt.tl.clonotypes(
        tt.io.read_each(
            [BMT / "TRB_Unsorted_0.tsv.gz", BMT / "TRB_Unsorted_949.tsv.gz"], samples=["a", "b"]
        )
    )
    assert counts.unit == "templates"
    result = tt.tl.persist(counts, reference="a")
    n = int(counts.totals()["b"])
    assert result.detection.loc["b", "n_effective"] == n
    assert result.detection.loc["b", "lod_frequency"] == pytest.approx(1 - 0.05 ** (1 / n))


# ------------------------------------------------------------------ two-step sampling (reads)
def _two_step(rng, freqs, n_cells, reads_per_cell, dispersion):
    """Draw ``n_cells`` cells from clone frequencies, then a negative-binomial number of reads
    per cell (mean ``reads_per_cell``, overdispersed): read count per clone."""
    cells = rng.multinomial(n_cells, freqs)
    clone_of_cell = np.repeat(np.arange(len(freqs)), cells)
    p = dispersion / (dispersion + reads_per_cell)
    reads = rng.negative_binomial(dispersion, p, size=len(clone_of_cell))
    return np.bincount(clone_of_cell, weights=reads, minlength=len(freqs)).astype(np.int64)


def _counts_from(matrix: np.ndarray, samples: list[str], unit: str) -> tt.tl.CloneCounts:
    from scipy import sparse

    keep = matrix.sum(axis=0) > 0
    matrix = matrix[:, keep]
    labels = [f"C{i}" for i in range(matrix.shape[1])]
    return tt.tl.CloneCounts(
        matrix=sparse.csr_array(matrix),
        samples=tuple(samples),
        clonotypes=pd.DataFrame({"clonotype": labels, "junction": labels}),
        spec=tt.tl.ClonotypeSpec(),
        unit=unit,
    )


def _repertoire(kind: str) -> np.ndarray:
    if kind == "polyclonal":
        # blood: 20 expanded clones hold 10% of the T cells, a million others the rest
        expanded = np.full(20, 0.10 / 20)
        rest = np.full(1_000_000, 0.90 / 1_000_000)
        return np.concatenate([expanded, rest])
    weights = 1 / np.arange(1, 200_001) ** 1.1  # oligoclonal: Zipf-like, top clone ~10%
    return weights / weights.sum()


@pytest.mark.parametrize("kind", ["polyclonal", "oligoclonal"])
def test_read_count_estimator_on_simulated_two_step_sampling(kind):
    """Known N: 4,000 cells drawn from a repertoire, then 12 reads per cell on average with
    gamma-Poisson overdispersion (two-step sampling). The estimated cells (distinct
    clonotypes) are a lower bound on N, close to it in polyclonal blood; and since every clone
    persisted unchanged, every 'absent' call is an error: at most 5% (+ binomial noise) of the
    clones that would have been seen with 95% probability are called absent."""
    rng = np.random.default_rng(7)
    freqs = _repertoire(kind)
    n_true = 4_000
    reference = _two_step(rng, freqs, 20_000, 12, 2.0)
    later = _two_step(rng, freqs, n_true, 12, 2.0)
    counts = _counts_from(np.vstack([reference, later]), ["ref", "later"], "reads")
    result = tt.tl.persist(counts, reference="ref")
    row = result.detection.loc["later"]
    assert row["n_cells_estimated"]
    assert row["n_cells"] <= n_true
    if kind == "polyclonal":
        assert row["n_cells"] > 0.85 * n_true
    reads = int(row["n_units"])
    assert row["n_effective"] == pytest.approx(1 / (1 / row["n_cells"] + 1 / reads))
    assert row["lod_frequency"] == pytest.approx(1 - 0.05 ** (1 / row["n_effective"]))
    p_detect = result.clones.loc[result.clones["sample"] == "later", "p_detect"]
    at_risk = int((p_detect >= 0.95).sum())
    assert at_risk >= 15
    absent = int(row["n_reference_absent"])
    assert absent <= 0.05 * at_risk + 3 * math.sqrt(0.05 * at_risk), (absent, at_risk)
    # with the true N given, it replaces the estimate
    given = tt.tl.persist(counts, reference="ref", n_cells={"later": n_true})
    assert given.detection.loc["later", "n_cells"] == n_true
    assert not given.detection.loc["later", "n_cells_estimated"]
    assert given.detection.loc["later", "n_effective"] == pytest.approx(
        1 / (1 / n_true + 1 / reads)
    )


def test_loss_is_called_absent_when_depth_suffices():
    """A clone removed from the later sample at a frequency well above the LOD is 'absent';
    a rare one is 'undersampled'."""
    matrix = np.array([[500, 1, 100, 100], [0, 0, 100, 100]])
    result = tt.tl.persist(_counts_from(matrix, ["ref", "later"], "cells"), reference="ref")
    det = result.clones.set_index("clonotype")["detection"]
    assert det.to_dict() == {
        "C0": "absent",
        "C2": "detected",
        "C3": "detected",
        "C1": "undersampled",
    }
    # p_detect by hand: f = 1/701 in 200 cells
    p = result.clones.set_index("clonotype").loc["C1", "p_detect"]
    assert p == pytest.approx(1 - (1 - 1 / 701) ** 200)


# -------------------------------------------------------------------------- trajectories
def naive_class(found: list[bool]) -> str:
    if all(found):
        return "persistent"
    if not any(found):
        return "lost"
    if not found[-1]:
        return "transient"
    return "intermittent" if found[0] else "late"


def test_trajectory_classes_equal_naive_on_random_tables():
    rng = np.random.default_rng(3)
    matrix = rng.poisson(0.7, size=(5, 300)) * rng.integers(0, 2, size=(5, 300))
    matrix[0] += 1  # every clonotype in the reference
    samples = ["ref", "t1", "t2", "t3", "t4"]
    result = tt.tl.persist(_counts_from(matrix, samples, "cells"), reference="ref")
    traj = result.trajectories.set_index("clonotype")
    for i in range(matrix.shape[1]):
        found = [bool(matrix[j, i] > 0) for j in range(1, 5)]
        row = traj.loc[f"C{i}"]
        assert row["trajectory"] == naive_class(found)
        assert row["n_found"] == sum(found)
        assert row["first"] == (samples[1 + found.index(True)] if any(found) else None)
    assert result.summary["n_reference_clonotypes_found_at_every_timepoint"] == int(
        (matrix[1:] > 0).all(axis=0).sum()
    )
    assert pd.isna(
        result.summary["n_reference_clonotypes_found_at_every_timepoint_not_in_baseline"]
    )


def test_labels_are_the_clonotype_key_with_amino_acid_beside():
    counts = tt.tl.clonotypes(
        tt.io.read_each([SHARING / "lt6.csv.gz", SHARING / "lb6.csv.gz"], samples=["lt6", "lb6"])
    )
    result = tt.tl.persist(counts, reference="lt6")
    assert list(result.clones.columns[:2]) == ["clonotype", "junction_aa"]
    assert result.clones["clonotype"].str.fullmatch("[ACGT]+").all()
    assert result.trajectories["clonotype"].is_unique


# ------------------------------------------------------------------------------ bad input
def test_roles_are_checked():
    matrix = np.array([[1, 2], [1, 0], [0, 1]])
    counts = _counts_from(matrix, ["a", "b", "c"], "cells")
    with pytest.raises(SchemaError, match="baseline 'a' is also the reference"):
        tt.tl.persist(counts, reference="a", baseline="a")
    with pytest.raises(
        SchemaError, match="'b' given as later samples are the reference or the baseline"
    ):
        tt.tl.persist(counts, reference="a", baseline="b", samples=["b", "c"])
    with pytest.raises(SchemaError, match="at least one sample after the reference"):
        tt.tl.persist(counts.select(["a", "b"]), reference="a", baseline="b")
    with pytest.raises(KeyError, match="unknown sample 'x'"):
        tt.tl.persist(counts, reference="x")
    with pytest.raises(SchemaError, match="n_cells applies to read or UMI counts"):
        tt.tl.persist(counts, reference="a", n_cells={"b": 10})


def test_cli_bad_baseline_and_sheet_are_one_line(tmp_path, capsys):
    ref = SHARING / "lt6.csv.gz"
    code = main(["persist", str(ref), str(SHARING / "lb6.csv.gz"), "--baseline", str(ref)])
    assert code == 2
    err = capsys.readouterr().err
    assert "--baseline" in err and "also given as REF or SAMPLE" in err
    sheet = tmp_path / "s.tsv"
    sheet.write_text(
        "patient\tsample\ttimepoint\tpath\treference\tbaseline\n"
        f"P\tinf\t0\t{ref}\tyes\t\n"
        f"P\tb1\t-7\t{SHARING / 'ln6.csv.gz'}\t\tyes\n"
        f"P\tb2\t-3\t{SHARING / 'ln6.csv.gz'}\t\tyes\n"
        f"P\tw4\t4W\t{SHARING / 'lb6.csv.gz'}\t\t\n"
    )
    assert main(["persist", "--samples", str(sheet)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(sheet) in err
    assert "lines 3, 4: patient 'P' has 2 baselines" in err
    assert "line 5: time point '4W' is not a number" in err


def test_cli_sheet_order_accepts_text_time_points(tmp_path, capsys):
    sheet = tmp_path / "s.tsv"
    sheet.write_text(
        "patient\tsample\ttimepoint\tpath\treference\tbaseline\n"
        f"P\tinf\tproduct\t{SHARING / 'lt6.csv.gz'}\tyes\t\n"
        f"P\tpre\tpre\t{SHARING / 'ln6.csv.gz'}\t\tyes\n"
        f"P\tw4\t4W\t{SHARING / 'lb6.csv.gz'}\t\t\n"
    )
    with pytest.raises(FormatError):
        tt.io.read_sheet(sheet)
    assert main(["persist", "--samples", str(sheet), "--sheet-order", "-f", "json"]) == 0
    block = json.loads(capsys.readouterr().out)["patients"][0]
    assert (block["reference"], block["baseline"], block["samples"]) == ("inf", "pre", ["w4"])
    assert block["timepoints"] == ["4W"]


def test_cli_files_and_outputs(tmp_path, capsys):
    files = [str(SHARING / f"{x}.csv.gz") for x in ("lt6", "lb6")]
    clones = tmp_path / "clones.tsv"
    figures = {
        flag: tmp_path / f"{flag[2:]}.png"
        for flag in ("--plot-recapture", "--plot-trajectories", "--plot-origin")
    }
    args = ["persist", *files, "--baseline", str(SHARING / "ln6.csv.gz"), "--clones", str(clones)]
    for flag, path in figures.items():
        args += [flag, str(path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Reference: lt6" in out and "Baseline: ln6" in out
    assert "pre-existing" in out and "of which not in the baseline" in out
    table = pd.read_csv(clones, sep="\t")
    assert {"clonotype", "junction_aa", "p_detect", "detection", "trajectory"} <= set(table.columns)
    assert all(path.stat().st_size > 0 for path in figures.values())
    # the TSV: one row per later sample, the same numbers as the JSON
    assert main(["persist", *files, "-f", "tsv"]) == 0
    tsv = pd.read_csv(io.StringIO(capsys.readouterr().out), sep="\t")
    assert tsv["sample"].tolist() == ["lb6"]
    assert main(["persist", *files, "-f", "json"]) == 0
    block = json.loads(capsys.readouterr().out)["patients"][0]
    assert block["patient"] is None
    assert tsv.loc[0, "n_reference_detected"] == block["detection"][0]["n_reference_detected"]
