"""Cross-entropy computed straight from logits, with its gradient.

For one sample with logits z (C classes) and target distribution t (one-hot for a class
index y, or any probability row):

    loss = -sum_j t_j * log softmax(z)_j
         = logsumexp(z) - sum_j t_j * z_j          (because sum_j t_j = 1)
    d loss / d z = softmax(z) - t

Going through ``logsumexp`` instead of ``log(softmax(z))`` is what keeps it finite: the
softmax of logits like (1e4, 0) underflows to an exact 0 whose log is -inf, while
logsumexp subtracts the maximum first (see ``softmax.py``) and never overflows.

Label smoothing (Szegedy et al. 2016, "Rethinking the Inception Architecture") replaces t
by ``(1 - eps) * t + eps / C``: the model is asked for a little probability on every class.

The batch loss is the mean over samples by default, and then the gradient carries the 1/N
too, so optimizers never divide by the batch size again. All numbers agree with
``torch.nn.functional.cross_entropy`` for every reduction and smoothing.
"""

from __future__ import annotations

from typing import Any

from .backend import get_array_module, on_cpu
from .softmax import softmax

REDUCTIONS = ("mean", "sum", "none")


def logsumexp(x: Any, axis: int = -1, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) along ``axis``, without overflow: ``m + log(sum(exp(x - m)))``, m = max.

    x: any shape; the result drops ``axis`` unless ``keepdims``. Keeps the dtype of ``x``.
    """
    xp = get_array_module(x)
    largest = x.max(axis=axis, keepdims=True)
    result = largest + xp.log(xp.exp(x - largest).sum(axis=axis, keepdims=True))
    return result if keepdims else result.squeeze(axis=axis)


def reduce_losses(losses: Any, reduction: str) -> Any:
    """Losses of any shape reduced as PyTorch reduces them: "mean" and "sum" give a 0-d array,
    "none" the losses themselves. ``CrossEntropyLoss`` ends its forward here, and so does every
    ``vectorized.losses.Loss`` but for "mean", which divides the sum by its own ``_mean_over``."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


class CrossEntropyLoss:
    """Cross-entropy between logits (N, C) and targets; ``forward`` gives the loss, ``backward`` its gradient.

    targets: class indices (N,) (integers in [0, C)), or probability rows (N, C) each
    summing to 1 (one-hot rows included). reduction: "mean" (default), "sum" or "none"
    (a loss per sample, shape (N,)). label_smoothing: eps in [0, 1].

    check_values: whether ``forward`` checks the numbers themselves (finite logits, class
    indices that are integers in range, probability rows in [0, 1] that sum to 1), with a
    clear error when they are wrong. None (the default) checks them where the arrays are in
    the computer's memory, which costs a pass over N*C numbers; on a GPU each check would make
    the host wait for the device, at every batch, so there it is skipped (``Trainer.fit``
    checks the labels once before training, and a NaN loss once per epoch). True or False
    forces either way. Shapes and dtypes are always checked: that reads no values.
    """

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0, check_values: bool | None = None) -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(f"CrossEntropyLoss: reduction must be one of {REDUCTIONS}, got {reduction!r}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        if check_values not in (None, True, False):
            raise ValueError(f"CrossEntropyLoss: check_values must be None, True or False, got {check_values!r}")
        self.reduction = reduction
        self.label_smoothing = float(label_smoothing)
        self.check_values = check_values
        self._cache: tuple | None = None

    def forward(self, logits: Any, targets: Any) -> Any:
        """The loss: a 0-d array for "mean"/"sum", shape (N,) for "none"; dtype of ``logits``."""
        xp = get_array_module(logits)
        check = on_cpu(logits) if self.check_values is None else self.check_values
        check_logits(logits, check)
        num_samples, num_classes = logits.shape
        eps = self.label_smoothing
        targets = xp.asarray(targets)
        lse = logsumexp(logits, axis=1)
        if targets.ndim == 1:
            class_index = class_indices(targets, num_samples, num_classes, check)
            # sum_j t_j z_j with t = (1 - eps) * onehot(y) + eps / C, without building t
            target_logit = logits[xp.arange(num_samples), class_index]
            expected_logit = (1.0 - eps) * target_logit + eps * logits.mean(axis=1)
            target_probs = None
        else:
            class_index = None
            target_probs = _class_probabilities(targets, num_samples, num_classes, logits.dtype, check)
            if eps:
                target_probs = (1.0 - eps) * target_probs + eps / num_classes
            expected_logit = (target_probs * logits).sum(axis=1)
        self._cache = (logits, class_index, target_probs)
        return reduce_losses(lse - expected_logit, self.reduction)

    __call__ = forward

    def backward(self, grad_loss: Any = None) -> Any:
        """d loss / d logits, shape (N, C): ``(softmax(z) - t)``, times 1/N for "mean".

        grad_loss: the upstream gradient of the loss (a scalar, or (N,) for "none");
        1 when omitted, i.e. this loss is the final objective.
        """
        if self._cache is None:
            raise RuntimeError("CrossEntropyLoss.backward() called before forward()")
        logits, class_index, target_probs = self._cache
        xp = get_array_module(logits)
        num_samples, num_classes = logits.shape
        grad = softmax(logits, axis=1)
        if target_probs is None:
            grad[xp.arange(num_samples), class_index] -= 1.0 - self.label_smoothing
            if self.label_smoothing:
                grad -= self.label_smoothing / num_classes
        else:
            grad -= target_probs
        if self.reduction == "mean":
            grad *= 1.0 / num_samples
        if grad_loss is not None:
            grad_loss = xp.asarray(grad_loss, dtype=logits.dtype)
            grad *= grad_loss[:, None] if grad_loss.ndim == 1 else grad_loss
        return grad


def cross_entropy(logits: Any, targets: Any, reduction: str = "mean", label_smoothing: float = 0.0) -> Any:
    """The cross-entropy loss of ``logits`` (N, C) against ``targets``; see :class:`CrossEntropyLoss`."""
    return CrossEntropyLoss(reduction, label_smoothing).forward(logits, targets)


def check_logits(logits: Any, check_values: bool = True, owner: str = "cross_entropy") -> None:
    """Logits must be a floating-point (N, C) array with N, C >= 1, and finite (checked when ``check_values``).

    owner: the loss named in the messages (every loss that takes scores per class shares this check).
    """
    xp = get_array_module(logits)
    if logits.ndim != 2:
        raise ValueError(f"{owner}: logits must have shape (N, C), got shape {tuple(logits.shape)}")
    if logits.shape[0] == 0 or logits.shape[1] == 0:
        raise ValueError(f"{owner}: logits must be non-empty, got shape {tuple(logits.shape)}")
    if not xp.issubdtype(logits.dtype, xp.floating):
        raise ValueError(f"{owner}: logits must be floating point, got dtype {logits.dtype}")
    if not check_values:
        return
    finite = xp.isfinite(logits)
    if not bool(finite.all()):
        first = tuple(int(i) for i in xp.argwhere(~finite)[0])
        count = int((~finite).sum())
        raise ValueError(
            f"{owner}: logits contain {count} non-finite value(s) (NaN or inf), first at index {first}: {logits[first]}"
        )


def class_indices(
    targets: Any, num_samples: int, num_classes: int, check_values: bool = True, owner: str = "cross_entropy"
) -> Any:
    """Validate class-index targets (N,) and return them as int64 (their values only when ``check_values``).

    owner: the loss named in the messages.
    """
    xp = get_array_module(targets)
    if targets.shape[0] != num_samples:
        raise ValueError(f"{owner}: got {targets.shape[0]} targets for {num_samples} samples (logits N={num_samples})")
    if xp.issubdtype(targets.dtype, xp.floating):
        if check_values:
            fractional = targets != xp.round(targets)
            if bool(fractional.any()):
                position = int(xp.argmax(fractional))
                raise ValueError(
                    f"{owner}: class-index targets must be integers, got {targets[position]} at position {position}"
                )
    elif not xp.issubdtype(targets.dtype, xp.integer):
        raise ValueError(f"{owner}: class-index targets must be integers, got dtype {targets.dtype}")
    class_index = targets.astype(xp.int64)
    if not check_values:
        return class_index
    out_of_range = (class_index < 0) | (class_index >= num_classes)
    if bool(out_of_range.any()):
        position = int(xp.argmax(out_of_range))
        raise ValueError(
            f"{owner}: target index {int(class_index[position])} at position {position} "
            f"is out of range for C={num_classes} classes (valid: 0..{num_classes - 1})"
        )
    return class_index


def _class_probabilities(
    targets: Any, num_samples: int, num_classes: int, dtype: Any, check_values: bool = True
) -> Any:
    """Validate one-hot / probability targets (N, C), their values when ``check_values``; return them in ``dtype``."""
    xp = get_array_module(targets)
    if targets.ndim != 2 or targets.shape != (num_samples, num_classes):
        raise ValueError(
            "cross_entropy: targets must be class indices (N,) or probability rows (N, C) = "
            f"({num_samples}, {num_classes}), got shape {tuple(targets.shape)}"
        )
    probs = targets.astype(dtype, copy=False)
    if not check_values:
        return probs
    if not bool(xp.isfinite(probs).all()) or bool((probs < 0).any()) or bool((probs > 1).any()):
        raise ValueError("cross_entropy: probability targets must be finite and within [0, 1]")
    # float32 rows like softmax outputs miss 1 by a few ulps; allow for that, not for real errors
    tolerance = 1e-6 if probs.dtype == xp.float64 else 1e-3
    row_sums = probs.sum(axis=1)
    off = xp.abs(row_sums - 1) > tolerance
    if bool(off.any()):
        row = int(xp.argmax(off))
        raise ValueError(
            "cross_entropy: one-hot/probability target rows must sum to 1, "
            f"row {row} sums to {float(row_sums[row]):.6g}"
        )
    return probs
