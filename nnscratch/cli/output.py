"""What the training commands print and draw: the epoch line, the test report, the plots."""

from __future__ import annotations

from collections.abc import Sequence


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun``, the noun in the plural unless there is exactly one: "1 epoch", "3 epochs"."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def schedule_batch_epochs(args) -> str:
    """The plan line's middle: "multistep schedule (x0.1 after epochs 7 and 11), batch 64, 15 epochs"."""
    from ..vectorized.schedules import describe_schedule

    return f"{describe_schedule(args.schedule, args.epochs)}, batch {args.batch_size}, {plural(args.epochs, 'epoch')}"


def print_epoch(entry: dict, epochs: int) -> None:
    """One line per epoch (the trainers' callback in ``nnscratch train|mlp|scalar``)."""
    validation = ""
    if entry["val_loss"] is not None:
        validation = f"  val_loss {entry['val_loss']:.4f}  val_acc {entry['val_accuracy']:.2%}"
    print(
        f"epoch {entry['epoch']:>{len(str(epochs))}}/{epochs}  loss {entry['loss']:.4f}  "
        f"acc {entry['accuracy']:.2%}{validation}  lr {entry['lr']:.2e}  {entry['seconds']:.1f}s  "
        f"{entry['samples_per_s']:,.0f} samples/s",
        flush=True,
    )


def report_test_results(trainer, x_test, dataset, history: list[dict]) -> object:
    """Print test accuracy, loss, time and per-class accuracy; return the test predictions (host array)."""
    from ..common.backend import to_cpu
    from ..common.metrics import per_class_accuracy

    test_loss, test_accuracy = trainer.evaluate(x_test, dataset.y_test)
    predicted = to_cpu(trainer.predict(x_test))
    seconds = sum(entry["seconds"] for entry in history)
    # every epoch trains on the same samples, so the overall rate is the harmonic mean of the epochs' rates
    samples_per_s = len(history) / sum(1.0 / entry["samples_per_s"] for entry in history)
    stopped = f", stopped early; weights of epoch {trainer.best_epoch}" if trainer.stopped_early else ""
    print(
        f"test accuracy {test_accuracy:.2%} (loss {test_loss:.4f}) after {plural(len(history), 'epoch')}{stopped}: "
        f"{seconds:.1f}s, {samples_per_s:,.0f} training samples/s"
    )
    per_class = per_class_accuracy(predicted, dataset.y_test, dataset.num_classes)
    rows = zip(dataset.classes, per_class, strict=True)
    print("per-class accuracy: " + ", ".join(f"{name} {accuracy:.1%}" for name, accuracy in rows))
    return predicted


def write_plots(folder: str, history: list[dict], dataset, predicted, title: str) -> list:
    """Training curves, confusion matrix, misclassified and sample test images as PNG files in ``folder``."""
    from pathlib import Path

    from ..common.metrics import confusion_matrix
    from ..common.plots import plot_confusion_matrix, plot_history, plot_misclassified, plot_samples

    folder = Path(folder)
    matrix = confusion_matrix(predicted, dataset.y_test, dataset.num_classes)
    return [
        plot_history(history, folder / "curves.png", title=f"{title} on {dataset.name}"),
        plot_confusion_matrix(matrix, dataset.classes, folder / "confusion_matrix.png", title=f"{title}: test set"),
        plot_misclassified(dataset.x_test, dataset.y_test, predicted, dataset.classes, folder / "misclassified.png"),
        plot_samples(dataset.x_test, dataset.y_test, dataset.classes, folder / "samples.png"),
    ]


def format_confusion_matrix(matrix, classes: Sequence[str]) -> str:
    """The confusion matrix as text: one row per true class (named), one column per predicted class (numbered)."""
    width = max(len(str(int(matrix.max()))), len(str(len(classes) - 1))) + 1
    names = [f"{index} {name}"[:16] for index, name in enumerate(classes)]
    label = max(len(name) for name in names)
    lines = [" " * label + " " + "".join(f"{column:>{width}}" for column in range(len(classes)))]
    for name, row in zip(names, matrix, strict=True):
        lines.append(f"{name:<{label}} " + "".join(f"{int(count):>{width}}" for count in row))
    return "\n".join(lines)


def finish_run(trainer, x_test, dataset, plots: str | None, title: str):
    """The end of every training command: the test report, and the plots when ``plots`` names a folder.

    Uses ``trainer.history``, the whole run's (resumed epochs included). Returns the test predictions.
    """
    predicted = report_test_results(trainer, x_test, dataset, trainer.history)
    if plots:
        written = write_plots(plots, trainer.history, dataset, predicted, title)
        print(f"plots: {', '.join(str(path) for path in written)}")
    return predicted
