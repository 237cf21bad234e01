"""``python -m benchmarks.onnx_inference`` on tiny settings: both sides timed, parity measured, a report shown."""

from benchmarks import onnx_inference
from scripts.docsgen.reports import ONNX_INFERENCE_FILE, load_report, onnx_inference_section


def test_a_smoke_run_times_both_sides_measures_parity_and_writes_a_report_the_docs_show(tmp_path):
    argv = ["--models", "lenet", "--quick", "--pause", "0", "--threads", "1", "--dataset", "sample", "--images", "64"]
    assert onnx_inference.main([*argv, "--report-dir", str(tmp_path)]) == 0
    report = load_report(ONNX_INFERENCE_FILE, tmp_path)
    (result,) = report["results"]
    assert (result["model"], result["batch_size"], result["images"], result["rounds"]) == ("lenet", 32, 64, 2)
    assert all(result["images_per_s"][side]["min"] > 0 for side in ("nnscratch", "onnxruntime"))
    assert [(row["model"], row["input"]) for row in report["parity"]] == [("lenet", "1x28x28"), ("lenet", "3x32x32")]
    assert all(list(row["max_abs_diff"]) == ["1", "7", "32"] for row in report["parity"])
    assert max(max(row["max_abs_diff"].values()) for row in report["parity"]) <= 1e-4
    assert "| lenet | 32 |" in onnx_inference_section(tmp_path)
