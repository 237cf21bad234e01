"""A headless Chromium the tests can ask questions of (the docs site, the --report page), through the DevTools protocol.

Chromium started with ``--remote-debugging-pipe`` reads protocol commands on its file
descriptor 3 and writes replies on 4, each a JSON message ended by a NUL byte: no websocket
library and no port needed. ``Browser.evaluate`` opens a page and evaluates a JavaScript
expression in it until the expression gives a non-empty string, which lets a test wait for
what the page does after loading (a search, a click).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

# scripts/setup.sh installs Chromium when it runs as root (as CI does), so for root a missing
# browser is a failed install and the tests must say so; anyone else is told how to get it.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and os.geteuid() != 0,
    reason="chromium is not installed and only root can install it: sudo apt-get install -y chromium",
)


def chromium_path() -> str:
    """Where Chromium is; raises, naming the setup command, where it is missing."""
    if CHROMIUM is None:
        raise RuntimeError("chromium is missing although we run as root: `bash scripts/setup.sh test,docs` installs it")
    return CHROMIUM


def run_headless(url: str, profile: Path, *flags: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """One headless Chromium on ``url`` with ``flags`` (``--screenshot=PATH``, ``--dump-dom``...) and a fresh
    profile in the folder ``profile``; its result, stdout as text (the DOM, for ``--dump-dom``)."""
    command = [
        chromium_path(),
        "--headless",
        "--no-sandbox",  # Chromium's sandbox refuses to run as root; the page is our own file
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",  # a fresh profile: nothing shared with another run
        *flags,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


class Browser:
    """One headless Chromium process, its window ``width`` pixels wide; use it as a context manager."""

    def __init__(self, width: int = 1280) -> None:
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()

        def onto_3_and_4() -> None:  # in the child: the pipe ends where Chromium looks for them
            read_end, write_end = os.dup(commands_read), os.dup(replies_write)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        arguments = [chromium_path(), "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe"]
        arguments.append(f"--window-size={width},900")
        self._process = subprocess.Popen(
            [*arguments, "about:blank"],
            preexec_fn=onto_3_and_4,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(replies_write)
        self._received = b""
        self._last_id = 0

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self._process.kill()
        self._process.wait()
        os.close(self._commands)
        os.close(self._replies)

    def _call(self, method: str, params: dict, session: str | None = None) -> dict:
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:  # events arrive between replies: skip them until ours
            while b"\0" not in self._received:
                chunk = os.read(self._replies, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the DevTools pipe during {method}")
                self._received += chunk
            text, self._received = self._received.split(b"\0", 1)
            reply = json.loads(text)
            if reply.get("id") == self._last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, url: str, expression: str, timeout: float = 15.0) -> str:
        """Open ``url`` in a new tab; evaluate ``expression`` there until it gives a non-empty string.

        Returns that string, or "" when ``timeout`` seconds pass first; the tab is closed either way.
        """
        target = self._call("Target.createTarget", {"url": url})["targetId"]
        session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                result = self._call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
                value = result["result"].get("value")
                if isinstance(value, str) and value:
                    return value
                time.sleep(0.2)
            return ""
        finally:  # one tab open at a time, however many pages a test reads
            self._call("Target.closeTarget", {"targetId": target})
