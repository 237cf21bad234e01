"""``python -m benchmarks.layer_times`` on tiny settings: every layer timed on both sides, and the rows add up."""

import pytest

from benchmarks import layer_times
from benchmarks.torch_side import torch_setup
from benchmarks.workloads import build_setup, cli_settings
from nnscratch.common.datasets import load_dataset

LENET_LAYERS = [
    "Conv2D 1->6 5x5 s1 @28 im2col",
    "ReLU",
    "MaxPool2D",
    "Conv2D 6->16 5x5 s1 @14 im2col",
    "ReLU",
    "MaxPool2D",
    "Flatten",
    "Linear",
    "ReLU",
    "Linear",
    "ReLU",
    "Linear",
]


def test_every_layer_of_lenet_is_timed_forward_and_backward_in_both_libraries(capsys, restore_torch_threads):
    argv = ["lenet", "--batches", "1", "--rounds", "1", "--pause", "0", "--threads", "1", "--dataset", "sample"]
    assert layer_times.main(argv) == 0
    printed = capsys.readouterr().out
    for layer in LENET_LAYERS:
        assert layer in printed
    assert "whole step" in printed and layer_times.REST in printed


def test_the_profile_has_a_time_for_each_layer_and_direction_and_the_rest_closes_the_step(restore_torch_threads):
    dataset = load_dataset("sample")
    result = layer_times.profile("lenet", dataset, batches=1, rounds=1, pause=0)
    assert result["names"] == [str(index) for index in range(12)]
    assert [result["layers"][name] for name in result["names"]] == LENET_LAYERS
    for side in ("nnscratch", "pytorch"):
        times = result["ms"][side]
        for name in result["names"]:
            assert times[f"{name} forward"] > 0, (side, name)
            assert times[f"{name} backward"] > 0, (side, name)  # layer 0 included: timed up to the step
        assert times[layer_times.REST] > 0
    text = layer_times.table(result)
    assert text.count("\n") > len(LENET_LAYERS)


def test_the_clocks_leave_the_models_as_they_were(restore_torch_threads):
    dataset = load_dataset("sample")
    ours = build_setup("lenet", cli_settings("lenet", dataset.name), dataset)
    theirs = torch_setup(ours)
    with layer_times.nnscratch_clock(ours.model, {}, {}):
        assert "forward" in vars(ours.model.layers[0])
    with layer_times.torch_clock(theirs, {}):
        assert theirs.model[0]._forward_hooks
    assert "forward" not in vars(ours.model.layers[0]) and "backward" not in vars(ours.model.layers[0])
    assert not theirs.model[0]._forward_hooks and not theirs.model[0]._forward_pre_hooks


def test_an_unknown_model_is_refused(capsys):
    with pytest.raises(SystemExit):
        layer_times.parse_arguments(["scalar"])
    assert "invalid choice: 'scalar'" in capsys.readouterr().err
