"""``tt.tl.diversity`` and ``tcrtrack diversity``: every number equals a plain computation.

The naive versions below work from a list of clone sizes with ``math`` and Python loops (the
Gini coefficient as the mean absolute difference, D50 by walking the sorted sizes), sharing
nothing with the library but the definitions in docs/statistics.md.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcrtrack as tt
from naive import naive_immunoseq
from stats_helpers import bulk_counts, cell_counts, cells_from_sizes
from tcrtrack.cli import main
from tcrtrack.errors import EmptyError, NotFoundError, ParameterError, UnitError

ROOT = Path(__file__).parents[1]
BULK = Path(__file__).parent / "data" / "bulk"
SHARING = Path(__file__).parent / "data" / "sharing"
PATIENT1 = ROOT / "examples" / "data" / "patient1"
BMT = ROOT / "examples" / "data" / "bmt"

METRICS = ("richness", "shannon", "clonality", "simpson", "gini", "d50", "d50_percent")


# ------------------------------------------------------------------ the naive computation
def naive(sizes: list[int]) -> dict[str, float]:
    """Every metric from a list of positive clone sizes, written out by hand."""
    sizes = [int(x) for x in sizes if x > 0]
    s = len(sizes)
    total = sum(sizes)
    p = [x / total for x in sizes]
    shannon = -sum(q * math.log(q) for q in p)
    mean = total / s
    gini = sum(abs(a - b) for a in sizes for b in sizes) / (2 * s * s * mean)
    covered, d50 = 0, 0
    for x in sorted(sizes, reverse=True):
        covered += x
        d50 += 1
        if covered >= total / 2:
            break
    return {
        "richness": s,
        "shannon": shannon,
        "clonality": 1 - shannon / math.log(s) if s > 1 else math.nan,
        "simpson": sum(q * q for q in p),
        "gini": gini,
        "d50": d50,
        "d50_percent": 100 * d50 / s,
    }


def check_row(row: pd.Series, sizes: list[int]) -> None:
    expected = naive(sizes)
    for metric in METRICS:
        if math.isnan(expected[metric]):
            assert math.isnan(row[metric]), metric
        else:
            assert row[metric] == pytest.approx(expected[metric], rel=1e-12, abs=1e-12), metric


def sizes_of(counts: tt.tl.CloneCounts, sample: str) -> list[int]:
    row = counts.dense()[counts.index(sample)]
    return [int(x) for x in row if x > 0]


# ------------------------------------------------------------------ hand-made fixtures
def test_hand_made_sizes_equal_the_naive_values():
    sizes = {"even": [2, 2, 2, 2], "skewed": [10, 3, 1, 1, 0, 1], "one": [7, 0, 0, 0, 0, 0]}
    counts = cells_from_sizes(sizes)
    table = tt.tl.diversity(counts).table
    assert list(table.index) == ["even", "skewed", "one"]
    assert (table["unit"] == "cells").all()
    assert table["n_units"].tolist() == [8, 16, 7]
    for name, s in sizes.items():
        check_row(table.loc[name], s)
    # values known by hand: four equal clones
    even = table.loc["even"]
    assert even["shannon"] == pytest.approx(math.log(4))
    assert even["clonality"] == pytest.approx(0.0, abs=1e-15)
    assert even["simpson"] == pytest.approx(0.25) and even["gini"] == pytest.approx(0.0)
    assert even["d50"] == 2 and even["d50_percent"] == pytest.approx(50.0)
    # 10 of 16 cells in the top clone: D50 is 1 clonotype; Gini = sum|ci-cj| / (2 S^2 mean)
    skewed = table.loc["skewed"]
    assert skewed["d50"] == 1 and skewed["d50_percent"] == pytest.approx(20.0)
    # ordered pairs: 10 vs 3 and the three 1s (7 + 27), 3 vs the 1s (6), both ways: 80
    assert skewed["gini"] == pytest.approx(80 / (2 * 5**2 * 16 / 5))


def test_d50_counts_the_clone_that_reaches_exactly_half():
    # 5 + 3 = 8 = half of 16: two clonotypes hold at least 50%
    counts = bulk_counts([[5, 3, 2, 2, 2, 2]], samples=["s"])
    assert tt.tl.diversity(counts).table.loc["s", "d50"] == 2
    counts = bulk_counts([[5, 2, 2, 2, 2, 2]], samples=["s"])  # 5+2 = 7 < 7.5: three
    assert tt.tl.diversity(counts).table.loc["s", "d50"] == 3


def test_a_single_clonotype_has_undefined_clonality():
    counts = bulk_counts([[12, 0]], samples=["mono"])
    row = tt.tl.diversity(counts, depth=5, n_repeats=4).table.loc["mono"]
    assert row["richness"] == 1 and row["shannon"] == 0.0
    assert math.isnan(row["clonality"])
    assert row["simpson"] == 1.0 and row["gini"] == 0.0
    assert row["d50"] == 1 and row["d50_percent"] == 100.0
    assert math.isnan(row["clonality_rarefied"]) and math.isnan(row["clonality_rarefied_low"])


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4], ids=lambda s: f"seed{s}")
def test_random_bulk_tables_equal_the_naive_values(seed):
    rng = np.random.default_rng(seed)
    matrix = rng.negative_binomial(0.3, 0.05, size=(3, 80))
    matrix[:, 0] += 1  # no empty sample
    counts = bulk_counts(matrix, samples=["a", "b", "c"])
    table = tt.tl.diversity(counts).table
    assert (table["unit"] == "templates").all()
    for i, name in enumerate("abc"):
        assert table.loc[name, "n_units"] == matrix[i].sum()
        check_row(table.loc[name], matrix[i].tolist())


@settings(max_examples=150, deadline=None)
@given(
    sizes=st.lists(
        st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=25).filter(any),
        min_size=1,
        max_size=4,
    )
)
def test_every_metric_equals_the_naive_value_on_random_sizes(sizes):
    width = max(len(x) for x in sizes)
    matrix = [x + [0] * (width - len(x)) for x in sizes]
    table = tt.tl.diversity(bulk_counts(matrix)).table
    for i, row in enumerate(sizes):
        check_row(table.iloc[i], row)
        assert 0 <= table.iloc[i]["gini"] <= 1 - 1 / table.iloc[i]["richness"] + 1e-12
        assert 1 / table.iloc[i]["richness"] - 1e-12 <= table.iloc[i]["simpson"] <= 1


def test_multichain_all_frequencies_are_over_summed_clone_sizes():
    # cell x1 has two chains (clonotypes 0 and 1): n_units counts cells, sizes count chains
    rows = [("s", "x1", 0), ("s", "x1", 1), ("s", "x2", 0), ("s", "x3", 2), ("s", "x4", 2)]
    counts = cell_counts(rows, ["s"], 3)
    row = tt.tl.diversity(counts).table.loc["s"]
    assert row["n_units"] == 4
    check_row(row, [2, 1, 2])


# ------------------------------------------------------------------ at a common depth
def test_full_depth_equals_the_observed_values_with_no_spread():
    counts = cells_from_sizes({"a": [5, 3, 1, 1], "b": [2, 2, 2, 2, 9, 1]})
    result = tt.tl.diversity(counts, depth="min", n_repeats=10, seed=3)
    assert result.depth == 10
    assert (result.table["depth"] == 10).all() and (result.table["n_repeats"] == 10).all()
    a = result.table.loc["a"]  # a has exactly 10 cells: each subsample is the whole sample
    for metric in METRICS:
        assert a[f"{metric}_rarefied"] == pytest.approx(a[metric])
        assert a[f"{metric}_rarefied_low"] == a[f"{metric}_rarefied_high"]
    reps = result.replicates
    assert len(reps) == 20 and reps["replicate"].tolist() == list(range(10)) * 2
    b = reps[reps["sample"] == "b"]
    assert result.table.loc["b", "shannon_rarefied"] == pytest.approx(b["shannon"].mean())
    assert result.table.loc["b", "d50_rarefied_high"] == pytest.approx(b["d50"].quantile(0.975))
    assert (b["richness"] <= 6).all()


def test_rarefied_values_match_a_naive_subsampling_loop_in_distribution():
    sizes = [30, 12, 6, 4, 3, 2, 2, 1, 1, 1, 1, 1]
    counts = cells_from_sizes({"s": sizes})
    result = tt.tl.diversity(counts, depth=15, n_repeats=3000, seed=0)
    # naive: a list of the sample's cells by clone, 15 drawn without replacement
    cells = np.repeat(np.arange(len(sizes)), sizes)
    rng = np.random.default_rng(99)
    draws = []
    for _ in range(3000):
        pick = rng.choice(cells, 15, replace=False)
        draws.append(naive(np.bincount(pick, minlength=len(sizes)).tolist()))
    row = result.table.loc["s"]
    for metric, tol in (("richness", 0.1), ("shannon", 0.02), ("simpson", 0.005), ("d50", 0.05)):
        values = [d[metric] for d in draws]
        assert row[f"{metric}_rarefied"] == pytest.approx(np.mean(values), abs=tol), metric
    gini = [d["gini"] for d in draws]
    assert row["gini_rarefied"] == pytest.approx(np.mean(gini), abs=0.01)


def test_bulk_depth_draws_units_without_replacement():
    counts = bulk_counts([[60, 30, 10], [1, 1, 1]], samples=["big", "small"])
    result = tt.tl.diversity(counts, depth="min", n_repeats=200, seed=5)
    assert result.depth == 3
    reps = result.replicates[result.replicates["sample"] == "big"]
    # 3 of 100 templates: richness 1 (same clone thrice) to 3
    assert set(reps["richness"]) <= {1, 2, 3} and reps["richness"].nunique() > 1
    small = result.table.loc["small"]
    assert small["richness_rarefied_low"] == small["richness_rarefied_high"] == 3


def test_seed_gives_the_same_numbers_and_samples_have_their_own_streams():
    counts = cells_from_sizes({"a": [5, 3, 1, 1, 4], "b": [2, 2, 2, 2, 9], "c": [7, 7, 7, 1, 1]})
    one = tt.tl.diversity(counts, depth=8, n_repeats=30, seed=11)
    two = tt.tl.diversity(counts, depth=8, n_repeats=30, seed=11)
    other = tt.tl.diversity(counts, depth=8, n_repeats=30, seed=12)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert not one.replicates.equals(other.replicates)
    # leaving sample a out does not change b's subsamples
    alone = tt.tl.diversity(counts, samples=["c", "b"], depth=8, n_repeats=30, seed=11)
    pd.testing.assert_frame_equal(alone.table.loc[["b"]], one.table.loc[["b"]])
    assert list(alone.table.index) == ["c", "b"]


# ------------------------------------------------------------------ real data
def naive_immunoseq_v2(path: Path) -> list[int]:
    """Clone sizes of an immunoSEQ v2 export (productive rows, junction cut by hand)."""
    return list(naive_immunoseq(path).values())


def test_real_bulk_series_equals_naive_from_the_raw_files():
    names = ["TRB_Unsorted_0", "TRB_CD8_CMV_369", "TRB_Unsorted_949"]  # templates
    paths = [BMT / f"{x}.tsv.gz" for x in names]
    counts = tt.tl.clonotypes(tt.io.read_each(paths, samples=names))
    result = tt.tl.diversity(counts, depth="min", n_repeats=20, seed=0)
    table = result.table
    for name, path in zip(names, paths, strict=True):
        sizes = naive_immunoseq_v2(path)
        assert sorted(sizes) == sorted(sizes_of(counts, name))
        assert table.loc[name, "n_units"] == sum(sizes)
        assert table.loc[name, "unit"] == counts.unit
        check_row(table.loc[name], sizes)
    assert result.depth == min(sum(naive_immunoseq_v2(p)) for p in paths)
    # a real sample is neither a single clone nor perfectly even
    assert (table["clonality"] > 0).all() and (table["gini"] > 0).all()


@pytest.mark.parametrize(
    "folder, files",
    [
        (PATIENT1, ["infusion", "pbmc_3m", "pbmc_6m"]),
        (SHARING, ["lt6", "lb6"]),
    ],
    ids=["simulated-patient1", "nsclc-p6"],
)
def test_real_10x_samples_equal_naive_from_clone_sizes(folder, files):
    paths = [folder / f"{x}.csv.gz" for x in files]
    counts = tt.tl.clonotypes(tt.io.read_each(paths, samples=files))
    table = tt.tl.diversity(counts).table
    for name in files:
        sizes = sizes_of(counts, name)
        assert table.loc[name, "n_units"] == sum(sizes)  # one clonotype per cell (primary)
        check_row(table.loc[name], sizes)


# ------------------------------------------------------------------ bad input
def test_an_empty_sample_is_refused_by_name():
    counts = bulk_counts([[3, 1], [0, 0]], samples=["full", "blank"])
    with pytest.raises(EmptyError, match="sample 'blank' has no clonotype"):
        tt.tl.diversity(counts)
    assert tt.tl.diversity(counts, samples=["full"]).table.index.tolist() == ["full"]


def test_mixed_units_at_a_common_depth_are_refused_naming_samples_and_units():
    cells = cells_from_sizes({"blood": [3, 2, 1]})
    templates = bulk_counts([[40, 10, 5]], samples=["product"])
    # observed values need no common unit: each row keeps its own
    table = tt.tl.diversity([templates, cells]).table
    assert table["unit"].to_dict() == {"product": "templates", "blood": "cells"}
    check_row(table.loc["product"], [40, 10, 5])
    check_row(table.loc["blood"], [3, 2, 1])
    for depth in ("min", 3):
        with pytest.raises(
            UnitError, match=r"different units \(templates: 'product'; cells: 'blood'\)"
        ):
            tt.tl.diversity([templates, cells], depth=depth)


def test_real_series_in_templates_and_reads_one_counts_per_unit():
    # the transplant series: day 0 counted in templates, day 32 in reads (immunoSEQ v2)
    names = ["TRB_Unsorted_0", "TRB_Unsorted_32"]
    per_file = [
        tt.tl.clonotypes(tt.io.read(BMT / f"{x}.tsv.gz", sample=x), filter=True) for x in names
    ]
    result = tt.tl.diversity(per_file)
    assert result.units == ("templates", "reads")
    for name in names:
        check_row(result.table.loc[name], naive_immunoseq_v2(BMT / f"{name}.tsv.gz"))
    with pytest.raises(
        UnitError,
        match=r"templates: 'TRB_Unsorted_0' \(\S+TRB_Unsorted_0.tsv.gz\); "
        r"reads: 'TRB_Unsorted_32' \(\S+TRB_Unsorted_32.tsv.gz\)",
    ):
        tt.tl.diversity(per_file, depth="min")
    # one CloneCounts of both files: the same rows, each in its own unit
    joined = tt.tl.clonotypes(tt.io.read(BMT / f"{x}.tsv.gz", sample=x) for x in names)
    assert joined.units == ("templates", "reads")
    pd.testing.assert_frame_equal(tt.tl.diversity(joined).table, result.table, rtol=1e-12)


def test_bad_options_are_clear_errors():
    counts = bulk_counts([[3, 1], [5, 5]], samples=["a", "b"])
    with pytest.raises(ParameterError, match=r"depth=5 is more than sample\(s\) 'a' \(4 temp"):
        tt.tl.diversity(counts, depth=5)
    with pytest.raises(ParameterError, match="depth must be None, 'min' or a positive"):
        tt.tl.diversity(counts, depth="max")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="depth must be None"):
        tt.tl.diversity(counts, depth=0)
    with pytest.raises(ParameterError, match="n_repeats must be a positive"):
        tt.tl.diversity(counts, depth=2, n_repeats=0)
    with pytest.raises(ParameterError, match="seed must be a non-negative"):
        tt.tl.diversity(counts, depth=2, seed=-1)
    with pytest.raises(NotFoundError, match=r"unknown sample.*'z'; samples are: a, b"):
        tt.tl.diversity(counts, samples=["z"])
    with pytest.raises(ParameterError, match="sample 'a' is in two of the CloneCounts"):
        tt.tl.diversity([counts, counts])
    with pytest.raises(ParameterError, match=r"given twice"):
        tt.tl.diversity(counts, samples=["a", "a"])


def test_result_repr_and_html():
    counts = cells_from_sizes({"a": [5, 3, 1], "b": [2, 2, 2]})
    result = tt.tl.diversity(counts, depth=6, n_repeats=5)
    assert repr(result).startswith("Diversity(2 samples, units='cells', depth=6, n_repeats=5")
    html = result._repr_html_()
    assert "<b>Diversity</b>" in html and "rarefied to 6" in html and "<table" in html
    shown = result.display_tables()
    observed = shown["observed"]
    assert observed.loc["a", "units"] == "9 cells" and observed.loc["a", "D50"] == "1 (33.33%)"
    assert observed.loc["b", "clonality"] == "0.0000" and observed.loc["b", "gini"] == "0.0000"
    # b has three clones of 2 cells: any 6 cells are all of them
    assert shown["rarefied"].loc["b", "richness"] == "3.0 [3.0-3.0]"
    with pytest.raises(AttributeError):
        result.depth = 3  # type: ignore[misc]
    plain = tt.tl.diversity(counts)
    assert plain.depth is None and "richness_rarefied" not in plain.table
    assert plain.replicates.empty


# ------------------------------------------------------------------ the command line
def _json(capsys, args: list[str]) -> dict:
    assert main(["diversity", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_json_from_files_equals_naive(capsys):
    files = [str(SHARING / f"{x}.csv.gz") for x in ("lt6", "lb6")]
    payload = _json(capsys, files)
    assert set(payload) == {"command", "clonotype", "patients"}
    assert payload["command"] == "diversity"
    assert payload["clonotype"] == "TRB junction nucleotides, multichain=primary"
    (block,) = payload["patients"]
    assert block["patient"] is None and block["units"] == ["cells"]
    assert block["depth"] is None and block["n_repeats"] is None
    counts = tt.tl.clonotypes(tt.io.read_each([Path(f) for f in files], samples=["lt6", "lb6"]))
    assert [r["sample"] for r in block["samples"]] == ["lt6", "lb6"]
    for r in block["samples"]:
        assert r["unit"] == "cells"
        sizes = sizes_of(counts, r["sample"])
        assert r["n_units"] == sum(sizes)
        check_row(pd.Series(r), sizes)


def test_cli_json_at_depth_matches_the_library(capsys):
    files = [str(SHARING / f"{x}.csv.gz") for x in ("lt6", "lb6")]
    block = _json(capsys, [*files, "--depth", "min", "--repeats", "7", "--seed", "3"])["patients"][
        0
    ]
    counts = tt.tl.clonotypes(tt.io.read_each([Path(f) for f in files], samples=["lt6", "lb6"]))
    result = tt.tl.diversity(counts, depth="min", n_repeats=7, seed=3)
    assert block["depth"] == result.depth == int(counts.totals().min())
    assert block["n_repeats"] == 7 and block["seed"] == 3 and block["ci"] == 0.95
    for r in block["samples"]:
        expected = result.table.loc[r["sample"]]
        for metric in METRICS:
            for col in (f"{metric}_rarefied", f"{metric}_rarefied_low"):
                assert r[col] == pytest.approx(float(expected[col]), rel=1e-12), col


def test_cli_sheet_has_the_same_shape_and_labels_the_unit(tmp_path, capsys):
    sheet = tmp_path / "sheet.tsv"
    rows = [
        ("BMT1", "day0", 0, BMT / "TRB_Unsorted_0.tsv.gz"),
        ("BMT1", "day949", 949, BMT / "TRB_Unsorted_949.tsv.gz"),
        ("P6", "lt6", 0, SHARING / "lt6.csv.gz"),
        ("P6", "lb6", 1, SHARING / "lb6.csv.gz"),
    ]
    sheet.write_text(
        "patient\tsample\ttimepoint\tpath\n"
        + "".join(f"{p}\t{s}\t{t}\t{path}\n" for p, s, t, path in rows)
    )
    payload = _json(capsys, ["--samples", str(sheet), "--depth", "min", "--repeats", "5"])
    assert set(payload) == {"command", "clonotype", "patients"}
    bmt, p6 = payload["patients"]
    assert (bmt["patient"], bmt["units"]) == ("BMT1", ["templates"])
    assert (p6["patient"], p6["units"]) == ("P6", ["cells"])
    assert bmt["depth"] == min(sum(naive_immunoseq_v2(p)) for _, _, _, p in rows[:2])
    for r, (_, _, _, path) in zip(bmt["samples"], rows[:2], strict=True):
        check_row(pd.Series(r), naive_immunoseq_v2(path))
    # readable table: the data's unit, never "cells" for templates
    assert main(["diversity", "--samples", str(sheet)]) == 0
    out = capsys.readouterr().out
    assert "== Patient BMT1 ==" in out and "14,238 templates" in out
    assert "== Patient P6 ==" in out and " cells" in out
    # TSV: one row per sample, a leading patient column
    assert main(["diversity", "--samples", str(sheet), "-f", "tsv"]) == 0
    tsv = pd.read_csv(io.StringIO(capsys.readouterr().out), sep="\t")
    assert tsv.columns[:4].tolist() == ["patient", "sample", "unit", "n_units"]
    assert tsv["sample"].tolist() == ["day0", "day949", "lt6", "lb6"]


def test_cli_files_in_two_units(tmp_path, capsys):
    files = [str(BMT / "TRB_Unsorted_0.tsv.gz"), str(BMT / "TRB_Unsorted_32.tsv.gz")]
    block = _json(capsys, files)["patients"][0]
    assert block["units"] == ["templates", "reads"]
    assert [r["unit"] for r in block["samples"]] == ["templates", "reads"]
    out = tmp_path / "d.tsv"
    assert main(["diversity", *files, "--depth", "min", "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and not out.exists()
    assert "different units (templates: 'TRB_Unsorted_0' (" in err[0]
    assert "; reads: 'TRB_Unsorted_32' (" in err[0] and "--unit FILE=UNIT" in err[0]


def test_cli_usage_errors(capsys):
    assert main(["diversity"]) == 2
    assert "give at least one FILE" in capsys.readouterr().err
    f = str(SHARING / "lb6.csv.gz")
    assert main(["diversity", f, "--depth", "max"]) == 2
    assert "'max' is neither 'min' nor a positive whole number" in capsys.readouterr().err
    assert main(["diversity", f, "--depth", "99999999"]) == 1
    assert "is more than sample(s) 'lb6'" in capsys.readouterr().err


def test_large_samples_are_subsampled_in_smaller_batches(monkeypatch):
    from tcrtrack.tl import _diversity

    counts = cells_from_sizes({"a": [5, 3, 1, 1], "b": [2, 2, 2, 2, 9, 1]})
    whole = tt.tl.diversity(counts, depth=10, n_repeats=13, seed=2)
    monkeypatch.setattr(_diversity, "_BATCH_CELLS", 7)  # one replicate per batch
    batched = tt.tl.diversity(counts, depth=10, n_repeats=13, seed=2)
    assert len(batched.replicates) == 26
    # a has 10 cells: every batch is the whole sample
    assert (batched.replicates.query("sample == 'a'")["richness"] == 4).all()
    b = batched.replicates.query("sample == 'b'")
    assert ((b["richness"] >= 3) & (b["richness"] <= 6)).all()
    assert whole.table.loc["a"].equals(batched.table.loc["a"])
