"""Peak memory: one child process per library, and the nnscratch child never loads torch."""

import pytest

from benchmarks.peak_rss import peak_rss_mib


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
