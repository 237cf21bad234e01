"""``python -m benchmarks`` end to end on tiny settings: the report's form, not its figures."""

import json

import pytest

from benchmarks import throughput
from scripts.docsgen.reports import THROUGHPUT_FILE, load_report


def test_a_run_writes_a_report_the_docs_accept(tmp_path, capsys, restore_torch_threads):
    argv = ["--models", "mlp", "scalar", "--rounds", "2", "--batches", "1", "--pause", "0", "--no-rss"]
    argv += ["--dataset", "sample", "--threads", "1", "--report-dir", str(tmp_path)]
    assert throughput.main(argv) == 0
    report = load_report(THROUGHPUT_FILE, tmp_path)
    assert report["command"] == "python -m benchmarks " + " ".join(argv)
    assert report["machine"]["threads"] == 1 and report["machine"]["blas"].endswith("threads 1)")
    mlp, scalar = report["results"]
    assert (mlp["model"], mlp["batch_size"], mlp["samples_per_measurement"]) == ("mlp", 64, 64)
    for key in ("train_samples_per_s", "inference_samples_per_s"):
        assert set(mlp[key]) == {"nnscratch", "pytorch"}
        assert set(scalar[key]) == {"nnscratch"}  # no PyTorch twin for the scalar tier
        for spread in (*mlp[key].values(), *scalar[key].values()):
            assert 0 < spread["min"] <= spread["median"] <= spread["max"]
    assert "peak_rss_mib" not in mlp
    markdown = (tmp_path / "throughput.md").read_text()
    assert "| mlp | cpu | 64 |" in markdown and "| scalar | cpu | 32 |" in markdown and "2 rounds" in markdown
    printed = capsys.readouterr().out
    assert "mlp (batch 64, 64 samples)" in printed and "ratio" in printed and str(tmp_path) in printed


def test_peak_rss_is_measured_for_each_library(tmp_path, monkeypatch, restore_torch_threads):
    calls = []

    def fake_peak_rss(library, model, batches, threads, dataset, data_dir=None):
        calls.append((library, model, batches, threads, dataset))
        return {"nnscratch": 100.0, "pytorch": 300.0}[library], True

    monkeypatch.setattr(throughput, "peak_rss_mib", fake_peak_rss)
    argv = ["--models", "mlp", "--quick", "--rounds", "1", "--batches", "1", "--pause", "0", "--dataset", "sample"]
    argv += ["--report-dir", str(tmp_path)]
    throughput.main(argv)
    result = json.loads((tmp_path / THROUGHPUT_FILE).read_text())["results"][0]
    assert result["peak_rss_mib"] == {"nnscratch": 100.0, "pytorch": 300.0}
    assert calls == [("nnscratch", "mlp", 2, 2, "sample"), ("pytorch", "mlp", 2, 2, "sample")]
    assert "high-water mark" in (tmp_path / "throughput.md").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--pause", "-1"], "argument --pause: must be a finite number >= 0, got -1"),
        (["--models", "resnet50"], "invalid choice: 'resnet50'"),
        (["--rounds", "0"], "argument --rounds: must be a positive integer, got 0"),
    ],
)
def test_bad_options_are_refused_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        throughput.parse_arguments(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_quick_means_fewer_rounds_and_batches():
    assert throughput.parse_arguments(["--quick"]).rounds == throughput.QUICK_ROUNDS
    assert throughput.parse_arguments(["--quick", "--rounds", "4"]).rounds == 4
    assert throughput.parse_arguments([]).rounds == throughput.ROUNDS
