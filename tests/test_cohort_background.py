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


def _cells(html: str, section: str) -> list[list[str]]:
    """The rows (header cells, then data cells) of every table of one report section."""
    from html.parser import HTMLParser

    body = html.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
    rows: list[list[str]] = []

    class Rows(HTMLParser):
        cell: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                rows.append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                rows[-1].append("".join(self.cell).strip())
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    Rows().feed(body)
    return rows


def test_report_background_section_counts_as_a_recount_does(store, donors_aa, tmp_path):
    files = [str(SHARING / f"{x}.csv.gz") for x in TENX]
    page = tmp_path / "p6.html"
    args = ["report", *files, "--sequence", "aa", "--top", "10", "--background", str(store.path)]
    assert main([*args, "--public-donors", "1", "--pgen", "-o", str(page)]) == 0
    html = page.read_text()
    assert "Public clones (background donors, generation probability)" in html
    assert "public = found in at least 1 of the store&#x27;s 3 background donors, not " in html
    sample_aa = {
        x: {naive_translate(nt) for nt in naive_10x(SHARING / f"{x}.csv.gz")} for x in TENX
    }
    background = [s for p, s in donors_aa.items() if p != "P6"]  # P6 is the patient

    def n_donors(aa: str) -> int:
        return sum(aa in s for s in background)

    rows = _cells(html, "public")
    by_sample = {r[0]: r[1:] for r in rows if r and r[0] in ("ln6", "lt6")}
    ref = sample_aa["lb6"]
    for x in ("ln6", "lt6"):
        shared = sample_aa[x] & ref
        public = {aa for aa in sample_aa[x] if n_donors(aa) >= 1}
        private, shared_private = len(sample_aa[x] - public), len(shared - public)
        assert by_sample[x] == [
            f"{len(shared):,}",
            f"{len(shared & public):,}",
            f"{shared_private:,}/{private:,} = {100 * shared_private / private:.2f}%",
        ]
    # the shared clonotypes, largest in lb6 first: donors, flag and OLGA's own Pgen
    clones = [r for r in rows if len(r) == 5 and r[0] in ref]
    assert len(clones) == 10
    sizes = pd.Series(naive_10x(SHARING / "lb6.csv.gz"))
    sizes = sizes.groupby(lambda nt: naive_translate(nt)).sum()
    found = ref & (sample_aa["ln6"] | sample_aa["lt6"])
    largest = sizes[list(found)].sort_values(ascending=False)
    # the 10 largest (ties at the 10th size may be listed in either order)
    assert sorted(sizes[[r[0] for r in clones]], reverse=True) == list(largest.iloc[:10])
    model = tt.cohort._background._olga_model("TRB")
    for aa, found_in, donors, flag, pgen in clones:
        assert int(found_in) == sum(aa in sample_aa[x] for x in ("ln6", "lt6"))
        assert int(donors) == n_donors(aa)
        assert flag == ("yes" if n_donors(aa) >= 1 else "no")
        assert pgen == f"{model.compute_aa_CDR3_pgen(aa):.3g}"


def test_report_pgen_without_background(tmp_path):
    files = [str(SHARING / f"{x}.csv.gz") for x in TENX]
    page = tmp_path / "p6.html"
    args = ["report", *files, "--sequence", "aa", "--top", "3", "--pgen", "-o", str(page)]
    assert main(args) == 0
    html = page.read_text()
    rows = _cells(html, "public")
    assert rows[0] == ["clonotype", "n_samples_found", "pgen"]  # no background columns
    assert "Background:" not in html.split('<section id="public">', 1)[1].split("</section>")[0]
    model = tt.cohort._background._olga_model("TRB")
    assert len(rows) == 4
    for aa, _, pgen in rows[1:]:
        assert pgen == f"{model.compute_aa_CDR3_pgen(aa):.3g}"
