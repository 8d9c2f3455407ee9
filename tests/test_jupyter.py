"""What a notebook user types works: every object the README shows can be inspected (a
one-line repr, an HTML view) and reused."""

from __future__ import annotations

from pathlib import Path

import pytest

import tcrtrack as tt
from tcrtrack.errors import NotFoundError, ParameterError

ROOT = Path(__file__).parents[1]
PATIENT = ROOT / "examples" / "data" / "patient1"
PATHS = [PATIENT / "infusion.csv.gz", PATIENT / "pbmc_3m.csv.gz"]


@pytest.fixture(scope="module")
def files():
    return tt.io.read_each(PATHS, samples=["infusion", "pbmc_3m"])


def test_read_each_is_reusable(files):
    first = tt.tl.clonotypes(files)
    second = tt.tl.clonotypes(files)  # a generator would be exhausted here
    assert first.samples == second.samples == ("infusion", "pbmc_3m")
    assert (first.matrix != second.matrix).nnz == 0
    assert [len(t) for t in files] == [len(t) for t in files]


def test_read_each_shows_its_files_without_reading_them(files, tmp_path):
    text = repr(files)
    assert text.startswith("ContigFiles(2 file(s), read one at a time: ")
    assert f"'infusion': '{PATHS[0]}'" in text and f"'pbmc_3m': '{PATHS[1]}'" in text
    assert len(files) == 2
    assert files.to_frame()["sample"].tolist() == ["infusion", "pbmc_3m"]
    assert "<b>ContigFiles</b>" in files._repr_html_()
    missing = tt.io.read_each([tmp_path / "not_yet.csv"])  # nothing is read on creation
    assert missing.samples == ("not_yet",)


def test_read_each_reads_one_sample_on_demand(files):
    table = files.read("pbmc_3m")
    assert set(table["sample"].astype(str)) == {"pbmc_3m"}
    assert len(table) == tt.qc(table).count("pbmc_3m", action="read")
    with pytest.raises(NotFoundError, match="no file of sample 'x'; samples: infusion, pbmc_3m"):
        files.read("x")


def test_read_each_checks_names_when_called():
    with pytest.raises(ParameterError, match="2 file\\(s\\) but 1 sample name"):
        tt.io.read_each(PATHS, samples=["a"])
    with pytest.raises(ParameterError, match="sample name\\(s\\) 'a' given to more than one"):
        tt.io.read_each(PATHS, samples=["a", "a"])


def test_a_long_list_of_files_is_cut_short(tmp_path):
    many = tt.io.read_each([tmp_path / f"s{i}.csv" for i in range(9)])
    assert repr(many).endswith("'s5': '" + str(tmp_path / "s5.csv") + "', ... and 3 more})")


def test_every_result_has_a_one_line_repr(files):
    counts = tt.tl.clonotypes(files)
    results = [
        counts,
        tt.tl.sharing(counts, reference="infusion"),
        tt.tl.venn_regions(counts, ["infusion", "pbmc_3m"]),
        tt.tl.rarefy(counts, reference="infusion", n=3),
        tt.tl.sharing_curve(counts, reference="infusion", depths=[100, 200], n=2),
        tt.tl.track(counts, reference="infusion", top=5),
        tt.qc(counts),
        tt.report.build(counts, reference="infusion", top=3),
    ]
    for result in results:
        text = repr(result)
        assert "\n" not in text and len(text) < 400, text
        assert text.startswith(type(result).__name__ + "("), text
        assert "DataFrame" not in text and "..." not in text.replace("... and", ""), text
        assert result._repr_html_().startswith("<")
    assert repr(results[1]) == (
        "Sharing(reference='infusion', samples=['pbmc_3m'], unit='cells', ci=0.95, "
        "spec='TRB junction nucleotides, multichain=primary')"
    )
