"""``share --background STORE`` and ``--pgen``: public clones among the shared ones, counted
against a plain recount of the files, and Pgen equal to OLGA's own function.

Background store: the transplant patient (BMT1, 10 immunoSEQ files), the two simulated study
patients (SIM1, SIM2: 10x files) and the lung-cancer patient P6 himself (lb6, ln6, lt6), whose
own samples must not count as background.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tcrtrack as tt
from naive import naive_10x, naive_immunoseq, naive_translate
from tcrtrack.cli import main
from test_cohort import BMT, BMT_SAMPLES, SHARING, TENX

EXAMPLES = Path(__file__).parents[1] / "examples" / "data"
SIM = {"SIM1": EXAMPLES / "patient1", "SIM2": EXAMPLES / "patient2"}
STUDY = ["infusion", "pbmc_3m", "pbmc_6m"]


def store_samples() -> list[tuple[str, str, Path]]:
    rows = [("BMT1", x, BMT / f"{x}.tsv.gz") for x in BMT_SAMPLES]
    for patient, folder in SIM.items():
        rows += [(patient, f"{patient}_{x}", folder / f"{x}.csv.gz") for x in STUDY]
    return rows + [("P6", x, SHARING / f"{x}.csv.gz") for x in TENX]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tt.cohort.Store:
    folder = tmp_path_factory.mktemp("background")
    lines = ["patient\tsample\ttimepoint\tpath\tunit"]
    for i, (patient, sample, path) in enumerate(store_samples()):
        lines.append(f"{patient}\t{sample}\t{i}\t{path}\t{'reads' if patient == 'BMT1' else ''}")
    sheet = folder / "background.tsv"
    sheet.write_text("\n".join(lines) + "\n")
    return tt.cohort.build(sheet, folder / "store", partitions=4, workers=1).store


@pytest.fixture(scope="module")
def donors_aa() -> dict[str, set[str]]:
    """Per patient: the amino-acid junctions of all their samples, recounted from the files."""
    out: dict[str, set[str]] = {}
    for patient, _, path in store_samples():
        counts = naive_immunoseq(path) if patient == "BMT1" else naive_10x(path)
        out.setdefault(patient, set()).update(naive_translate(nt) for nt in counts)
    return out


def test_share_background_flags_public_clones_as_a_recount_does(store, donors_aa, tmp_path):
    files = [str(SHARING / f"{x}.csv.gz") for x in TENX]
    clones_file = tmp_path / "shared.tsv"
    out = tmp_path / "share.json"
    options = ["--public-donors", "1", "--shared-clonotypes", str(clones_file)]
    args = ["share", *files, "--sequence", "aa", "--background", str(store.path), *options]
    code = main([*args, "-f", "json", "-o", str(out)])
    assert code == 0
    (payload,) = json.loads(out.read_text())["patients"]
    # P6's own samples are in the store: they are not background
    assert payload["background"] == {
        "store": str(store.path),
        "public_donors": 1,
        "n_donors": 3,
        "excluded": ["P6"],
    }
    sample_aa = {
        x: {naive_translate(nt) for nt in naive_10x(SHARING / f"{x}.csv.gz")} for x in TENX
    }
    background = {p: s for p, s in donors_aa.items() if p != "P6"}

    def n_donors(aa: str) -> int:
        return sum(aa in s for s in background.values())

    ref = sample_aa["lb6"]
    rows = {r["sample"]: r for r in payload["rows"]}
    total_public = 0
    for x in ("ln6", "lt6"):
        shared = sample_aa[x] & ref
        public = {aa for aa in sample_aa[x] if n_donors(aa) >= 1}
        total_public += len(shared & public)
        r = rows[x]
        assert r["n_shared"] == len(shared)
        assert r["n_public"] == len(public)
        assert r["n_shared_public"] == len(shared & public)
        assert r["n_clonotypes_private"] == len(sample_aa[x] - public)
        assert r["n_shared_private"] == len(shared - public)
        assert r["frac_clonotypes_shared_private"] == pytest.approx(
            len(shared - public) / len(sample_aa[x] - public)
        )
    assert total_public > 0  # the test data do have public clones
    table = pd.read_csv(clones_file, sep="\t")
    expected = {aa: n_donors(aa) for aa in ref & (sample_aa["ln6"] | sample_aa["lt6"])}
    assert dict(zip(table["clonotype"], table["n_background_donors"], strict=True)) == expected
    assert (table["public"] == (table["n_background_donors"] >= 1)).all()


def test_public_donors_k_and_the_sheets_patient_excluded(store, donors_aa, tmp_path):
    sheet = tmp_path / "p6.tsv"
    sheet.write_text(
        "patient\tsample\ttimepoint\tpath\treference\n"
        + "".join(
            f"P6\t{x}\t{i}\t{SHARING / f'{x}.csv.gz'}\t{'true' if x == 'lb6' else ''}\n"
            for i, x in enumerate(TENX)
        )
    )
    out = tmp_path / "share.json"
    args = ["share", "--samples", str(sheet), "--sequence", "aa", "--background", str(store.path)]
    assert main([*args, "--public-donors", "2", "-f", "json", "-o", str(out)]) == 0
    block = json.loads(out.read_text())["patients"][0]
    assert block["background"]["excluded"] == ["P6"]
    assert block["background"]["public_donors"] == 2
    background = [s for p, s in donors_aa.items() if p != "P6"]
    for clone in block["shared_clonotypes"]:
        n = sum(clone["clonotype"] in s for s in background)
        assert clone["n_background_donors"] == n
        assert clone["public"] == (n >= 2)


def test_background_refuses_another_chain(store):
    counts = tt.tl.clonotypes(
        tt.io.read(SHARING / "lb6.csv.gz", sample="lb6"), tt.tl.ClonotypeSpec(locus="TRA")
    )
    with pytest.raises(tt.errors.ParameterError, match="the store holds TRB clonotypes"):
        tt.cohort.background(counts, reference="lb6", store=store, workers=1)


def olga_own_pgen(cdr3s: list[str]) -> list[float]:
    """OLGA's documented way: load the bundled human TRB model, call compute_aa_CDR3_pgen."""
    import gc
    import warnings

    import olga
    import olga.generation_probability as pgen
    import olga.load_model as load_model

    folder = os.path.join(os.path.dirname(olga.__file__), "default_models", "human_T_beta")
    genomic = load_model.GenomicDataVDJ()
    model = load_model.GenerativeModelVDJ()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        genomic.load_igor_genomic_data(
            os.path.join(folder, "model_params.txt"),
            os.path.join(folder, "V_gene_CDR3_anchors.csv"),
            os.path.join(folder, "J_gene_CDR3_anchors.csv"),
        )
        model.load_and_process_igor_model(os.path.join(folder, "model_marginals.txt"))
        gc.collect()
    p = pgen.GenerationProbabilityVDJ(model, genomic)
    return [p.compute_aa_CDR3_pgen(x) for x in cdr3s]


def test_pgen_equals_olgas_own_function():
    cdr3s = ["CASSLGQAYEQYF", "CASSPVSNEQFF", "CAWSRATNEKLFF", "CSAREGFSGRALSYNEQFF"]
    ours = tt.cohort.pgen(cdr3s)
    assert ours.tolist() == olga_own_pgen(cdr3s)
    assert (ours > 0).all()
    # a junction OLGA cannot score (a stop) is 0, not an error
    assert tt.cohort.pgen(["CASS*F"]).tolist() == [0.0]


def test_share_pgen_column(tmp_path):
    files = [str(SHARING / f"{x}.csv.gz") for x in ("lb6", "ln6")]
    clones_file = tmp_path / "shared.tsv"
    assert main(["share", *files, "--pgen", "--shared-clonotypes", str(clones_file)]) == 0
    table = pd.read_csv(clones_file, sep="\t")
    expected = olga_own_pgen(table["junction_aa"].head(5).tolist())
    np.testing.assert_allclose(table["pgen"].head(5).to_numpy(), expected, rtol=1e-12)
    assert "public" not in table.columns  # no --background: no publicity


def test_public_donors_without_background_is_a_usage_error(capsys):
    files = [str(SHARING / f"{x}.csv.gz") for x in ("lb6", "ln6")]
    assert main(["share", *files, "--public-donors", "3"]) == 2
    assert "--public-donors applies to --background" in capsys.readouterr().err


def test_persist_background_on_every_reference_clone(store, tmp_path):
    donors_nt: dict[str, set[str]] = {}
    for patient, _, path in store_samples():
        if patient != "P6":
            counts = naive_immunoseq(path) if patient == "BMT1" else naive_10x(path)
            donors_nt.setdefault(patient, set()).update(counts)
    files = [str(SHARING / f"{x}.csv.gz") for x in TENX]
    clones_file = tmp_path / "clones.tsv"
    out = tmp_path / "persist.json"
    args = ["persist", *files, "--background", str(store.path), "--public-donors", "1"]
    assert main([*args, "--clones", str(clones_file), "-f", "json", "-o", str(out)]) == 0
    clones = pd.read_csv(clones_file, sep="\t")
    reference = naive_10x(SHARING / "lb6.csv.gz")
    assert set(clones["clonotype"]) == set(reference)  # every reference clone, nt junctions
    n = clones["clonotype"].map(lambda nt: sum(nt in s for s in donors_nt.values()))
    assert (clones["n_background_donors"] == n).all()
    assert (clones["public"] == (n >= 1)).all()
    block = json.loads(out.read_text())["patients"][0]
    assert block["background"]["excluded"] == ["P6"]
    later = {x: set(naive_10x(SHARING / f"{x}.csv.gz")) for x in ("ln6", "lt6")}
    public = {nt for s in donors_nt.values() for nt in s}
    rows = {r["sample"]: r for r in block["background"]["sharing"]}
    for x, clonotypes in later.items():
        shared = clonotypes & set(reference)
        assert rows[x]["n_shared_public"] == len(shared & public)
        assert rows[x]["n_shared_private"] == len(shared - public)
        assert rows[x]["n_clonotypes_private"] == len(clonotypes - public)


def test_track_background_and_pgen_on_every_tracked_clone(store, donors_aa, tmp_path):
    files = [str(SHARING / f"{x}.csv.gz") for x in TENX]
    out = tmp_path / "track.tsv"
    args = ["track", *files, "--sequence", "aa", "--top", "200", "--background", str(store.path)]
    assert main([*args, "--public-donors", "1", "--pgen", "-f", "tsv", "-o", str(out)]) == 0
    table = pd.read_csv(out, sep="\t")
    reference = naive_10x(SHARING / "lb6.csv.gz")
    sizes = pd.Series(reference).groupby(lambda nt: naive_translate(nt)).sum()
    assert len(table) == 200 and set(table["clonotype"]) <= set(sizes.index)
    assert (sizes[table["clonotype"]].to_numpy() == table["count_lb6"].to_numpy()).all()
    background = [s for p, s in donors_aa.items() if p != "P6"]  # P6 is the patient
    n = table["clonotype"].map(lambda aa: sum(aa in s for s in background))
    assert (table["n_background_donors"] == n).all()
    assert (table["public"] == (n >= 1)).all()
    assert table["public"].any() and not table["public"].all()
    import olga.generation_probability  # noqa: F401  (the model is tcrtrack's, the function OLGA's)

    model = tt.cohort._background._olga_model("TRB")
    for aa, p in list(zip(table["clonotype"], table["pgen"], strict=True))[:5]:
        assert p == pytest.approx(model.compute_aa_CDR3_pgen(aa), rel=1e-12)
    text = tmp_path / "track.txt"
    assert main([*args[:6], "--top", "5", *args[8:], "-o", str(text)]) == 0
    assert "public = found in at least 2 of the store's 3 background donors" in text.read_text()
