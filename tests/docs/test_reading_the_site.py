"""The built site reads well from disk: search works on file:// pages, the copy button of a
console block copies only its commands, wide tables fit at 1280 px, and API signatures are
formatted to fit.

The browser checks open the built pages in headless Chromium (``browser.py``); they are
skipped, saying why, where Chromium is not installed (on Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from tests.browser import Browser, needs_chromium

SHIM = "assets/javascripts/iframe-worker.js"

# Types "nesterov" into the search box as a reader would; once results are shown, their count and first title.
TYPE_A_QUERY = """(() => {
  const box = document.querySelector("input[data-md-component=search-query]");
  if (!box) return "";
  if (!window.typed) {
    window.typed = true;
    document.querySelector("label[for=__search]").click();
    box.value = "nesterov";
    box.dispatchEvent(new KeyboardEvent("keyup"));
    return "";
  }
  const results = document.querySelectorAll(".md-search-result__item");
  return results.length ? JSON.stringify([results.length, results[0].querySelector("h1, h2").textContent]) : "";
})()"""

# Clicks the copy button of the first console block (the one with a "$ " prompt) and returns
# what it put on the clipboard: clipboard.js selects a hidden textarea holding the text, then
# runs execCommand("copy"), which this replaces with a recorder.
COPY_FIRST_CONSOLE_BLOCK = """(() => {
  const code = [...document.querySelectorAll(".highlight code")].find((code) => code.querySelector(".gp"));
  const button = code && code.closest("pre").querySelector("button[data-clipboard-target]");
  if (!button) return "";
  const copied = [];
  document.execCommand = () => copied.push(document.activeElement.value);
  button.click();
  return JSON.stringify(copied);
})()"""


def test_the_search_index_is_also_a_script_and_every_page_loads_the_local_worker_shim(site: Path):
    """What search needs on file:// is in the site: the index as a script, the shim before Material's bundle."""
    script = (site / "search" / "search_index.js").read_text()
    assert script.startswith("var __index = {")
    assert (site / SHIM).is_file()
    for path in site.rglob("*.html"):
        page = path.read_text()
        shim, bundle = page.find(f'{SHIM}"></script>'), page.find("assets/javascripts/bundle.")
        assert 0 <= shim < bundle, f"{path.relative_to(site)} does not load {SHIM} before Material's bundle"
        assert "unpkg.com" not in page, path


@needs_chromium
def test_typing_a_query_into_a_page_opened_from_disk_shows_results(site: Path):
    with Browser() as browser:
        shown = browser.evaluate((site / "index.html").as_uri(), TYPE_A_QUERY)
    assert shown, "no search result appeared within the timeout on a file:// page"
    count, first_title = json.loads(shown)
    assert count > 0 and first_title


@needs_chromium
def test_the_copy_button_copies_the_commands_without_prompts_or_output(site: Path):
    """tiers/convolutional.md's generated ``nnscratch summary lenet`` block shows a prompt and the layer table."""
    with Browser() as browser:
        copied = browser.evaluate((site / "tiers" / "convolutional.html").as_uri(), COPY_FIRST_CONSOLE_BLOCK)
        several = browser.evaluate((site / "experiments" / "checkpoints.html").as_uri(), COPY_FIRST_CONSOLE_BLOCK)
    assert json.loads(copied) == ["nnscratch summary lenet"]
    commands = json.loads(several)[0].splitlines()
    assert len(commands) == 3 and all(command.startswith("nnscratch ") for command in commands), commands


# Once the page has loaded with its stylesheets, and with every folded block opened (a gallery
# page's long layer table is folded, and a closed block's table has no width to measure): how many
# pixels each table that overflows its box lacks.
TABLE_OVERFLOWS = """(() => {
  if (document.readyState !== "complete" || !document.querySelector(".md-content")) return "";
  document.querySelectorAll("details").forEach((details) => { details.open = true; });
  const wrappers = [...document.querySelectorAll(".md-typeset__scrollwrap")];
  const lacking = wrappers.map((wrapper) => wrapper.scrollWidth - wrapper.clientWidth);
  return JSON.stringify(lacking.filter((lack) => lack > 0));
})()"""


@needs_chromium
def test_every_table_of_every_page_fits_the_content_column_at_1280_pixels(site: Path):
    """Wide tables (the recipes' 9 columns, the benchmarks' 10) and long names in cells, which extra.css
    keeps whole, on every page: a new page is checked the day it is written. One browser reads them
    all, a fraction of a second a page."""
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html"))
    with Browser(width=1280) as browser:
        overflows = {page: browser.evaluate((site / page).as_uri(), TABLE_OVERFLOWS) for page in pages}
    too_wide = {page: lacking or "did not load" for page, lacking in overflows.items() if lacking != "[]"}
    assert not too_wide, f"tables wider than their box (px lacking, per table) on {len(too_wide)} page(s): {too_wide}"


def test_api_signatures_are_formatted_over_several_lines_that_fit_the_column(site: Path):
    """mkdocstrings formats a long signature (with black, of the [docs] extra) instead of one cut-off line."""
    page = (site / "reference" / "convolutional.html").read_text()
    signatures = [
        html.unescape(re.sub(r"<[^>]+>", "", body))
        for body in re.findall(r'<div class="doc-signature highlight"><pre>(.*?)</pre>', page, re.DOTALL)
    ]
    assert any(signature.count("\n") > 2 for signature in signatures), "no signature was split over lines"
    longest = max(len(line) for signature in signatures for line in signature.splitlines())
    assert longest <= 80, f"a signature line of {longest} characters does not fit the column"
