"""The report in a real browser: `tcrtrack report` output opened in Debian's headless Chromium
(driven through chromedriver by selenium). Every figure has a drawn size, every image decodes,
and the page logs no console error.

Chromium is a system package: ``apt-get install -y chromium chromium-driver`` (``.ci/run`` installs
it). In CI (``CI`` set) a missing browser fails the test; elsewhere it skips, naming the command.

``TCRTRACK_UPDATE_SCREENSHOT=1 pytest tests/test_report_browser.py`` rewrites
``docs/img/report.png`` (the first screen, shown in docs/report.md).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tcrtrack.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "img" / "report.png"
APT = "apt-get update && apt-get install -y chromium chromium-driver"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
]

# Every <img> and <svg> of the page, its drawn box and, for an image, whether it decoded.
_FIGURES_JS = """
return Array.from(document.querySelectorAll('img, svg')).map(e => {
  const r = e.getBoundingClientRect();
  return {tag: e.tagName.toLowerCase(), alt: e.getAttribute('alt') || '',
          width: r.width, height: r.height,
          decoded: e.tagName === 'IMG' ? (e.complete && e.naturalWidth > 0) : true};
});
"""


def _binary(name: str) -> str | None:
    for candidate in (shutil.which(name), f"/usr/bin/{name}"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    chromium, driver_path = _binary("chromium"), _binary("chromedriver")
    if chromium is None or driver_path is None:
        missing = "chromium" if chromium is None else "chromedriver"
        if os.environ.get("CI"):
            pytest.fail(f"{missing} is not installed; CI must install it: {APT}")
        pytest.skip(f"{missing} is not installed; to run this test: {APT}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver, path: Path) -> tuple[list[dict], list[dict]]:
    """Load a page; return its figures and the console errors it logged."""
    driver.get_log("browser")  # empty the log of earlier pages
    driver.get(path.as_uri())
    driver.execute_script("return document.readyState")
    figures = driver.execute_script(_FIGURES_JS)
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    return figures, errors


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "patient1.html"
    # the README's command, run from the repository root (the page lists the paths as given)
    files = [f"examples/data/patient1/{name}.csv.gz" for name in ("infusion", "pbmc_3m", "pbmc_6m")]
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        assert main(["report", *files, "-o", str(out)]) == 0
    finally:
        os.chdir(here)
    return out


def test_every_figure_is_drawn_and_no_console_error(browser, report_page):
    figures, errors = _open(browser, report_page)
    html = report_page.read_text()
    # the figures the page embeds, counted in its source: one <img> per plot
    assert len(figures) == html.count("<img ") + len(re.findall(r"<svg[\s>]", html))
    assert len(figures) >= 4  # sharing curve, Venn diagram, clone tracks, overlap heat map
    for figure in figures:
        assert figure["width"] > 0 and figure["height"] > 0, figure
        assert figure["decoded"], figure
    assert errors == []


def test_first_screen(browser, report_page, tmp_path):
    browser.get(report_page.as_uri())
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == tuple(
        browser.execute_script("return [window.innerWidth, window.innerHeight]")
    )
    assert "Sharing with the reference" in browser.find_element("tag name", "body").text
    if os.environ.get("TCRTRACK_UPDATE_SCREENSHOT"):
        shutil.copyfile(shot, SCREENSHOT)


def test_the_check_sees_a_broken_figure_and_a_console_error(browser, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title></head><body>"
        '<img alt="broken" src="data:image/svg+xml;base64,bm90IGFuIHN2Zw==">'
        '<svg width="0" height="0"></svg>'
        "<script>console.error('drawn wrong')</script></body></html>"
    )
    figures, errors = _open(browser, page)
    assert [f["decoded"] for f in figures] == [False, True]
    assert [(f["width"], f["height"]) for f in figures][1] == (0, 0)
    assert len(errors) == 1 and "drawn wrong" in errors[0]["message"]
