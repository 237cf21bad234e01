"""The generators behind the site: measured numbers come only from reports, directives fail loudly."""

from __future__ import annotations

import json

import pytest

from scripts.docsgen.cli_reference import cli_reference
from scripts.docsgen.directives import DirectiveError, Generator
from scripts.docsgen.gallery import model_section, overview
from scripts.docsgen.reports import (
    ACCURACY_FILE,
    CONV_MODULES_FILE,
    LAYER_TIMES_FILE,
    NOT_MEASURED,
    ONNX_INFERENCE_FILE,
    THROUGHPUT_FILE,
    ReportError,
    conv_modules_section,
    layer_times_section,
    load_report,
    model_measurements,
    onnx_inference_section,
    performance_section,
)
from tests.docs.pages import DOCS, blocks

THROUGHPUT = {
    "machine": {"cpu": "test CPU", "threads": 2},
    "date": "2030-01-02",
    "command": "make bench",
    "results": [
        {
            "model": "lenet",
            "device": "cpu",
            "batch_size": 64,
            "train_samples_per_s": {
                "nnscratch": {"median": 12000.0, "min": 11000.0, "max": 12500.0},
                "pytorch": {"median": 10000.0, "min": 9500.0, "max": 10400.0},
            },
            "inference_samples_per_s": {
                "nnscratch": {"median": 50000.0, "min": 48000.0, "max": 51000.0},
                "pytorch": {"median": 40000.0, "min": 39000.0, "max": 41000.0},
            },
            "peak_rss_mib": {"nnscratch": 300.0, "pytorch": 280.0},
        },
        {
            "model": "scalar",
            "train_samples_per_s": {"nnscratch": {"median": 150.0, "min": 140.0, "max": 155.0}},
        },
    ],
}
ACCURACY = {
    "date": "2030-01-03",
    "results": [
        {
            "model": "lenet",
            "dataset": "fashion-mnist",
            "epochs": 15,
            "test_accuracy": {"nnscratch": 0.9051, "pytorch": 0.9032},
            "seconds": {"nnscratch": 600.0, "pytorch": 500.0},
        }
    ],
}


def write_reports(folder, throughput=THROUGHPUT, accuracy=ACCURACY):
    (folder / THROUGHPUT_FILE).write_text(json.dumps(throughput))
    (folder / ACCURACY_FILE).write_text(json.dumps(accuracy))
    return folder


def test_without_reports_every_measured_number_is_not_measured_yet(tmp_path):
    page = performance_section(tmp_path)
    assert page.count(NOT_MEASURED) == 2 and THROUGHPUT_FILE in page and ACCURACY_FILE in page
    assert model_measurements("lenet", tmp_path).count(NOT_MEASURED.capitalize()) == 2
    assert overview(tmp_path).count(NOT_MEASURED) == 14  # accuracy and speed of each of 7 models


def test_the_tables_show_the_reported_numbers_medians_ranges_and_ratios(tmp_path):
    page = performance_section(write_reports(tmp_path))
    assert "12,000 (11,000–12,500)" in page and "10,000 (9,500–10,400)" in page
    assert "1.20×" in page and "1.25×" in page  # training and inference ratios
    assert "300 / 280" in page
    assert "90.51%" in page and "90.32%" in page and "+0.19 pp" in page
    assert "measured on 2030-01-02" in page and "cpu test CPU, threads 2" in page and "`make bench`" in page
    assert NOT_MEASURED not in page
    scalar_row = next(line for line in page.splitlines() if line.startswith("| scalar"))
    assert "150 (140–155)" in scalar_row and "—" in scalar_row  # no PyTorch twin, no ratio


def test_a_gallery_page_shows_its_model_numbers_and_says_what_is_missing(tmp_path):
    write_reports(tmp_path)
    lenet = model_section("lenet", tmp_path)
    assert "90.51%" in lenet and "12,000" in lenet and NOT_MEASURED not in lenet.lower()
    resnet = model_section("resnet18", tmp_path)
    assert resnet.count(NOT_MEASURED.capitalize()) == 2
    assert "90.51%" in overview(tmp_path)


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ({"results": {}}, '"results" must be a list'),
        ({"results": [{"model": "lenet"}]}, "needs a 'nnscratch' entry"),
        ({"results": [{"model": "lenet", "train_samples_per_s": {"nnscratch": 5.0}}]}, "median, min, max"),
        ({"results": [{"model": "lenet", "train_samples_per_s": {"tf": {}}}]}, "needs a 'nnscratch' entry"),
    ],
)
def test_a_malformed_throughput_report_stops_the_build_saying_what_is_wrong(tmp_path, report, message):
    (tmp_path / THROUGHPUT_FILE).write_text(json.dumps(report))
    with pytest.raises(ReportError, match=message):
        performance_section(tmp_path)


def test_an_accuracy_that_is_not_a_fraction_is_refused(tmp_path):
    bad = {"results": [{"model": "mlp", "test_accuracy": {"nnscratch": 90.5}}]}
    (tmp_path / ACCURACY_FILE).write_text(json.dumps(bad))
    with pytest.raises(ReportError, match=r"fraction in \[0, 1\]"):
        performance_section(tmp_path)
    (tmp_path / ACCURACY_FILE).write_text("{not json")
    with pytest.raises(ReportError, match="not valid JSON"):
        performance_section(tmp_path)


def test_unknown_directives_and_wrong_arguments_stop_the_build(tmp_path):
    generator = Generator(reports_dir=tmp_path)
    with pytest.raises(DirectiveError, match="unknown directive 'galery'"):
        generator.expand("<!-- generate: galery -->", "page.md")
    with pytest.raises(DirectiveError, match="takes 1 argument"):
        generator.expand("<!-- generate: gallery-model -->", "page.md")
    with pytest.raises(DirectiveError, match="no demo run"):
        generator.expand("<!-- generate: demo-run -->", "page.md")
    assert generator.expand("text\n<!-- generate: recipes -->\n", "page.md").startswith("text\n| architecture |")


def test_the_cli_reference_expands_every_help_text():
    reference = cli_reference()
    assert "%(" not in reference
    assert "default: None" not in reference  # train's recipe defaults are named as such


def test_every_concept_page_ends_with_exercises_whose_collapsible_solutions_are_checked():
    for path in sorted((DOCS / "concepts").glob("*.md")):
        if path.name == "index.md":
            continue
        text = path.read_text()
        assert "\n## Exercises\n" in text, f"{path.name} has no exercises"
        solutions = [block for block in blocks(path) if block.container == 'success "Solution"']
        assert solutions, f"{path.name}: no collapsible solution with code"
        for block in solutions:
            assert block.language == "python", block.where
            assert "assert" in block.code or "gradcheck" in block.code, f"{block.where}: a solution that checks nothing"
        assert text.index("## Exercises") < text.index('??? success "Solution"'), path.name


def test_the_scalar_page_shows_the_trace_of_a_4_3_2_net_with_its_output():
    consoles = [block for block in blocks(DOCS / "tiers" / "scalar.md") if block.language == "console"]
    trace = next(block for block in consoles if block.code.startswith("$ nnscratch scalar --trace\n"))
    assert "Trace of one sample through a 4-3-2 network" in trace.code  # test_code_blocks runs it and compares


def test_docstrings_are_made_markdown_safe_for_the_api_reference():
    from docs.hooks.griffe_markdown import as_markdown

    docstring = "A :class:`Dataset` of (C*kh*kw, N*H'*W') columns, ``a*b`` kept.\n\n    y = x*w   (code)"
    expected = "A `Dataset` of (C\\*kh\\*kw, N\\*H'\\*W') columns, ``a*b`` kept.\n\n    y = x*w   (code)"
    assert as_markdown(docstring) == expected


LAYER_TIMES = {
    "machine": {"cpu": "Test CPU"},
    "date": "2026-12-02",
    "command": "python -m benchmarks.layer_times",
    "results": [
        {
            "model": "resnet18",
            "batch_size": 64,
            "batches": 2,
            "rounds": 5,
            "layers": [
                {
                    "name": "3.conv1",
                    "layer": "Conv2D 64->64 3x3 s1 @28 winograd",
                    "ms": {
                        "nnscratch": {"forward": 30.0, "backward": 50.0},
                        "pytorch": {"forward": 20.0, "backward": 20.0},
                    },
                },
                {
                    "name": "4.conv1",
                    "layer": "Conv2D 64->64 3x3 s1 @28 winograd",
                    "ms": {
                        "nnscratch": {"forward": 10.0, "backward": 10.0},
                        "pytorch": {"forward": 10.0, "backward": 10.0},
                    },
                },
                {"name": "3.relu1", "layer": "ReLU", "ms": {"nnscratch": {"forward": 2.0, "backward": 1.0}}},
            ],
            "rest_ms": {"nnscratch": 7.0, "pytorch": 20.0},
        }
    ],
}


def test_layer_times_are_summed_per_kind_with_shares_and_speed(tmp_path):
    assert NOT_MEASURED in layer_times_section(tmp_path)
    (tmp_path / LAYER_TIMES_FILE).write_text(json.dumps(LAYER_TIMES))
    page = layer_times_section(tmp_path)
    assert "measured on 2026-12-02" in page and "**resnet18**, ms per training step of 64 samples" in page
    # both 64->64 convolutions make one kind: 100 ms of our 110, 60 of PyTorch's 80
    assert "| Conv2D 64->64 3x3 s1 | 100.00 | 91% | 60.00 | 75% | 0.60× |" in page
    assert "| ReLU (PyTorch's: in rest) | 3.00 | 3% | — | — | — |" in page
    assert "| rest of the step | 7.00 | 6% | 20.00 | 25% | 2.86× |" in page
    assert "| **whole step** | 110.00 |  | 80.00 |  | 0.73× |" in page


def test_a_layer_time_without_both_directions_stops_the_build(tmp_path):
    report = json.loads(json.dumps(LAYER_TIMES))
    del report["results"][0]["layers"][0]["ms"]["pytorch"]["backward"]
    (tmp_path / LAYER_TIMES_FILE).write_text(json.dumps(report))
    with pytest.raises(ReportError, match=r"layers\[0\]\.ms\.pytorch must be \{forward, backward\} numbers"):
        layer_times_section(tmp_path)


def spread(median):
    return {"median": median, "min": median * 0.9, "max": median * 1.2}


CONV_MODULES = {
    "machine": {"cpu": "test CPU"},
    "date": "2026-12-02",
    "command": "python -m benchmarks.conv_modules",
    "results": [
        {
            "model": "baseline",
            "layer": "conv2",
            "shape": "32->32 3x3 s1 p1 @28",
            "batch_size": 64,
            "ms": {"nnscratch": spread(30.0), "pytorch": spread(12.0)},
            "products_ms": {"im2col": spread(20.0), "winograd": spread(8.0)},
            "route": "winograd",
            "reference_ms": spread(45.0),
        },
        {
            "model": "resnet18",
            "layer": "layer2 down",
            "shape": "64->128 3x3 s2 p1 @28",
            "batch_size": 64,
            "ms": {"nnscratch": spread(50.0), "pytorch": spread(25.0)},
            "products_ms": {"im2col": spread(25.0)},
        },
    ],
    "memory": {"layer": "resnet18 layer1", "peak_mib": {"nnscratch": 86.6, "pytorch": 117.9}},
}


def test_the_convolution_table_shows_each_layer_its_speed_and_floor_from_the_fastest_products(tmp_path):
    assert NOT_MEASURED in conv_modules_section(tmp_path)
    (tmp_path / CONV_MODULES_FILE).write_text(json.dumps(CONV_MODULES))
    page = conv_modules_section(tmp_path)
    assert "measured on 2026-12-02" in page and ", batch 64." in page
    # PyTorch 12 ms over our 30 is 0.40x; over Winograd's 8 ms of products (faster than im2col's 20) 1.50x
    assert "| baseline | conv2 | 32->32 3x3 s1 p1 @28 | 30.00 (27.00–36.00) | 12.00 (10.80–14.40) | 0.40× |" in page
    assert "| 8.00 (winograd) | 1.50× |" in page
    assert "| 25.00 (im2col) | 1.00× |" in page
    # the route auto took, the reference's 45 ms and its price over auto's 30; a report from before the routes: dashes
    assert "| 1.50× | `winograd` | 45.00 | 1.50× |" in page
    assert "| 25.00 (im2col) | 1.00× | — | — | — |" in page
    # geometric means: sqrt(0.4 * 0.5) and sqrt(1.5 * 1.0)
    assert "speed 0.45× (geometric mean), lowest 0.40×; floor 1.22×, lowest 1.00×." in page
    assert "resnet18 layer1: 86.6 MiB against PyTorch's 117.9 MiB" in page
    assert Generator(reports_dir=tmp_path).expand("<!-- generate: conv-modules -->") == page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda result: result["ms"].pop("pytorch"), r"results\[0\] \(baseline\)\.ms needs a 'pytorch' entry"),
        (lambda result: result.update(products_ms={}), "products_ms must name at least one algorithm"),
        (lambda result: result["products_ms"].update(winograd=8.0), r"products_ms\.winograd must be \{median"),
        (lambda result: result.pop("shape"), "needs a shape text"),
        (lambda result: result.pop("route"), r"results\[0\] \(baseline\)\.route must name the route auto took"),
        (lambda result: result.update(reference_ms=3.0), r"reference_ms must be \{median"),
    ],
)
def test_a_malformed_convolution_report_stops_the_build(tmp_path, change, message):
    report = json.loads(json.dumps(CONV_MODULES))
    change(report["results"][0])
    (tmp_path / CONV_MODULES_FILE).write_text(json.dumps(report))
    with pytest.raises(ReportError, match=message):
        conv_modules_section(tmp_path)


def test_a_report_of_an_unknown_name_is_refused_by_name(tmp_path):
    with pytest.raises(ReportError, match=r"speed\.json: no report of that name is known \(known: throughput\.json"):
        load_report("speed.json", tmp_path)


ONNX_INFERENCE = {
    "date": "2030-01-04",
    "command": "python -m benchmarks.onnx_inference",
    "opset": 17,
    "results": [
        {
            "model": "lenet",
            "batch_size": 32,
            "images": 1024,
            "images_per_s": {
                "nnscratch": {"median": 5000.0, "min": 4800.0, "max": 5200.0},
                "onnxruntime": {"median": 40000.0, "min": 38000.0, "max": 41000.0},
            },
            "speedup": {"median": 8.0, "min": 7.5, "max": 8.25},
        }
    ],
    "parity": [
        {
            "model": "convnext_tiny",
            "input": "3x32x32",
            "options": {"depths": [1, 1, 2, 1]},
            "max_abs_diff": {"1": 6e-08, "7": 2.5e-07, "64": 3e-07},
            "max_abs_logit": 12.5,
        }
    ],
}


def test_the_onnx_tables_show_both_speeds_the_speedup_and_each_architectures_differences(tmp_path):
    assert NOT_MEASURED in onnx_inference_section(tmp_path)
    (tmp_path / ONNX_INFERENCE_FILE).write_text(json.dumps(ONNX_INFERENCE))
    page = onnx_inference_section(tmp_path)
    assert "| lenet | 32 | 5,000 (4,800–5,200) | 40,000 (38,000–41,000) | 8.00× (7.50–8.25) |" in page
    assert "ONNX opset 17" in page
    assert "| convnext_tiny (depths=[1, 1, 2, 1]) | 3x32x32 | 6.0e-08 | 2.5e-07 | 3.0e-07 (batch 64) | 12.5 |" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda report: report.pop("opset"), "opset must be a number"),
        (lambda report: report["parity"][0]["max_abs_diff"].pop("7"), r"parity\[0\]\.max_abs_diff must map 3 batch"),
        (lambda report: report["results"][0]["images_per_s"].pop("onnxruntime"), r"images_per_s needs \['nnscratch'"),
        (lambda report: report["results"][0].update(speedup=8.0), r"speedup must be \{median"),
    ],
)
def test_a_malformed_onnx_report_stops_the_build(tmp_path, change, message):
    report = json.loads(json.dumps(ONNX_INFERENCE))
    change(report)
    (tmp_path / ONNX_INFERENCE_FILE).write_text(json.dumps(report))
    with pytest.raises(ReportError, match=message):
        onnx_inference_section(tmp_path)
