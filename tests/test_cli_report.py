"""`--report DIR` and `--tensorboard DIR` on `nnscratch train|mlp|scalar`: one self-contained page that a real
browser opens from disk, the metrics beside it, and TensorBoard event files read back with tensorboard's reader.

The runs are 1 epoch on the bundled sample, each made once per module. The health part of the page
is drawn from the records of the run's own watcher, which the test keeps and compares with
the page, watch.jsonl and the TensorBoard events.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from matplotlib.image import imread
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from nnscratch.cli import main
from nnscratch.cli.mlp import MLPRun
from nnscratch.convolutional.architectures import build
from nnscratch.convolutional.summary import summarize
from nnscratch.vectorized.training_memory import measure_training_memory
from tests.browser import needs_chromium, run_headless

SECTIONS = ("command", "dataset", "curves", "results", "layers", "filters", "saliency", "health")


class PageParts(HTMLParser):
    """What a page references and holds: image sources, link targets, section ids, and its text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.sections: list[str] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes["src"])
        if tag in ("a", "link", "script") and (attributes.get("href") or attributes.get("src")):
            self.links.append(attributes.get("href") or attributes.get("src"))
        if tag == "section":
            self.sections.append(attributes["id"])

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def run_cli(argv: list[str]) -> str:
    """``nnscratch ARGV``'s standard output; the command must succeed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    assert code == 0, out.getvalue()
    return out.getvalue()


def event_tags(folder: Path) -> EventAccumulator:
    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0, "images": 0})
    accumulator.Reload()
    return accumulator


@pytest.fixture(scope="module")
def lenet(tmp_path_factory) -> tuple[Path, Path, str]:
    """(report folder, tensorboard folder, printed output) of 1 epoch of LeNet-5 on the sample."""
    folder = tmp_path_factory.mktemp("lenet")
    argv = ["train", "lenet", "--dataset", "sample", "--epochs", "1", "--quiet"]
    out = run_cli([*argv, "--report", str(folder / "report"), "--tensorboard", str(folder / "tb")])
    return folder / "report", folder / "tb", out


def test_the_report_is_one_html_page_with_no_network_resource_and_every_image_beside_it(lenet):
    report, _, out = lenet
    assert f"report: {report / 'index.html'}" in out
    assert [path.name for path in report.glob("*.htm*")] == ["index.html"]
    page = (report / "index.html").read_text()
    assert "http://" not in page and "https://" not in page
    parts = PageParts(page)
    saliency = ["saliency_correct.png", "saliency_misclassified.png"]
    assert parts.images == ["curves.png", "confusion_matrix.png", "filters.png", *saliency]
    for source in parts.images:
        assert (report / source).is_file(), f"the page shows {source}, which is not beside it"
        assert (report / source).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(link.startswith("#") for link in parts.links), parts.links
    assert parts.sections == list(SECTIONS)


def test_the_page_holds_the_command_every_layer_of_summarize_and_the_history_csv(lenet):
    report, _, out = lenet
    text = " ".join(PageParts((report / "index.html").read_text()).text)
    assert "nnscratch train lenet --dataset sample --epochs 1 --quiet --report" in text
    model = build("lenet", 1, 10, 28)
    rows = summarize(model, (1, 28, 28), measure_training_memory(model, (1, 28, 28), 32))
    for row in rows:
        assert f"{row.name} {row.kind}" in text and f"{row.flops:,}" in text
        assert f"{row.kept_bytes:,}" in text  # the memory the summary measures, at the run's batch of 32
    assert "memory of one training step, batch of 32, float32" in text
    total = f"total {sum(row.parameters for row in rows):,} {sum(row.flops for row in rows):,}"
    assert total in text
    assert "run it again with --watch" in text  # no watcher: the health part says how to get it
    with open(report / "history.csv", newline="") as stream:
        (epoch,) = list(csv.DictReader(stream))
    printed_loss = re.search(r"^epoch 1/1  loss (\d\.\d{4})", out, re.M).group(1)
    assert epoch["epoch"] == "1" and f"{float(epoch['loss']):.4f}" == printed_loss
    accuracy = re.search(r"^test accuracy ([\d.]+%)", out, re.M).group(1)
    assert f"test accuracy {accuracy} on 500 images" in text


def test_tensorboard_holds_the_epoch_scalars_histograms_and_images(lenet):
    _, tensorboard, out = lenet
    events = event_tags(tensorboard)
    tags = events.Tags()
    assert {"loss/train", "loss/validation", "accuracy/train", "accuracy/validation", "lr"} <= set(tags["scalars"])
    parameters = [name for name, _ in build("lenet", 1, 10, 28).named_parameters()]
    assert {f"weights/{name}" for name in parameters} <= set(tags["histograms"])
    assert {f"gradients/{name}" for name in parameters} <= set(tags["histograms"])
    assert {"test/confusion_matrix", "filters/first_convolution"} <= set(tags["images"])
    (loss,) = events.Scalars("loss/train")
    assert loss.step == 1 and f"{loss.value:.4f}" == re.search(r"^epoch 1/1  loss (\d\.\d{4})", out, re.M).group(1)


@needs_chromium
def test_chromium_renders_the_report_from_disk_with_its_sections_and_pictures(lenet, tmp_path):
    report, _, _ = lenet
    url = (report / "index.html").as_uri()
    dom = run_headless(url, tmp_path / "profile", "--dump-dom").stdout
    for title in ("Command and recipe", "Dataset", "Training curves", "Test results", "Layers", "Saliency"):
        assert f"<h2>{title}</h2>" in dom
    assert dom.count("<img ") == 5 and "<table>" in dom
    shot = tmp_path / "report.png"
    result = run_headless(url, tmp_path / "profile2", "--window-size=1280,6000", f"--screenshot={shot}")
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    pixels = imread(shot)[:, :, :3]
    # measured: 12% ink and 1.6% coloured pixels with the pictures; 2.4% and 0.05% when they fail to load
    ink = (pixels < 0.9).any(axis=2)
    assert ink.mean() > 0.06, f"only {ink.mean():.1%} of the screenshot has ink: is the page blank?"
    coloured = (pixels.max(axis=2) - pixels.min(axis=2)) > 0.25  # the plots' blues, oranges and reds; text is grey
    assert coloured.mean() > 0.005, f"only {coloured.mean():.2%} of the screenshot in colour: no pictures drawn?"


# ----------------------------------------------------------------------------- a watched run


@pytest.fixture(scope="module")
def watched_mlp(tmp_path_factory) -> tuple[Path, Path, object]:
    """(report, tensorboard, watcher) of 1 epoch of a small MLP watched every 2 batches.

    The rate is far too low on purpose (1e-7 with Adam), so the watcher warns that the updates
    are tiny and the page has warnings to show. The run's watcher is kept to compare with the page.
    """
    folder = tmp_path_factory.mktemp("mlp")
    watchers = []
    original_report = MLPRun.report

    def report_and_keep_watcher(run: MLPRun, dataset) -> None:
        watchers.append(run.watcher)
        original_report(run, dataset)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MLPRun, "report", report_and_keep_watcher)
        argv = ["mlp", "--dataset", "sample", "--epochs", "1", "--hidden-sizes", "16", "--lr", "1e-7", "--quiet"]
        run_cli([*argv, "--watch", "2", "--report", str(folder / "report"), "--tensorboard", str(folder / "tb")])
    (watcher,) = watchers
    return folder / "report", folder / "tb", watcher


def test_a_watched_run_has_the_health_table_warnings_time_per_layer_and_pictures(watched_mlp):
    report, _, watcher = watched_mlp
    parts = PageParts((report / "index.html").read_text())
    text = " ".join(parts.text)
    warnings = watcher.warnings()
    assert warnings and all("learning rate looks too low" in warning for warning in warnings)
    assert all(warning in text for warning in warnings)
    for picture in ("gradient_flow.png", "activation_histograms.png", "update_ratios.png"):
        assert picture in parts.images and (report / picture).is_file()
    rows = watcher.health_table()
    assert [row["layer"] for row in rows] == ["0", "1", "2", "3"]  # Linear, ReLU, Dropout, Linear
    spent = [row["forward_seconds"] + row["backward_seconds"] for row in rows]
    assert all(f"{seconds / sum(spent):.1%}" in text for seconds in spent)  # each layer's share of the time
    assert "filters" in parts.sections and "This network has no convolution." in text
    lines = [json.loads(line) for line in (report / "watch.jsonl").read_text().splitlines()]
    assert [line for line in lines if line.pop("type") == "layer"] == watcher.records
    assert len(lines) == len(watcher.records) + len(watcher.losses) + len(watcher.histograms)


def test_a_watched_run_logs_the_loss_per_batch_and_activation_histograms_to_tensorboard(watched_mlp):
    _, tensorboard, watcher = watched_mlp
    events = event_tags(tensorboard)
    logged = [(event.step, event.value) for event in events.Scalars("loss/batch")]
    assert logged == [(entry["step"], pytest.approx(entry["loss"], rel=1e-6)) for entry in watcher.losses]
    for entry in watcher.histograms:
        (histogram,) = events.Histograms(f"activations/{entry['layer']}")
        assert histogram.step == entry["epoch"] == 1
        assert list(histogram.histogram_value.bucket) == entry["counts"]
    assert "test/confusion_matrix" in events.Tags()["images"]
    assert "filters/first_convolution" not in events.Tags()["images"]  # an MLP has no convolution


# ----------------------------------------------------------------------------- the scalar tier, bad input


def test_the_scalar_tier_reports_what_applies_and_says_what_does_not(tmp_path):
    argv = "scalar --dataset sample --epochs 1 --hidden-sizes 4 --limit-train 100 --batch-size 50 --quiet".split()
    run_cli([*argv, "--report", str(tmp_path)])
    parts = PageParts((tmp_path / "index.html").read_text())
    text = " ".join(parts.text)
    assert parts.sections == ["command", "dataset", "curves", "results", "layers", "health"]
    assert "it has no Module, so it has no FLOPs table, no saliency maps" in text
    assert "0 784 4 relu 3,140" in text  # the first layer: inputs, neurons, activation, (784 + 1) * 4 parameters
    assert parts.images == ["curves.png", "confusion_matrix.png", "misclassified.png"]
    assert all((tmp_path / source).is_file() for source in parts.images)


def test_scalar_has_no_tensorboard_flag(capsys):
    with pytest.raises(SystemExit):
        main(["scalar", "--dataset", "sample", "--tensorboard", "tb"])
    assert "unrecognized arguments: --tensorboard" in capsys.readouterr().err


def test_tensorboard_without_tensorboardx_is_refused_before_training_naming_the_extra(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # what an import finds when it is not installed
    code = main(["mlp", "--dataset", "sample", "--epochs", "1", "--tensorboard", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "--tensorboard: TensorBoard logging needs tensorboardX, which is not installed" in err
    assert "pip install 'nnscratch[tensorboard]'" in err
