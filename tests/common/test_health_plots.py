"""The health pictures: the gradient-flow grid against a direct construction, and every picture written
as a PNG (a picture saying so when there is nothing to draw), from records built by the test."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.image import imread

from nnscratch.common.health_plots import (
    default_epochs,
    gradient_flow_grid,
    plot_activation_histograms,
    plot_filters,
    plot_gradient_flow,
    plot_saliency,
    plot_update_ratios,
)


def records(norms: dict[str, list[float | None]], steps: list[int]) -> list[dict]:
    """One record per (step, layer), in step order as a watcher writes them; grad_norm from ``norms``."""
    return [
        {"step": step, "epoch": 1, "layer": layer, "kind": "Linear", "grad_norm": values[index], "update_ratio": None}
        for index, step in enumerate(steps)
        for layer, values in norms.items()
    ]


@settings(max_examples=25, deadline=None)
@given(data=st.data(), num_layers=st.integers(1, 4), num_steps=st.integers(1, 5))
def test_gradient_flow_grid_has_a_row_per_layer_with_gradients_and_a_column_per_sampled_step(
    data, num_layers, num_steps
):
    steps = sorted(data.draw(st.sets(st.integers(0, 100), min_size=num_steps, max_size=num_steps)))
    value = st.one_of(st.none(), st.floats(1e-6, 1e3))
    norms = {f"layer{i}": data.draw(st.lists(value, min_size=num_steps, max_size=num_steps)) for i in range(num_layers)}
    layers, grid_steps, grid = gradient_flow_grid(records(norms, steps))
    expected_layers = [name for name, values in norms.items() if any(v is not None for v in values)]
    assert layers == expected_layers
    expected_steps = sorted({s for name in layers for s, v in zip(steps, norms[name], strict=True) if v is not None})
    assert grid_steps == expected_steps
    for row, name in enumerate(layers):
        for column, step in enumerate(grid_steps):
            value = norms[name][steps.index(step)]
            assert (math.isnan(grid[row, column]) and value is None) or grid[row, column] == value


def test_default_epochs_are_the_first_middle_and_last():
    histograms = [{"epoch": epoch} for epoch in (1, 2, 3, 4, 5)]
    assert default_epochs(histograms) == [1, 3, 5]
    assert default_epochs([{"epoch": 2}, {"epoch": 2}]) == [2]
    assert default_epochs([]) == []


def png_shape(path) -> tuple[int, ...]:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return imread(path).shape


def test_every_health_picture_is_a_png_and_an_empty_record_list_gives_a_picture_saying_so(tmp_path):
    watched = records({"0": [0.1, 0.2], "1": [None, None], "2": [1e-3, 2e-3]}, [0, 10])
    for record in watched:
        record["update_ratio"] = None if record["grad_norm"] is None else record["grad_norm"] / 100
    edges = np.linspace(-2, 2, 31).tolist()
    histograms = [
        {"epoch": epoch, "layer": name, "counts": list(range(30)), "edges": edges} for epoch in (1, 2) for name in "012"
    ]
    pictures = [
        plot_gradient_flow(watched, tmp_path / "flow.png"),
        plot_update_ratios(watched, tmp_path / "ratios.png"),
        plot_activation_histograms(histograms, tmp_path / "histograms.png"),
        plot_filters(np.random.default_rng(0).normal(size=(6, 4, 5, 5)), tmp_path / "filters.png"),
        plot_saliency(np.zeros((3, 1, 8, 8)), np.ones((3, 8, 8)), ["a", "b", "c"], tmp_path / "saliency.png"),
    ]
    sizes = [png_shape(path) for path in pictures]
    empty = [
        plot_gradient_flow([], tmp_path / "no_flow.png"),
        plot_update_ratios(records({"1": [None]}, [0]), tmp_path / "no_ratios.png"),
        plot_activation_histograms([], tmp_path / "no_histograms.png"),
    ]
    # the pictures saying "nothing recorded" are a strip of text, smaller than any drawn picture
    assert max(png_shape(path)[0] for path in empty) < min(size[0] for size in sizes)
