"""The plots are written as real PNG files with the content they claim."""

import numpy as np

from nnscratch.common.plots import plot_confusion_matrix, plot_history, plot_misclassified, plot_samples

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def read_png(path):
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_MAGIC
    return matplotlib.image.imread(path)


def test_history_plot_is_written_for_both_history_layouts(tmp_path):
    per_epoch = [
        {"loss": 1.0 / e, "accuracy": 1 - 1.0 / (e + 1), "val_loss": 1.1 / e, "val_accuracy": 0.5, "lr": 0.1 / e}
        for e in range(1, 6)
    ]
    columns = {key: [epoch[key] for epoch in per_epoch] for key in per_epoch[0]}
    for name, history in (("a.png", per_epoch), ("b.png", columns)):
        image = read_png(plot_history(history, tmp_path / name))
        assert image.shape[1] > image.shape[0] > 200  # two panels side by side


def test_history_plot_has_a_tick_at_whole_epochs_only(tmp_path, monkeypatch):
    from nnscratch.common import plots

    drawn = []
    monkeypatch.setattr(plots, "_save", lambda figure, path: drawn.append(figure))
    history = [{"loss": 2.0 - e / 2, "accuracy": e / 4, "lr": 0.02} for e in range(3)]
    plot_history(history, tmp_path / "curves.png")
    for axis in drawn[0].axes:
        if axis.get_xlabel() == "epoch":  # the learning-rate axis shares the loss axis' epochs
            low, high = axis.get_xlim()
            ticks = [tick for tick in axis.get_xticks() if low <= tick <= high]
            assert ticks == [1, 2, 3]


def test_confusion_matrix_plot_and_image_grids(tmp_path):
    classes = [f"class {i}" for i in range(4)]
    matrix = np.array([[5, 1, 0, 0], [0, 6, 0, 0], [1, 0, 4, 1], [0, 0, 0, 6]])
    assert read_png(plot_confusion_matrix(matrix, classes, tmp_path / "cm.png")).ndim == 3
    images = np.random.default_rng(0).integers(0, 256, (10, 1, 28, 28)).astype(np.uint8)
    true, predicted = np.arange(10) % 4, np.array([0, 1, 2, 3, 1, 1, 2, 0, 0, 1])
    assert read_png(plot_misclassified(images, true, predicted, classes, tmp_path / "wrong.png")).size
    assert read_png(plot_samples(images, true, classes, tmp_path / "nested" / "samples.png")).size
