"""TensorBoardLog: what a trainer's epochs write, read back with tensorboard's EventAccumulator; the
images it builds (filters, confusion matrix) against direct constructions; the error without tensorboardX."""

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.optim import SGD
from nnscratch.vectorized.tensorboard import TensorBoardLog, filter_grid, matrix_image, summary_writer_class
from nnscratch.vectorized.trainer import Trainer


def read_back(folder) -> EventAccumulator:
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0, "images": 0})
    events.Reload()
    return events


def test_each_epoch_writes_the_history_as_scalars_and_every_parameter_as_histograms(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 5)).astype(np.float32), rng.integers(0, 3, size=40)
    model = build_mlp(5, [4], 3)
    log = TensorBoardLog(tmp_path)
    trainer = Trainer(model, SGD(model.parameters(), lr=0.1), callbacks=[log], quiet=True)
    trainer.fit(x, y, epochs=2, batch_size=8, val_split=0.25)
    log.close()
    events = read_back(tmp_path)
    for key, tag in (("loss", "loss/train"), ("val_accuracy", "accuracy/validation"), ("lr", "lr")):
        assert [(e.step, e.value) for e in events.Scalars(tag)] == [
            (entry["epoch"], pytest.approx(entry[key], rel=1e-6)) for entry in trainer.history
        ]
    for name, parameter in model.named_parameters():
        (*_, last) = events.Histograms(f"weights/{name}")
        assert last.step == 2 and last.histogram_value.num == parameter.data.size
        assert last.histogram_value.min == pytest.approx(float(parameter.data.min()))
        assert len(events.Histograms(f"gradients/{name}")) == 2


def test_a_binned_histogram_keeps_its_counts_and_edges(tmp_path):
    log = TensorBoardLog(tmp_path)
    edges = [-1.0, 0.0, 0.5, 2.0]
    log.add_histogram_counts("activations/3", [2, 0, 5], edges, step=4)
    log.close()
    (event,) = read_back(tmp_path).Histograms("activations/3")
    value = event.histogram_value
    assert event.step == 4 and value.num == 7 and (value.min, value.max) == (-1.0, 2.0)
    assert list(value.bucket) == [2, 0, 5] and list(value.bucket_limit) == [0.0, 0.5, 2.0]
    assert value.sum == pytest.approx(2 * -0.5 + 5 * 1.25)


@settings(max_examples=20, deadline=None)
@given(count=st.integers(1, 10), channels=st.sampled_from([1, 2, 3]), height=st.integers(1, 4), width=st.integers(1, 4))
def test_filter_grid_puts_filter_i_scaled_to_0_1_at_row_i_div_8_and_column_i_mod_8(count, channels, height, width):
    weight = np.random.default_rng(count).normal(size=(count, channels, height, width))
    grid = filter_grid(weight, columns=8, cell=1)
    shown = weight if channels in (1, 3) else weight.mean(axis=1, keepdims=True)
    assert grid.shape == (shown.shape[1], -(-count // 8) * (height + 1), 8 * (width + 1))
    for index in range(count):
        top, left = (index // 8) * (height + 1), (index % 8) * (width + 1)
        one = shown[index]
        span = one.max() - one.min()
        expected = (one - one.min()) / span if span > 0 else one - one.min()
        np.testing.assert_allclose(grid[:, top : top + height, left : left + width], expected)
    assert filter_grid(weight, cell=3).shape == tuple(s * f for s, f in zip(grid.shape, (1, 3, 3), strict=True))


def test_matrix_image_shows_each_true_class_as_fractions_of_its_row():
    image = matrix_image(np.array([[3, 1], [0, 0]]), cell=2)
    assert image.shape == (1, 4, 4)
    np.testing.assert_allclose(image[0, ::2, ::2], [[0.75, 0.25], [0.0, 0.0]])


def test_without_tensorboardx_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"pip install 'nnscratch\[tensorboard\]'"):
        summary_writer_class()
