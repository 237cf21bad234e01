"""Losses: how far a model's output is from its targets, and the gradient that says which way to go.

A package of small files, one loss family each, rather than one ``losses.py``: each file holds a
loss's formula, its forward and its backward side by side, short enough to read in one sitting,
and the shared half of every backward (the reduction's gradient) is written once, in
``loss.py``. The losses live in the vectorized tier because they are array code that the
vectorized and convolutional trainers share; cross-entropy stays in ``common/cross_entropy.py``
(the scalar tier's checks compare with it) and is re-exported here with the others.

| loss                | input, target                      | use it for                                 |
| ------------------- | ---------------------------------- | ------------------------------------------ |
| CrossEntropyLoss    | logits (N, C), classes (N,)        | classification (the default)               |
| NLLLoss             | log-probabilities (N, C), (N,)     | classification after ``LogSoftmax``        |
| MultiMarginLoss     | scores (N, C), classes (N,)        | classification with a hinge (SVM)          |
| MSELoss             | any shape, the same shape          | regression, reconstructions                |
| L1Loss, SmoothL1Loss| any shape, the same shape          | regression robust to outliers              |
| BCEWithLogitsLoss   | logits, targets in [0, 1] (same)   | yes/no questions, several labels at once   |

Each is a class with ``forward(input, target)`` and ``backward(grad_loss=None)``, reductions
"mean" (default), "sum" and "none" as in PyTorch, and a function of the same name in
PyTorch's ``torch.nn.functional`` spelling (``mse_loss``, ``nll_loss``, ...).

``make_loss(name)`` builds one by the name the command line uses (``--loss``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...common.cross_entropy import CrossEntropyLoss, cross_entropy
from ..activations import LogSoftmax
from .bce import BCEWithLogitsLoss, binary_cross_entropy_with_logits
from .l1 import L1Loss, SmoothL1Loss, l1_loss, smooth_l1_loss
from .layer_then_loss import LayerThenLoss
from .loss import Loss
from .mse import MSELoss, mse_loss
from .multi_margin import MultiMarginLoss, multi_margin_loss
from .nll import NLLLoss, nll_loss

# what a classifier can be trained with: its outputs (N, C) against class indices (N,)
CLASSIFICATION_LOSSES: dict[str, Callable[[], Any]] = {
    "cross-entropy": CrossEntropyLoss,
    "nll": lambda: LayerThenLoss(LogSoftmax(axis=1), NLLLoss()),  # the logits' log-probabilities, then NLL
    "multi-margin": MultiMarginLoss,
}
# losses that compare outputs with targets of the same shape (regression, autoencoders)
SAME_SHAPE_LOSSES: dict[str, Callable[[], Any]] = {
    "mse": MSELoss,
    "l1": L1Loss,
    "smooth-l1": SmoothL1Loss,
    "bce-with-logits": BCEWithLogitsLoss,
}
LOSSES = (*CLASSIFICATION_LOSSES, *SAME_SHAPE_LOSSES)


def make_loss(name: str) -> Any:
    """A loss with its default settings, by its command-line name (one of ``LOSSES``)."""
    if name not in LOSSES:
        raise ValueError(_unknown(name))
    return {**CLASSIFICATION_LOSSES, **SAME_SHAPE_LOSSES}[name]()


def classification_problem(name: str) -> str | None:
    """Why the loss ``name`` cannot train a classifier on class labels (None when it can)."""
    if name in CLASSIFICATION_LOSSES:
        return None
    if name in SAME_SHAPE_LOSSES:
        return (
            f"--loss {name} compares outputs with targets of the same shape (regression, reconstructions), "
            f"not with class labels: for a classifier choose one of {', '.join(CLASSIFICATION_LOSSES)}"
        )
    return _unknown(name)


def _unknown(name: str) -> str:
    return f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}"


__all__ = [
    "LOSSES",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "L1Loss",
    "LayerThenLoss",
    "Loss",
    "MSELoss",
    "MultiMarginLoss",
    "NLLLoss",
    "SmoothL1Loss",
    "binary_cross_entropy_with_logits",
    "classification_problem",
    "cross_entropy",
    "l1_loss",
    "make_loss",
    "mse_loss",
    "multi_margin_loss",
    "nll_loss",
    "smooth_l1_loss",
]
