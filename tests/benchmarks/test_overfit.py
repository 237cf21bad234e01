"""benchmarks.overfit: which architectures it runs, and that one batch is really overfit."""

from __future__ import annotations

import pytest

from benchmarks.overfit import TARGET_LOSS, architectures_to_run, overfit
from nnscratch.common.datasets import load_dataset
from nnscratch.convolutional.architectures import ARCHITECTURES


def test_no_name_means_every_architecture_and_names_are_kept_in_order():
    assert architectures_to_run([]) == list(ARCHITECTURES)
    assert architectures_to_run(["resnet18", "lenet"]) == ["resnet18", "lenet"]


def test_an_unknown_architecture_is_refused(capsys):
    with pytest.raises(SystemExit):
        architectures_to_run(["lenet7"])
    assert "unknown architecture(s) lenet7; choose from baseline" in capsys.readouterr().err


def test_lenet_overfits_32_real_images_within_the_step_budget():
    data = load_dataset("sample")
    steps, loss, seconds = overfit("lenet", data.normalize(data.x_train[:32]), data.y_train[:32])
    assert loss < TARGET_LOSS
    assert 1 < steps < 200
    assert seconds > 0
