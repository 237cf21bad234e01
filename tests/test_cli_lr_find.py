"""`nnscratch lr-find ARCH`: a sweep on the bundled sample writes its plot and prints its suggestion."""

import re

import pytest

from nnscratch import cli
from nnscratch.cli import main


def test_lr_find_on_the_sample_writes_the_plot_and_prints_the_suggestion(tmp_path, capsys):
    plots = tmp_path / "plots"
    assert main(["lr-find", "lenet", "--dataset", "sample", "--steps", "40", "--plots", str(plots), "--quiet"]) == 0
    out = capsys.readouterr().out
    plot = plots / "lr-find-lenet.png"
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"plot: {plot}" in out
    suggestion = float(re.search(r"suggested learning rate: (\S+) \(train uses 0.02\)", out).group(1))
    assert 1e-7 <= suggestion <= 10.0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--start-lr", "1", "--end-lr", "0.1"], "--start-lr (1) must be smaller than --end-lr (0.1)"),
        (["--start-lr", "0.5", "--end-lr", "0.5"], "--start-lr (0.5) must be smaller than --end-lr (0.5)"),
        (["--steps", "1"], "--steps must be at least 2"),
        (["--no-augment", "--augment-hflip"], "--no-augment turns every augmentation off"),
    ],
)
def test_impossible_sweeps_are_refused_before_the_data_is_loaded(flags, message, capsys, monkeypatch):
    monkeypatch.setattr(cli.lr_find, "load_data", lambda args: pytest.fail("the data was loaded"))
    assert main(["lr-find", "lenet", *flags]) == 2
    assert message in capsys.readouterr().err
