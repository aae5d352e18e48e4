"""The report page in a real browser (Debian's chromium, headless): it renders, every picture
loads from the page itself, and it asks for nothing outside itself."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from PIL import Image

from report_pages import Page
from test_report import mixed_tree

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                "(apt-get install chromium; CI installs it)")
#: Writes into the title how many pictures did not load, how many there are, and how many
#: resources the page fetched from anywhere.
PROBE = """<script>
addEventListener("load", () => {
  const images = [...document.images];
  const broken = images.filter(image => !image.complete || image.naturalWidth === 0).length;
  const fetched = performance.getEntriesByType("resource").length;
  document.title = `probe broken=${broken} images=${images.length} fetched=${fetched}`;
});
</script>"""


def chromium(tmp_path, *args, timeout=90):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", *map(str, args)]
    return subprocess.run(command, capture_output=True, timeout=timeout, check=True)


@pytest.fixture
def page_of_a_run(cli, tmp_path):
    mixed_tree(tmp_path / "in")
    result = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--max", 300, "--jobs", 2,
                 "--report", tmp_path / "report.html", "--log", tmp_path / "run.jsonl")
    assert result.exit_code == 1, result
    return tmp_path / "report.html"


def probe(tmp_path, page) -> dict[str, int]:
    """Load a copy of the page with the probe script and read back what it found."""
    copy = page.with_name(f"probed-{page.name}")
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", copy.as_uri()).stdout.decode()
    found = re.search(r"<title>probe broken=(\d+) images=(\d+) fetched=(\d+)</title>", dom)
    assert found, dom[:500]
    return dict(zip(("broken", "images", "fetched"), map(int, found.groups())))


def test_the_page_renders_in_chromium(page_of_a_run, tmp_path):
    shot = tmp_path / "shot.png"
    chromium(tmp_path, "--hide-scrollbars", "--window-size=1280,1600", f"--screenshot={shot}",
             page_of_a_run.as_uri())
    with Image.open(shot) as image:
        assert image.size == (1280, 1600)
        grey = image.convert("L")
        histogram = grey.histogram()
        dark = sum(histogram[:128]) / (image.width * image.height)
        assert 0.01 < dark < 0.6, dark  # text and pictures on a light page: neither blank nor black
        assert len(image.convert("RGB").getcolors(1 << 20) or []) > 1000  # the thumbnails' colours


def test_every_picture_loads_and_nothing_is_fetched(page_of_a_run, tmp_path):
    found = probe(tmp_path, page_of_a_run)
    assert found == {"broken": 0, "images": 10, "fetched": 0}
    assert Page(page_of_a_run).external_urls() == []


def test_the_page_made_from_the_log_loads_too(page_of_a_run, tmp_path, cli):
    result = cli("report", tmp_path / "run.jsonl", tmp_path / "from-log.html")
    assert result.exit_code == 0, result
    found = probe(tmp_path, tmp_path / "from-log.html")
    assert found == {"broken": 0, "images": 10, "fetched": 0}
