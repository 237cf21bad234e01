"""The built site in a real browser: headless Chromium opens the backprop page from disk, at 1280 px.

The screenshot must not be blank, and the computational-graph figure (``draw_graph``, generated
by the docs build) must be on it: its node boxes have a fill colour nothing else on the site uses.
Chromium comes from ``scripts/setup.sh`` (Debian's ``chromium`` package, installed when run as
root); without it, and without root to install it, the test is skipped and says so (``browser.py``).
The screenshot is Chromium's own ``--screenshot`` flag; the tests that need to run script in a
page use the DevTools pipe of ``browser.py`` instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from nnscratch.scalar.graph import NODE_FILL
from tests.browser import needs_chromium, run_headless

pytestmark = needs_chromium
WIDTH, HEIGHT = 1280, 2000  # the graph sits in the first screenful and a half of the page


@pytest.fixture(scope="module")
def screenshot(site: Path, tmp_path_factory) -> np.ndarray:
    """The backprop page as Chromium draws it: (HEIGHT, WIDTH, 3) floats in [0, 1]."""
    folder = tmp_path_factory.mktemp("browser")
    shot = folder / "backprop.png"
    result = run_headless(
        (site / "concepts" / "backprop.html").as_uri(),
        folder / "profile",
        f"--window-size={WIDTH},{HEIGHT}",
        "--virtual-time-budget=5000",  # wait for the images, scripts and KaTeX before the shot
        f"--screenshot={shot}",
    )
    assert result.returncode == 0 and shot.is_file(), f"chromium failed:\n{result.stderr[-2000:]}"
    return imread(shot)[:, :, :3]


def test_the_backprop_page_renders_at_1280_px_and_is_not_blank(screenshot):
    assert screenshot.shape == (HEIGHT, WIDTH, 3)
    ink = (screenshot < 0.9).any(axis=2)  # anything darker than near-white
    assert ink.mean() > 0.03, f"only {ink.mean():.1%} of the screenshot has ink: is the page blank?"


def test_the_graph_figure_is_drawn_on_the_page_from_disk(screenshot):
    close_to_fill = (np.abs(screenshot - np.array(to_rgb(NODE_FILL))) < 4 / 255).all(axis=2)
    rows, columns = np.nonzero(close_to_fill)
    assert close_to_fill.sum() > 2000, f"{close_to_fill.sum()} pixels of the graph's node colour: no figure"
    width = columns.max() - columns.min()
    assert width > WIDTH // 3, f"the graph's nodes span {width} px of a {WIDTH} px page: the figure is too small"
    assert rows.min() < HEIGHT // 2, "the graph should be in the first screenful of the page"
