"""Reports: checked with the docs' own reader before they are written, written whole or not at all."""

import json

import pytest

from benchmarks.report import REPORTS_DIR, SMOKE_REPORTS_DIR, markdown_report, new_report, reports_dir, write_report
from scripts.docsgen.reports import ACCURACY_FILE, THROUGHPUT_FILE, ReportError, accuracy_table, throughput_table

SPREAD = {"median": 10.0, "min": 9.0, "max": 12.0}
RESULT = {
    "model": "lenet",
    "device": "cpu",
    "batch_size": 64,
    "train_samples_per_s": {"nnscratch": SPREAD, "pytorch": {"median": 8.0, "min": 7.0, "max": 9.0}},
    "peak_rss_mib": {"nnscratch": 100.0, "pytorch": 300.0},
}


def test_a_report_is_written_as_json_the_docs_accept_and_as_markdown(tmp_path):
    report = new_report({"cpu": "test CPU"}, "python -m benchmarks", [RESULT], notes=["a note"])
    markdown = markdown_report("Throughput", report, throughput_table, report["notes"])
    json_path, markdown_path = write_report(report, THROUGHPUT_FILE, markdown, tmp_path / "reports")
    assert json.loads(json_path.read_text()) == report
    text = markdown_path.read_text()
    assert text.startswith("# Throughput\n") and "1.25×" in text and "- a note" in text
    assert "machine: cpu test CPU" in text and "`python -m benchmarks`" in text
    assert sorted(path.name for path in json_path.parent.iterdir()) == ["throughput.json", "throughput.md"]
    assert json_path.stat().st_mode & 0o777 == markdown_path.stat().st_mode & 0o777 == 0o644


def test_a_malformed_report_is_refused_and_the_previous_one_kept(tmp_path):
    good = new_report({}, "python -m benchmarks.accuracy", [{"model": "mlp", "test_accuracy": {"nnscratch": 0.9}}])
    write_report(good, ACCURACY_FILE, "old", tmp_path)
    bad = new_report({}, "python -m benchmarks.accuracy", [{"model": "mlp", "test_accuracy": {"nnscratch": 90.0}}])
    with pytest.raises(ReportError, match=r"test_accuracy.nnscratch must be a fraction in \[0, 1\]"):
        write_report(bad, ACCURACY_FILE, markdown_report("Accuracy", bad, accuracy_table, []), tmp_path)
    assert json.loads((tmp_path / ACCURACY_FILE).read_text()) == good
    assert (tmp_path / "accuracy.md").read_text() == "old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["accuracy.json", "accuracy.md"]


def test_smoke_runs_write_outside_the_reports_the_docs_read():
    assert reports_dir(None, smoke=False) == REPORTS_DIR
    assert reports_dir(None, smoke=True) == SMOKE_REPORTS_DIR
    assert str(reports_dir("elsewhere", smoke=True)) == "elsewhere"
    assert SMOKE_REPORTS_DIR.parts[-2:] == ("out", "benchmarks")
