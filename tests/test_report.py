"""tt.report.build and tcrtrack report: the page parses, holds the library's numbers, embeds one
figure per plot, links nothing outside, escapes user strings."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import tcrtrack as tt
from naive import naive_10x, naive_immunoseq
from tcrtrack.cli import main
from tcrtrack.errors import InputError
from tcrtrack.report._build import SECTIONS

PATIENT1 = Path(__file__).parents[1] / "examples" / "data" / "patient1"
EVIL = "<b>x</b>"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
FIGURE = re.compile(r'<img alt="[^"]*" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)">')


class _Checker(HTMLParser):
    """A strict tag-balance check: every non-void element closed, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.h2: list[str] = []
        self._in_h2 = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)
        self._in_h2 = tag == "h2"

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]!r}")
            return
        self.stack.pop()
        self._in_h2 = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_h2:
            self.h2.append(data)


def _parse(html: str) -> _Checker:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker


@pytest.fixture(scope="module")
def patient1():
    names = {"infusion": "infusion", "pbmc_3m": "pbmc_3m", EVIL: "pbmc_6m"}
    paths = {name: PATIENT1 / f"{stem}.csv.gz" for name, stem in names.items()}
    tables = [tt.io.read(path, sample=name) for name, path in paths.items()]
    counts = tt.tl.clonotypes(tt.pp.concat(tables))
    report = tt.report.build(counts, reference="infusion", inputs=paths, top=10)
    return counts, report, paths


def test_page_parses_and_has_every_section(patient1):
    _, report, _ = patient1
    checker = _parse(report.html)
    assert checker.errors == []
    assert checker.stack == []
    assert report.html.startswith("<!DOCTYPE html>")
    # every section but the optional one on public clones (only with a background or Pgen)
    assert checker.h2 == [h for key, h in SECTIONS.items() if key != "public"]
    assert "Public clones" not in report.html


def test_page_holds_the_sharing_numbers(patient1):
    counts, report, _ = patient1
    # the reference study's numbers for patient 1 (docs/concepts.md), independent of the code
    assert "640/6,560 = 9.76%" in report.html
    # every count of tt.tl.sharing, as the CLI shows them
    table = tt.tl.sharing(counts, reference="infusion").table
    for _, r in table.iterrows():
        assert f"{r.n_shared:,}/{r.n_clonotypes:,} = " in report.html
        assert f"{r.n_cells_shared:,}/{r.n_cells:,} = " in report.html
        assert f"{r.n_reference_cells_detected:,}/{r.n_reference_cells:,} = " in report.html
        low, high = r.frac_clonotypes_shared_low, r.frac_clonotypes_shared_high
        assert f"[{100 * low:.2f}-{100 * high:.2f}%]" in report.html  # as the CLI shows it


def test_page_holds_the_venn_regions_counted_naively(patient1):
    counts, report, _ = patient1
    dense = counts.to_frame()[list(counts.samples)] > 0
    # naive: the clonotypes in all three samples, and in the reference only
    all_three = int(dense.all(axis=1).sum())
    ref_only = int((dense["infusion"] & ~dense["pbmc_3m"] & ~dense[EVIL]).sum())
    text = "".join(_parse(report.html).text)
    assert f"{all_three:,}" in text and f"{ref_only:,}" in text
    assert all_three == 420  # the simulated patient's truth (docs/reproduce-study.md)


def test_one_embedded_svg_per_plot_and_nothing_external(patient1):
    _, report, _ = patient1
    figures = FIGURE.findall(report.html)
    # sharing curve, Venn diagram, clone track, origin, recapture, trajectories, overlap
    assert len(figures) == 7
    for data in figures:
        svg = base64.b64decode(data).decode("utf-8")
        assert "<svg" in svg and svg.rstrip().endswith("</svg>")
    lowered = report.html.lower()
    for bad in ('src="http', 'href="http', "src='http", "<script", "<link", "url("):
        assert bad not in lowered
    assert report.html.count("<img") == 7


def test_user_strings_are_escaped(patient1):
    _, report, _ = patient1
    assert EVIL not in report.html
    assert "&lt;b&gt;x&lt;/b&gt;" in report.html
    # nothing bold but what the builder writes itself
    assert "<b>x" not in report.html


def test_header_lists_files_with_size_and_sha256(patient1):
    import hashlib

    _, report, paths = patient1
    for path in paths.values():
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() in report.html
        assert f"{len(data):,}" in report.html
    assert tt.__version__ in report.html
    assert "TRB junction nucleotides, multichain=primary" in report.html


def test_qc_ledger_and_track_tables(patient1):
    counts, report, _ = patient1
    summary = counts.qc.summary()
    for name in counts.samples:
        assert f"{summary.loc[name, 'read']:,}" in report.html
        assert f"{summary.loc[name, 'kept']:,}" in report.html
    tracked = tt.tl.track(counts, reference="infusion", top=10)
    # every clone by its key (the junction), the amino acids beside it
    for key, aa in zip(tracked.sizes.index, tracked.clonotypes["junction_aa"], strict=True):
        assert re.search(f"<td>{key}</td>\\s*<td>{aa}</td>", report.html)


@pytest.fixture(scope="module")
def bundled():
    path = tt.datasets.path("pbmc3_t_filtered")
    tables = [tt.io.read_10x(path, sample=x) for x in ("a", "b", "c", "d")]
    return tt.tl.clonotypes(tt.pp.concat(tables))


def test_more_than_three_samples_draw_an_upset_plot(bundled):
    report = tt.report.build(bundled, reference="a", top=3)
    assert "UpSet plot" in report.html and "Venn diagram" not in report.html
    assert len(FIGURE.findall(report.html)) == 7
    assert _parse(report.html).errors == []


def test_same_seed_same_page_and_notebook_view(bundled):
    one = tt.report.build(bundled, reference="a", samples=["b"], top=3, seed=1)
    two = tt.report.build(bundled, reference="a", samples=["b"], top=3, seed=1)
    date = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert date.sub("", one.html) == date.sub("", two.html)
    assert "Venn diagram" in one.html
    view = one._repr_html_()
    assert view.startswith('<div class="tcrtrack-report">') and "<html" not in view


def test_write_and_its_error(bundled, tmp_path):
    report = tt.report.build(bundled, reference="a", samples=["b"], top=3)
    out = report.write(tmp_path / "r.html")
    assert out.read_text(encoding="utf-8") == report.html
    with pytest.raises(InputError, match=r"missing.*cannot write .*folder exists"):
        report.write(tmp_path / "missing" / "r.html")


@pytest.mark.parametrize(
    "failure", [KeyboardInterrupt, OSError(28, "No space left on device")], ids=["ctrl-c", "full"]
)
def test_an_interrupted_report_write_leaves_the_old_page(bundled, tmp_path, monkeypatch, failure):
    """``Report.write`` from Python writes as the command line does (one writer: a temporary
    file renamed over the page when complete), so a failed write keeps the previous page."""
    report = tt.report.build(bundled, reference="a", samples=["b"], top=3)
    out = tmp_path / "r.html"
    out.write_text("the previous page")
    written: list[Path] = []

    def half(self: Path, text: str, encoding: str | None = None) -> int:
        written.append(self)
        Path.write_bytes(self, text[:100].encode())
        raise failure

    monkeypatch.setattr(Path, "write_text", half)
    with pytest.raises((KeyboardInterrupt, InputError)):
        report.write(out)
    monkeypatch.undo()
    assert written and written[0] != out and written[0].parent == tmp_path
    assert out.read_text() == "the previous page"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_tables_and_airr_are_written_through_the_one_writer(bundled, tmp_path, monkeypatch):
    from tcrtrack import _atomic

    calls: list[Path] = []
    real = _atomic.write_atomic

    def spy(path, write):  # type: ignore[no-untyped-def]
        calls.append(Path(path))
        return real(path, write)

    monkeypatch.setattr(_atomic, "write_atomic", spy)
    monkeypatch.setattr("tcrtrack.io._write.write_atomic", spy)
    monkeypatch.setattr("tcrtrack.io._airr.write_atomic", spy)
    summary = tmp_path / "summary.tsv.gz"
    tt.io.write_table(bundled.summary(), summary)
    tt.io.write_table(bundled.summary(), tmp_path / "summary.parquet")
    contigs = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="p")
    tt.io.write_airr(contigs, tmp_path / "p.tsv")
    tt.report.build(bundled, reference="a", samples=["b"], top=3).write(tmp_path / "r.html")
    names = ["summary.tsv.gz", "summary.parquet", "p.tsv", "r.html"]
    assert [p.name for p in calls] == names
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    assert summary.read_bytes()[:2] == b"\x1f\x8b"  # compressed as the suffix says
    assert len(tt.io.read_airr(tmp_path / "p.tsv")) == len(contigs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"ci": 1.0}, ValueError, r"ci must be a level between 0 and 1.*got 1\.0"),
        ({"top": 0}, ValueError, r"top must be a positive number of clones, got 0"),
        ({"reference": "zz"}, KeyError, r"unknown sample 'zz'; samples are: a, b, c, d"),
        (
            {"samples": ["a", "b"]},
            ValueError,
            r"samples must be distinct and leave out the reference 'a', got \['a', 'b'\]",
        ),
    ],
    ids=["ci", "top", "reference", "reference-in-samples"],
)
def test_build_errors(bundled, kwargs, error, match):
    with pytest.raises(error, match=match):
        tt.report.build(bundled, **({"reference": "a"} | kwargs))


def test_cli_writes_the_report(tmp_path, capsys):
    out = tmp_path / "report.html"
    files = [str(PATIENT1 / f"{x}.csv.gz") for x in ("infusion", "pbmc_3m")]
    assert main(["report", *files, "--top", "5", "--depth", "5000", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "640/6,560 = 9.76%" in html
    assert "subsampled to 5,000 without replacement" in html
    assert len(FIGURE.findall(html)) == 7
    assert _parse(html).errors == []
    assert capsys.readouterr().err == f"tcrtrack: wrote {out}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["A", "B"], 2, "Missing option '-o' / '--output'"),
        (["A", "-o", "{tmp}/r.html"], 2, "give the reference file and at least one sample file"),
        (
            ["A", "B", "-o", "{tmp}/missing/r.html"],
            1,
            "tcrtrack: error: --output '{tmp}/missing/r.html': the folder '{tmp}/missing' does "
            "not exist",
        ),
        (["A", "B", "--ci", "1", "-o", "{tmp}/r.html"], 2, "Invalid value for '--ci'"),
    ],
    ids=["no-output", "no-sample", "missing-folder", "bad-ci"],
)
def test_cli_errors(tmp_path, capsys, args, status, message):
    files = {"A": str(PATIENT1 / "infusion.csv.gz"), "B": str(PATIENT1 / "pbmc_3m.csv.gz")}
    argv = [files.get(a, a.replace("{tmp}", str(tmp_path))) for a in args]
    assert main(["report", *argv]) == status
    err = capsys.readouterr().err
    assert message.replace("{tmp}", str(tmp_path)) in err
    if status == 1:
        assert err.count("\n") == 1
    assert not (tmp_path / "r.html").exists()


def test_cli_sample_sheet_writes_one_page_per_patient(tmp_path, capsys):
    bundled = tt.datasets.path("pbmc3_t_filtered")
    sheet = tmp_path / "cohort.tsv"
    sheet.write_text(
        "patient\tsample\ttimepoint\tpath\treference\n"
        f"P1\tp1_inf\t0\t{bundled}\ttrue\n"
        f"P1\tp1_d30\t30\t{bundled}\tfalse\n"
        f"P2\tp2_inf\t0\t{bundled}\ttrue\n"
        f"P2\tp2_d90\t90\t{bundled}\tfalse\n"
        f"P2\tp2_d30\t30\t{bundled}\tfalse\n"
    )
    out = tmp_path / "report.html"
    assert main(["report", "--samples", str(sheet), "--top", "3", "-o", str(out)]) == 0
    assert not out.exists()
    one = (tmp_path / "report_P1.html").read_text(encoding="utf-8")
    two = (tmp_path / "report_P2.html").read_text(encoding="utf-8")
    assert "patient P1: p1_inf vs p1_d30" in one and "p2_" not in one
    # the samples follow the time points, not the sheet's order
    assert "patient P2: p2_inf vs p2_d30, p2_d90" in two
    n = tt.tl.clonotypes(tt.io.read_10x(bundled, sample="x")).n_clonotypes
    assert f"{n:,}/{n:,} = 100.00%" in two
    assert _parse(two).errors == []


def test_cli_sample_sheet_with_files_is_a_usage_error(tmp_path, capsys):
    sheet = tmp_path / "cohort.tsv"
    sheet.write_text("patient\tsample\ttimepoint\tpath\n")
    files = [str(PATIENT1 / "infusion.csv.gz")]
    assert main(["report", *files, "--samples", str(sheet), "-o", str(tmp_path / "r.html")]) == 2
    assert "give either FILE arguments or --samples SHEET, not both" in capsys.readouterr().err


def test_top_clone_and_overlap_equal_a_naive_count(patient1):
    counts, report, _ = patient1
    frame = counts.to_frame()
    # the largest clone of the infusion, counted by hand: its cells and share of the 8,675 cells
    top = frame.sort_values("infusion", ascending=False, kind="stable").iloc[0]
    n = int(top["infusion"])
    assert f"<td>{top['junction_aa']}</td>" in report.html
    assert f"{n:,} ({100 * n / 8675:.2f}%)" in report.html
    # Morisita-Horn of infusion vs pbmc_3m, written out
    a = frame["infusion"].to_numpy(dtype=float)
    b = frame["pbmc_3m"].to_numpy(dtype=float)
    da, db = (a**2).sum() / a.sum() ** 2, (b**2).sum() / b.sum() ** 2
    mh = 2 * (a * b).sum() / ((da + db) * a.sum() * b.sum())
    assert f"<td>{mh:.3f}</td>" in report.html


BMT = Path(__file__).parents[1] / "examples" / "data" / "bmt"
SHARING = Path(__file__).parent / "data" / "sharing"


def _section(html: str, key: str) -> str:
    start = html.index(f'<section id="{key}">')
    return html[start : html.index("</section>", start)]


def test_persistence_section_holds_the_persist_numbers(patient1):
    counts, report, _ = patient1
    part = _section(report.html, "persistence")
    frame = counts.to_frame()
    ref = set(frame.index[frame["infusion"] > 0])
    for sample in ("pbmc_3m", EVIL):
        here = frame.index[frame[sample] > 0]
        # no baseline: origin 'reference' = the sample's clonotypes found in the infusion
        n_ref = sum(c in ref for c in here)
        assert f"{n_ref:,}/{len(ref):,} = " in part  # reference clonotypes detected
        assert f"{n_ref:,} ({100 * n_ref / len(here):.2f}%)" in part
    assert "No baseline" in part
    assert EVIL not in part and "&lt;b&gt;x&lt;/b&gt;" in part  # the name escaped
    assert len(FIGURE.findall(part)) == 3


def test_report_cli_with_a_baseline(tmp_path, capsys):
    """Real 10x files of one lung-cancer patient: tumour as REF, blood as the later sample,
    normal lung as the 'baseline' (roles for the test; the counts are what matter)."""
    out = tmp_path / "lung.html"
    ref, later, base = (SHARING / f"{x}.csv.gz" for x in ("lt6", "lb6", "ln6"))
    assert main(["report", str(ref), str(later), "--baseline", str(base), "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert _parse(html).errors == []
    assert "<dt>Baseline</dt><dd>ln6</dd>" in html
    part = _section(html, "persistence")
    # an independent recount of the origins from the raw contigs
    r, s, b = (set(naive_10x(p)) for p in (ref, later, base))
    counts = {
        "product": len((s & r) - b),
        "pre-existing": len(s & r & b),
        "baseline-only": len((s & b) - r),
        "unexplained": len(s - r - b),
    }
    assert sum(counts.values()) == len(s) and min(counts.values()) > 0
    for n in counts.values():
        assert f"{n:,} ({100 * n / len(s):.2f}%)" in part
    # the baseline is in the sample table and the overlap matrix, not in the sharing table
    assert "ln6" in _section(html, "samples") and "ln6" in _section(html, "overlap")
    assert "ln6" not in _section(html, "sharing")


def test_report_sheet_takes_the_baseline_row(tmp_path, capsys):
    """The real transplant series (immunoSEQ, one unit stated in the sheet): day 0 is the
    baseline row, day 32 the reference; the page shows day 0 as the baseline, not as a sample
    compared with the reference."""
    sheet = tmp_path / "sheet.tsv"
    rows = [("TRB_Unsorted_83", 82, "", ""), ("TRB_Unsorted_0", 0, "", "yes")]
    rows.append(("TRB_Unsorted_32", 32, "yes", ""))
    sheet.write_text(
        "patient\tsample\ttimepoint\tpath\treference\tbaseline\tunit\n"
        + "".join(
            f"BMT1\t{n}\t{d}\t{BMT / (n + '.tsv.gz')}\t{r}\t{b}\treads\n" for n, d, r, b in rows
        )
    )
    out = tmp_path / "r.html"
    assert main(["report", "--samples", str(sheet), "-o", str(out)]) == 0
    html = (tmp_path / "r_BMT1.html").read_text(encoding="utf-8")
    assert "patient BMT1: TRB_Unsorted_32 vs TRB_Unsorted_83</title>" in html
    assert "<dt>Baseline</dt><dd>TRB_Unsorted_0</dd>" in html
    r, s, b = (set(naive_immunoseq(BMT / f"TRB_Unsorted_{d}.tsv.gz")) for d in (32, 83, 0))
    n = len((s & r) - b)
    assert f"{n:,} ({100 * n / len(s):.2f}%)" in _section(html, "persistence")


def test_diversity_section_holds_the_diversity_numbers(patient1):
    import math

    counts, report, _ = patient1
    part = re.sub(r">\s+<", "><", _section(report.html, "diversity"))
    dense = counts.dense()
    for i, name in enumerate(counts.samples):
        # naive from the clone sizes: richness, Shannon, clonality, D50
        sizes = sorted((int(x) for x in dense[i] if x > 0), reverse=True)
        n = sum(sizes)
        shannon = -sum(x / n * math.log(x / n) for x in sizes)
        d50 = next(k for k in range(1, len(sizes) + 1) if 2 * sum(sizes[:k]) >= n)
        row = f"{n:,} cells</td><td>{len(sizes):,}</td><td>{shannon:.4f}</td>"
        assert row in part, name
        assert f"<td>{1 - shannon / math.log(len(sizes)):.4f}</td>" in part
        assert f"{d50:,} ({100 * d50 / len(sizes):.2f}%)" in part
    depth = int(counts.totals().min())
    assert f"At a common depth of {depth:,} cells" in part
    rarefied = tt.tl.diversity(counts, depth="min", seed=0).table
    for _, r in rarefied.iterrows():
        low, high = r["shannon_rarefied_low"], r["shannon_rarefied_high"]
        assert f"{r['shannon_rarefied']:.4f} [{low:.4f}-{high:.4f}]" in part
    assert EVIL not in part and "&lt;b&gt;x&lt;/b&gt;" in part
    assert "Diversity</dt>" in _section(report.html, "definitions")


def test_report_hashes_what_it_read_from_standard_input(tmp_path):
    """A sample given as ``-`` is listed with the size and SHA-256 of the bytes read from
    standard input (its one copy), not of the exhausted stream."""
    import hashlib

    from click.testing import CliRunner

    from tcrtrack.cli import cli

    data = (PATIENT1 / "pbmc_3m.csv.gz").read_bytes()
    out = tmp_path / "r.html"
    ref = str(PATIENT1 / "infusion.csv.gz")
    result = CliRunner().invoke(
        cli, ["report", ref, "-", "-n", "inf", "-n", "blood", "-o", str(out)], input=data
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert f"<td>{hashlib.sha256(data).hexdigest()}</td>" in html
    assert f"<td>{len(data):,}</td>" in html
