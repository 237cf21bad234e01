"""Figures for the concept pages, drawn with the library's own code (matplotlib, Agg backend).

Each function returns PNG bytes; ``FIGURES`` lists them by file name. Nothing is drawn by
hand: the activation curves and their slopes are the modules' ``forward`` and ``backward``,
the learning rates are the schedules' own, the augmented images come out of
``nnscratch.common.augment`` applied to images of the bundled sample.
"""

from __future__ import annotations

import functools
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from nnscratch.common import augment  # noqa: E402
from nnscratch.common.datasets import load_dataset  # noqa: E402
from nnscratch.common.health_plots import plot_filters, plot_saliency  # noqa: E402
from nnscratch.common.softmax import softmax  # noqa: E402
from nnscratch.convolutional.architectures import build  # noqa: E402
from nnscratch.convolutional.trainer import ConvTrainer  # noqa: E402
from nnscratch.scalar import Network  # noqa: E402
from nnscratch.scalar.graph import draw_graph  # noqa: E402
from nnscratch.scalar.trace import TOY_CLASSES, TOY_INPUTS, TOY_TARGET  # noqa: E402
from nnscratch.vectorized.activations import GELU, LeakyReLU, ReLU, SiLU  # noqa: E402
from nnscratch.vectorized.optim import SGD  # noqa: E402
from nnscratch.vectorized.saliency import saliency, saliency_image  # noqa: E402
from nnscratch.vectorized.schedules import make_schedule  # noqa: E402


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def activations() -> bytes:
    """f(x) and f'(x) of ReLU, LeakyReLU, SiLU and GELU (forward, and backward of a gradient of ones), and softmax."""
    x = np.linspace(-4.0, 4.0, 801)
    modules = [
        ("ReLU", ReLU()),
        ("LeakyReLU(negative_slope=0.1)", LeakyReLU(0.1)),
        ("SiLU", SiLU()),
        ("GELU", GELU()),
    ]
    figure, axes = plt.subplots(2, 3, figsize=(13, 7.5), layout="constrained")
    panels, together = list(axes.flat[:4]), axes.flat[5]
    for axis, (title, module) in zip(panels, modules, strict=True):
        y = module.forward(x)
        slope = module.backward(np.ones_like(x))
        axis.plot(x, y, label="f(x): forward")
        axis.plot(x, slope, "--", label="f'(x): backward of 1")
        together.plot(x, y, label=title.split("(")[0])
        axis.set_title(title)
        axis.set_ylim(-1.2, 4.2)
        axis.legend(fontsize=8, loc="upper left")
    together.set_title("the four together")
    together.set_ylim(-1.2, 4.2)
    together.legend(fontsize=8, loc="upper left")
    logit = np.linspace(-5.0, 5.0, 401)
    logits = np.stack([logit, np.zeros_like(logit), np.full_like(logit, -1.0)], axis=1)
    probabilities = softmax(logits, axis=1)
    softmax_axis = axes.flat[4]
    for index, label in enumerate(["p0 (logit z)", "p1 (logit 0)", "p2 (logit -1)"]):
        softmax_axis.plot(logit, probabilities[:, index], label=label)
    softmax_axis.set_title("softmax([z, 0, -1])")
    softmax_axis.set_ylim(-0.05, 1.05)
    softmax_axis.legend(fontsize=8)
    for axis in axes.flat:
        axis.axhline(0, color="gray", linewidth=0.5)
        axis.axvline(0, color="gray", linewidth=0.5)
        axis.grid(alpha=0.3)
        axis.set_xlabel("z" if axis is softmax_axis else "x")
    return _png(figure)


class _LearningRate:
    """The one thing a schedule needs of an optimizer: an ``lr`` to read and set."""

    def __init__(self, lr: float) -> None:
        self.lr = lr


def schedules(epochs: int = 20, base_lr: float = 0.1) -> bytes:
    """The learning rate of every epoch for each ``--schedule`` (plateau depends on the losses, so it is left out)."""
    figure, axis = plt.subplots(figsize=(8, 3.6), layout="constrained")
    epoch_numbers = np.arange(1, epochs + 1)
    for name, warmup in (("none", 0), ("step", 0), ("multistep", 0), ("cosine", 0), ("cosine", 3)):
        optimizer = _LearningRate(base_lr)
        schedule = make_schedule(name, optimizer, epochs, warmup)
        rates = []
        for _ in range(epochs):
            rates.append(optimizer.lr)
            schedule.step()
        label = f"{name} (warmup {warmup})" if warmup else name
        axis.step(epoch_numbers, rates, where="post", label=label, linewidth=1.6)
    default = ConvTrainer._default_multistep_schedule(epochs, base_lr)
    axis.plot(epoch_numbers, default, "k.", label="_default_multistep_schedule")
    axis.set_xlabel("epoch")
    axis.set_ylabel("learning rate")
    axis.set_title(f"learning rate per epoch, {epochs} epochs from lr {base_lr}")
    axis.set_xticks(epoch_numbers)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return _png(figure)


def augmentations(count: int = 6, seed: int = 0) -> bytes:
    """The same sample images before and after each augmentation of ``nnscratch.common.augment``."""
    dataset = load_dataset("sample")
    first_of_each_class = [int(np.flatnonzero(dataset.y_train == label)[0]) for label in range(count)]
    images = dataset.normalize(dataset.x_train[first_of_each_class])
    labels = dataset.y_train[first_of_each_class]
    rng = np.random.default_rng(seed)
    rows = [
        ("original", images),
        ("shift ±2 px (default)", augment.random_shift(images, 2, rng)),
        ("rotate ±20°", augment.random_rotation(images, 20.0, rng)),
        ("horizontal flip", augment.random_flip(images, rng, p=1.0)),
        ("noise, std 0.5", augment.gaussian_noise(images, 0.5, rng)),
        ("cutout 10 px", augment.cutout(images, 10, rng)),
        ("CutMix, alpha 1", augment.cutmix(images, labels, dataset.num_classes, 1.0, rng)[0]),
        ("RandAugment 2 ops, M 9", augment.randaugment(images, 2, 9.0, rng)),
    ]
    low, high = float(images.min()), float(images.max())
    figure, axes = plt.subplots(len(rows), count, figsize=(1.5 * count + 1.8, 1.5 * len(rows)))
    for row, (title, batch) in enumerate(rows):
        for column in range(count):
            axis = axes[row, column]
            axis.imshow(batch[column, 0], cmap="gray", vmin=low, vmax=high)
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(dataset.classes[labels[column]], fontsize=9)
        axes[row, 0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)
    figure.subplots_adjust(wspace=0.05, hspace=0.08)
    return _png(figure)


def _tensor_blocks(axis: plt.Axes, title: str, highlight: Callable[[int, int, int], bool]) -> None:
    """Draw a batch (N=3) of C x (H*W) blocks (C=4 channel rows, 6 pixel columns), shading what ``highlight`` picks."""
    samples, channels, pixels = 3, 4, 6
    for n in range(samples):
        left = n * (pixels + 1.5)
        for c in range(channels):
            for p in range(pixels):
                color = "tab:orange" if highlight(n, c, p) else "whitesmoke"
                axis.add_patch(Rectangle((left + p, channels - 1 - c), 1, 1, facecolor=color, edgecolor="gray"))
        axis.text(left + pixels / 2, channels + 0.3, f"sample n={n}", ha="center", fontsize=9)
    axis.text(-0.4, channels / 2, "channels c", rotation=90, ha="right", va="center", fontsize=9)
    axis.text((samples * (pixels + 1.5) - 1.5) / 2, -0.6, "pixels (h, w) of each channel", ha="center", fontsize=9)
    axis.set_xlim(-1.2, samples * (pixels + 1.5))
    axis.set_ylim(-1.0, channels + 1.0)
    axis.set_aspect("equal")
    axis.axis("off")
    axis.set_title(title, fontsize=10)


def normalization() -> bytes:
    """Which values one mean and variance are taken over: BatchNorm2D (a channel) vs LayerNorm2D (a pixel)."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 3.2), layout="constrained")
    _tensor_blocks(left, "BatchNorm2D: one statistic per channel, over N, H and W", lambda n, c, p: c == 1)
    _tensor_blocks(right, "LayerNorm2D: one statistic per sample and pixel, over C", lambda n, c, p: n == 1 and p == 2)
    return _png(figure)


def lr_finder() -> bytes:
    """The learning-rate range test of LeNet-5 on the bundled sample, with its recipe (about a second)."""
    import tempfile
    from pathlib import Path

    from nnscratch.common.lr_plot import plot_lr_range
    from nnscratch.common.seed import manual_seed
    from nnscratch.convolutional.architectures import build
    from nnscratch.convolutional.recipes import RECIPES
    from nnscratch.vectorized.lr_finder import lr_range_test
    from nnscratch.vectorized.optim import make_optimizer

    dataset, recipe = load_dataset("sample"), RECIPES["lenet"]
    manual_seed(0)
    model = build("lenet", 1, 10, 28)
    optimizer = make_optimizer(
        recipe.optimizer, model.parameters(), recipe.lr, recipe.momentum, recipe.nesterov, recipe.weight_decay
    )
    trainer = ConvTrainer(model, optimizer, augmentation=augment.Augmentation(shift=recipe.augment_shift), quiet=True)
    result = lr_range_test(trainer, dataset.normalize(dataset.x_train), dataset.y_train, recipe.batch_size)
    with tempfile.TemporaryDirectory() as folder:
        path = plot_lr_range(
            result.rates,
            result.losses,
            result.smoothed,
            result.suggestion,
            Path(folder) / "lr_finder.png",
            title="LeNet-5 on the sample: learning-rate range test",
            reference=("recipe", recipe.lr),
        )
        return path.read_bytes()


def backprop_graph() -> bytes:
    """The computational graph of the trace's toy sample through the 4-3-2 network (seed 0), values and gradients."""
    network = Network(len(TOY_INPUTS), [3], TOY_CLASSES, seed=0)
    return _png(draw_graph(network, TOY_INPUTS, TOY_TARGET))


@functools.cache
def _trained_lenet() -> tuple:
    """LeNet-5 after one epoch on the bundled sample (seed 0, its recipe's SGD), and the sample."""
    dataset = load_dataset("sample")
    model = build("lenet", 1, dataset.num_classes, 28)
    optimizer = SGD(model.parameters(), lr=0.02, momentum=0.9, nesterov=True)
    trainer = ConvTrainer(model, optimizer, quiet=True, seed=0)
    trainer.fit(dataset.normalize(dataset.x_train), dataset.y_train, 1, 32)
    return model, dataset


def _drawn(draw: Callable[[Path], object]) -> bytes:
    """The PNG bytes of a picture the library draws to a file (``health_plots``)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "picture.png"
        draw(path)
        return path.read_bytes()


def saliency_maps() -> bytes:
    """The first eight test images of the sample and their saliency in LeNet-5 after one epoch."""
    model, dataset = _trained_lenet()
    gradient, predicted = saliency(model, dataset.normalize(dataset.x_test[:8]))
    names = dataset.classes
    titles = [f"{names[true]} -> {names[guess]}" for true, guess in zip(dataset.y_test[:8], predicted, strict=True)]
    images = dataset.x_test[:8]
    return _drawn(lambda path: plot_saliency(images, saliency_image(gradient), titles, path, "LeNet-5 after 1 epoch"))


def first_filters() -> bytes:
    """The six 5x5 filters of LeNet-5's first convolution after one epoch on the sample."""
    model, _ = _trained_lenet()
    return _drawn(lambda path: plot_filters(model.layers[0].weight.data, path))


FIGURES: dict[str, Callable[[], bytes]] = {
    "saliency.png": saliency_maps,
    "first_filters.png": first_filters,
    "backprop_graph.png": backprop_graph,
    "activations.png": activations,
    "schedules.png": schedules,
    "augmentations.png": augmentations,
    "normalization.png": normalization,
    "lr_finder.png": lr_finder,
}
