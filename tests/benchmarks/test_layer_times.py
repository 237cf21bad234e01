"""``python -m benchmarks.layer_times`` on tiny settings: every layer timed on both sides, and its report."""

import pytest

from benchmarks import layer_times
from benchmarks.torch_side import torch_setup
from benchmarks.workloads import build_setup, cli_settings
from nnscratch.common.datasets import load_dataset
from scripts.docsgen.reports import LAYER_TIMES_FILE, layer_kinds, load_report

LENET_LAYERS = [
    "Conv2D 1->6 5x5 s1 @28 banded",
    "ReLU",
    "MaxPool2D",
    "Conv2D 6->16 5x5 s1 @14 banded",
    "ReLU",
    "MaxPool2D",
    "Flatten",
    "Linear",
    "ReLU",
    "Linear",
    "ReLU",
    "Linear",
]


def test_a_run_times_every_layer_of_lenet_in_both_libraries_and_writes_a_report_the_docs_accept(
    tmp_path, capsys, restore_torch_threads
):
    argv = ["--models", "lenet", "--quick", "--pause", "0", "--threads", "1", "--dataset", "sample"]
    assert layer_times.main([*argv, "--report-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for layer in LENET_LAYERS:
        assert layer in printed
    report = load_report(LAYER_TIMES_FILE, tmp_path)
    (result,) = report["results"]
    assert (result["model"], result["batches"], result["rounds"]) == ("lenet", 1, 2)
    assert [layer["layer"] for layer in result["layers"]] == LENET_LAYERS
    assert [layer["name"] for layer in result["layers"]] == [str(index) for index in range(12)]
    for layer in result["layers"]:
        for library in ("nnscratch", "pytorch"):  # every layer of LeNet-5 is a module in both
            assert layer["ms"][library]["forward"] > 0 and layer["ms"][library]["backward"] > 0, layer
    assert all(result["rest_ms"][library] > 0 for library in ("nnscratch", "pytorch"))
    assert "| **whole step** |" in (tmp_path / "layer_times.md").read_text()


def test_every_layer_of_resnet18_is_timed_in_both_libraries_the_blocks_relus_included(restore_torch_threads):
    result = layer_times.profile("resnet18", load_dataset("sample"), batches=1, rounds=1, pause=0)
    by_name = {layer["name"]: layer for layer in result["layers"]}
    assert by_name["3.conv1"]["layer"] == "Conv2D 64->64 3x3 s1 @28 winograd"
    for name in ("3.conv1", "3.relu1", "3.relu_out", "11"):  # 11: the global average pool
        assert by_name[name]["ms"]["pytorch"]["backward"] > 0, name
    assert not any("in rest" in kind for kind in layer_kinds(result))


def test_a_layer_whose_twin_is_no_module_is_a_kind_of_its_own_with_no_pytorch_time():
    ms = {"forward": 1.0, "backward": 2.0}
    result = {
        "layers": [
            {"name": "0", "layer": "ReLU @28", "ms": {"nnscratch": ms, "pytorch": ms}},
            {"name": "1.relu", "layer": "ReLU @28", "ms": {"nnscratch": ms}},  # the twin calls F.relu
        ],
        "rest_ms": {"nnscratch": 4.0, "pytorch": 5.0},
    }
    kinds = layer_kinds(result)
    assert kinds["ReLU"] == {"nnscratch": 3.0, "pytorch": 3.0}
    assert kinds["ReLU (PyTorch's: in rest)"] == {"nnscratch": 3.0, "pytorch": 0.0}
    assert kinds["rest of the step"] == {"nnscratch": 4.0, "pytorch": 5.0}


def test_the_clocks_leave_the_models_as_they_were(restore_torch_threads):
    dataset = load_dataset("sample")
    ours = build_setup("lenet", cli_settings("lenet", dataset.name), dataset)
    theirs = torch_setup(ours)
    with layer_times.nnscratch_clock(ours.model, {}, {}):
        assert all(ours.model.layers[0]._hooks.by_kind.values())  # one hook of each of the four kinds
    with layer_times.torch_clock(theirs, {}):
        assert theirs.model[0]._forward_hooks
    assert all(layer._hooks is None for layer in ours.model.layers)
    assert not theirs.model[0]._forward_hooks and not theirs.model[0]._forward_pre_hooks


def test_the_scalar_tier_which_has_no_pytorch_twin_is_refused(capsys):
    with pytest.raises(SystemExit):
        layer_times.parse_arguments(["--models", "scalar"])
    assert "invalid choice: 'scalar'" in capsys.readouterr().err
