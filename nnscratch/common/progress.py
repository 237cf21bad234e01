"""Progress bars for long work (downloads, epochs), via tqdm.

A bar appears only on an interactive terminal: in logs, CI and pipes it stays silent, and
``quiet=True`` (the CLI's ``--quiet``) turns it off everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm


def progress_bar(iterable: Iterable | None = None, *, quiet: bool = False, **options: Any) -> tqdm:
    """A tqdm bar over ``iterable`` (or a manual one with ``total=``); disabled when quiet or not a TTY.

    options: passed to tqdm (``total``, ``desc``, ``unit``, ``initial``, ``leave`` ...).
    """
    # disable=None is tqdm's "only when attached to a terminal"
    return tqdm(iterable, disable=True if quiet else None, dynamic_ncols=True, **options)
