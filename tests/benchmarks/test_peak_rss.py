"""Peak memory: one child process per library, and the nnscratch child never loads torch; one training
step measured in a child, beside the estimate of ``nnscratch summary``."""

import pytest

from benchmarks.memory_estimate import compare, table
from benchmarks.peak_rss import main, one_step_memory_mib, peak_rss_mib


@pytest.mark.parametrize("library", ["nnscratch", "pytorch"])
def test_a_child_trains_a_few_batches_and_reports_its_peak(library):
    mib, training_only = peak_rss_mib(library, "mlp", batches=1, threads=1, dataset="sample")
    assert 10 < mib < 4096  # the interpreter alone is ~10 MiB; nothing here needs GiBs
    assert training_only  # Linux: the peak mark was reset after the setup


def test_a_failing_child_says_what_failed():
    with pytest.raises(
        RuntimeError,
        match=r"(?s)peak RSS of nnscratch resnet50: the child process failed:\n.*unknown architecture .resnet50.",
    ):
        peak_rss_mib("nnscratch", "resnet50", batches=1, threads=1, dataset="sample")


def test_one_step_is_measured_in_a_child_both_ways():
    measured = one_step_memory_mib("lenet", batch_size=4, threads=1, dataset="sample")
    assert set(measured) == {"traced_mib", "rss_growth_mib"}
    # the step holds at least the parameters and their gradients (61,706 float32 each)
    assert measured["traced_mib"] > 2 * 61706 * 4 / 2**20


def test_one_step_refuses_pytorch(capsys):
    with pytest.raises(SystemExit):
        main(["pytorch", "lenet", "--one-step"])
    assert "--one-step measures nnscratch only" in capsys.readouterr().err


def test_the_comparison_sets_the_summary_estimate_beside_the_measured_step():
    row = compare("lenet", 4, threads=1, dataset="sample", data_dir=None)
    assert row["batch_size"] == 4
    assert row["estimate_mib"] == pytest.approx(
        row["kept_mib"] + row["parameters_gradients_state_mib"] + row["workspace_mib"]
    )
    assert row["ratio_traced"] == pytest.approx(row["estimate_mib"] / row["traced_mib"])
    assert "| lenet | 4 |" in table({"results": [row]})
