"""``python -m benchmarks.watch_overhead`` on tiny settings: three variants timed, a report the docs accept."""

import pytest

from benchmarks import watch_overhead
from nnscratch.convolutional.architectures import build
from scripts.docsgen.reports import WATCH_OVERHEAD_FILE, load_report, watch_overhead_section


def test_a_smoke_run_times_the_three_variants_and_writes_a_report_the_docs_show(tmp_path, capsys):
    argv = ["--models", "lenet", "--quick", "--pause", "0", "--threads", "1", "--dataset", "sample", "--every", "2"]
    assert watch_overhead.main([*argv, "--report-dir", str(tmp_path)]) == 0
    assert "| lenet | 32 | 2 |" in capsys.readouterr().out
    (result,) = load_report(WATCH_OVERHEAD_FILE, tmp_path)["results"]
    assert (result["batches"], result["rounds"], result["every"]) == (2, 2, 2)
    assert all(result["step_ms"][variant]["min"] > 0 for variant in ("plain", "idle_hooks", "watched"))
    for variant in ("idle_hooks", "watched"):
        spread = result["overhead"][variant]
        assert spread["min"] <= spread["median"] <= spread["max"] and spread["min"] > -1
    section = watch_overhead_section(tmp_path)
    assert "| model | batch | every | plain ms | idle hooks ms | watched ms |" in section


def test_idle_hooks_are_one_of_each_kind_on_every_leaf_layer_and_change_nothing():
    model = build("lenet", 1, 10, 28)
    watch_overhead.add_idle_hooks(model)
    leaves = [module for _, module in model.named_modules() if not list(module.named_children())]
    assert all(sorted(len(hooks) for hooks in leaf._hooks.by_kind.values()) == [1, 1, 1, 1] for leaf in leaves)
    assert model._hooks is None, "the model itself (not a leaf) has none"


def test_a_round_that_is_not_a_whole_number_of_intervals_is_refused(capsys):
    with pytest.raises(SystemExit) as exit:
        watch_overhead.parse_arguments(["--every", "4", "--batches", "6"])
    assert exit.value.code == 2
    assert "--batches must be a multiple of --every (4), got 6" in capsys.readouterr().err
