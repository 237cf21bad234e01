"""The losses of ``nnscratch.vectorized.losses``: PyTorch parity (value and gradient, float64, every
reduction and option, random shapes), central-difference gradchecks, properties, and bad input.

Parity table: each row of ``CASES`` is one loss with one setting of its options, beside the
``torch.nn.functional`` call it must equal; every row runs under every reduction.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.common.cross_entropy import CrossEntropyLoss
from nnscratch.testing import gradcheck
from nnscratch.vectorized.activations import LogSoftmax
from nnscratch.vectorized.losses import (
    LOSSES,
    BCEWithLogitsLoss,
    L1Loss,
    LayerThenLoss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
    SmoothL1Loss,
    binary_cross_entropy_with_logits,
    classification_problem,
    l1_loss,
    make_loss,
    mse_loss,
    multi_margin_loss,
    nll_loss,
    smooth_l1_loss,
)
from nnscratch.vectorized.losses.bce import softplus
from tests.support import RTOL_EXACT, assert_close, seeds, shapes, to_torch

REDUCTIONS = ["mean", "sum", "none"]
CLASS_WEIGHTS = "class weights"  # a weight row of C numbers, drawn with the problem
PER_CLASS = "one per class"  # a pos_weight/weight row broadcast over the samples


# ----------------------------------------------------------------------------- problems


def same_shape_problem(rng, shape, target="real"):
    """Outputs of ``shape`` and targets of the same shape: real numbers, or probabilities in [0, 1]."""
    outputs = 3.0 * rng.standard_normal(shape)
    targets = rng.uniform(0.0, 1.0, shape) if target == "probability" else 3.0 * rng.standard_normal(shape)
    return outputs, targets


def class_problem(rng, num_samples, num_classes, log_probabilities=False):
    """Scores (N, C) and class indices (N,); log-probabilities (rows of log softmax) for NLL."""
    scores = 2.0 * rng.standard_normal((num_samples, num_classes))
    if log_probabilities:
        scores = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return scores, rng.integers(0, num_classes, num_samples)


# kinds of NLL problems with some targets ignored -> the target value that marks them
IGNORED = {"log_probabilities, some -100": -100, "log_probabilities, some of class 0": 0}


def with_ignored_targets(rng, targets, num_classes, ignored):
    """``targets`` with about half of them set to ``ignored``, never all: one target that counts keeps
    the mean finite (all ignored is 0/0, tested on its own). Class 0 needs C >= 2."""
    targets = np.where(rng.random(len(targets)) < 0.5, ignored, targets)
    targets[rng.integers(len(targets))] = (ignored + 1) % num_classes  # a class other than ``ignored``
    return targets


def option_array(rng, option, shape):
    """An option's value for a problem of ``shape``: None, a number, or a positive array of its shape."""
    if option == PER_CLASS:
        return rng.uniform(0.2, 3.0, shape[-1:])
    if option == CLASS_WEIGHTS:
        return rng.uniform(0.2, 3.0, shape[1])
    if option == "elementwise":
        return rng.uniform(0.2, 3.0, shape)
    return option


# ----------------------------------------------------------------------------- the parity table

# id -> (kind of problem, ours(reduction, rng, shape), torch's(input, target, reduction, rng, shape));
# rng draws the option arrays, the same ones for both sides (each side gets a fresh rng of the same seed)
CASES = {
    "mse": ("real", lambda r, rng, s: MSELoss(r), lambda x, t, r, rng, s: F.mse_loss(x, t, reduction=r)),
    "l1": ("real", lambda r, rng, s: L1Loss(r), lambda x, t, r, rng, s: F.l1_loss(x, t, reduction=r)),
    **{
        f"smooth_l1-beta={beta}": (
            "real",
            lambda r, rng, s, beta=beta: SmoothL1Loss(r, beta),
            lambda x, t, r, rng, s, beta=beta: F.smooth_l1_loss(x, t, reduction=r, beta=beta),
        )
        for beta in (0.0, 0.5, 1.0, 2.5)
    },
    **{
        f"bce_with_logits-weight={weight}-pos_weight={pos_weight}": (
            "probability",
            lambda r, rng, s, w=weight, p=pos_weight: BCEWithLogitsLoss(
                option_array(rng, w, s), r, option_array(rng, p, s)
            ),
            lambda x, t, r, rng, s, w=weight, p=pos_weight: F.binary_cross_entropy_with_logits(
                x,
                t,
                _torch_option(option_array(rng, w, s)),
                reduction=r,
                pos_weight=_torch_option(option_array(rng, p, s)),
            ),
        )
        for weight, pos_weight in [
            (None, None),
            (None, 3.0),
            (None, PER_CLASS),
            ("elementwise", None),
            (PER_CLASS, PER_CLASS),
        ]
    },
    **{
        f"nll-weight={weight}-ignore_index={ignore_index}-targets={targets}": (
            kind,
            lambda r, rng, s, w=weight, i=ignore_index: NLLLoss(option_array(rng, w, s), i, r),
            lambda x, t, r, rng, s, w=weight, i=ignore_index: F.nll_loss(
                x, t, _torch_option(option_array(rng, w, s)), ignore_index=i, reduction=r
            ),
        )
        for targets, kind, weight, ignore_index in [
            ("all counted", "log_probabilities", None, -100),
            ("all counted", "log_probabilities", CLASS_WEIGHTS, -100),
            ("some -100", "log_probabilities, some -100", None, -100),
            ("some -100", "log_probabilities, some -100", CLASS_WEIGHTS, -100),
            ("some of class 0", "log_probabilities, some of class 0", None, 0),
            ("some of class 0", "log_probabilities, some of class 0", CLASS_WEIGHTS, 0),
        ]
    },
    "log_softmax_then_nll": (
        "scores",
        lambda r, rng, s: LayerThenLoss(LogSoftmax(axis=1), NLLLoss(reduction=r)),
        lambda x, t, r, rng, s: F.nll_loss(F.log_softmax(x, dim=1), t, reduction=r),
    ),
    **{
        f"multi_margin-p={p}-margin={margin}-weight={weight}": (
            "scores",
            lambda r, rng, s, p=p, m=margin, w=weight: MultiMarginLoss(p, m, option_array(rng, w, s), r),
            lambda x, t, r, rng, s, p=p, m=margin, w=weight: F.multi_margin_loss(
                x, t, p=p, margin=m, weight=_torch_option(option_array(rng, w, s)), reduction=r
            ),
        )
        for p, margin, weight in [
            (1, 1.0, None),
            (2, 1.0, None),
            (1, 0.5, None),
            (2, 2.0, None),
            (1, 0.0, None),
            (1, 1.0, CLASS_WEIGHTS),
            (2, 0.7, CLASS_WEIGHTS),
            (1, -0.5, None),  # a negative margin forgives a target a little below another class
            (2, -1.0, CLASS_WEIGHTS),
        ]
    },
}


def _torch_option(value):
    return None if value is None else torch.as_tensor(value, dtype=torch.float64)


def draw_problem(kind, seed, shape):
    """(input, target) of the case's kind for ``shape``: any shape for the element-wise losses, (N, C) else."""
    rng = np.random.default_rng(seed)
    if kind in ("real", "probability"):
        return same_shape_problem(rng, shape, kind)
    x, t = class_problem(rng, *shape, log_probabilities=kind.startswith("log_probabilities"))
    return (x, with_ignored_targets(rng, t, shape[1], IGNORED[kind])) if kind in IGNORED else (x, t)


def problem_shapes(kind):
    if kind in ("real", "probability"):
        return shapes(1, 4)
    return shapes(2, 2, min_side=2 if kind in IGNORED else 1, max_side=7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES)
@given(data=st.data(), seed=seeds())
def test_loss_value_and_gradient_match_torch(case, reduction, data, seed):
    kind, ours_for, theirs_for = CASES[case]
    shape = data.draw(problem_shapes(kind))
    x, t = draw_problem(kind, seed, shape)
    loss = ours_for(reduction, np.random.default_rng(seed + 1), shape)
    value = loss.forward(x, t)
    # an arbitrary upstream gradient checks the chain rule through every reduction
    grad_loss = np.random.default_rng(seed + 2).standard_normal(np.shape(value))
    grad = loss.backward(grad_loss)

    x_torch = to_torch(x, requires_grad=True)
    expected = theirs_for(x_torch, to_torch(t), reduction, np.random.default_rng(seed + 1), shape)
    expected.backward(to_torch(grad_loss))
    assert_close(value, expected, RTOL_EXACT, name=f"{case}: loss")
    assert_close(grad, x_torch.grad, RTOL_EXACT, name=f"{case}: d loss / d input")


FUNCTIONS = {
    "mse": (mse_loss, lambda x, t: F.mse_loss(x, t), "real"),
    "l1": (l1_loss, lambda x, t: F.l1_loss(x, t), "real"),
    "smooth_l1": (
        lambda x, t: smooth_l1_loss(x, t, "sum", 0.3),
        lambda x, t: F.smooth_l1_loss(x, t, reduction="sum", beta=0.3),
        "real",
    ),
    "bce": (
        lambda x, t: binary_cross_entropy_with_logits(x, t, pos_weight=np.array([2.0, 0.5, 1.0])),
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=torch.tensor([2.0, 0.5, 1.0])),
        "probability",
    ),
    "nll": (nll_loss, F.nll_loss, "log_probabilities"),
    "nll-weight-ignore_index": (
        lambda x, t: nll_loss(x, t, np.array([0.5, 2.0, 1.0]), ignore_index=1, reduction="sum"),
        lambda x, t: F.nll_loss(x, t, torch.tensor([0.5, 2.0, 1.0]), ignore_index=1, reduction="sum"),
        "log_probabilities",
    ),
    "multi_margin": (
        lambda x, t: multi_margin_loss(x, t, p=2, margin=0.5, reduction="none"),
        lambda x, t: F.multi_margin_loss(x, t, p=2, margin=0.5, reduction="none"),
        "scores",
    ),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functional_forms_match_torch(name):
    ours, theirs, kind = FUNCTIONS[name]
    x, t = draw_problem(kind, 3, (5, 3))
    assert_close(ours(x, t), theirs(to_torch(x), to_torch(t)), RTOL_EXACT, name=name)


@pytest.mark.parametrize("case", ["bce_with_logits-weight=None-pos_weight=None", "log_softmax_then_nll"])
def test_logit_losses_stay_finite_and_match_torch_for_logits_of_magnitude_1e4(case):
    kind, ours_for, theirs_for = CASES[case]
    rng = np.random.default_rng(0)
    x = rng.choice([-1e4, 1e4], (4, 3)) * rng.uniform(0.5, 1.0, (4, 3))
    t = rng.uniform(0, 1, (4, 3)) if kind == "probability" else rng.integers(0, 3, 4)
    loss = ours_for("sum", rng, x.shape)
    value, grad = loss.forward(x, t), loss.backward()
    x_torch = to_torch(x, requires_grad=True)
    expected = theirs_for(x_torch, to_torch(t), "sum", rng, x.shape)
    expected.backward()
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert_close(value, expected, RTOL_EXACT, name="loss")
    assert_close(grad, x_torch.grad, RTOL_EXACT, name="d loss / d input")


# ----------------------------------------------------------------------------- gradcheck


def kink_distance(case, x, t):
    """How far the problem's values are from the places where the case's gradient jumps."""
    if case.startswith(("l1", "smooth_l1")):
        distances = [np.abs(x - t)]
        beta = float(case.split("=")[1]) if case.startswith("smooth") else 0.0
        if beta:
            distances.append(np.abs(np.abs(x - t) - beta))
        return min(float(d.min()) for d in distances)
    if case.startswith("multi_margin"):
        margin = float(case.split("margin=")[1].split("-weight")[0])
        rows = np.arange(len(x))
        hinge = margin - x[rows, t][:, None] + x
        hinge[rows, t] = np.inf
        return float(np.abs(hinge).min())
    return np.inf


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES)
def test_loss_gradient_passes_gradcheck(case, reduction):
    kind, ours_for, _ = CASES[case]
    shape = (4, 3)
    for seed in range(50):  # the first problem whose values keep clear of the kinks
        x, t = draw_problem(kind, seed, shape)
        if kink_distance(case, x, t) > 1e-3:
            break
    loss = ours_for(reduction, np.random.default_rng(seed + 1), shape)
    grad_loss = np.random.default_rng(seed + 2).standard_normal(np.shape(loss.forward(x, t)))
    analytic = loss.backward(grad_loss)
    # the weighted sum makes one scalar out of every reduction ("none" included)
    gradcheck(lambda: float(np.sum(grad_loss * loss.forward(x, t))), {"input": x}, {"input": analytic})


# ----------------------------------------------------------------------------- properties


def mean_denominator(loss, target, per_element):
    """What "mean" divides the sum by: the number of losses; for NLLLoss, the weights of the targets that count."""
    if not isinstance(loss, NLLLoss):
        return per_element.size
    counted = target != loss.ignore_index
    if loss.weight is None:
        return counted.sum()
    return loss.weight[target[counted]].sum()


@pytest.mark.parametrize("case", CASES)
@given(data=st.data(), seed=seeds())
def test_reductions_agree_and_gradients_keep_shape(case, data, seed):
    kind, ours_for, _ = CASES[case]
    shape = data.draw(problem_shapes(kind))
    x, t = draw_problem(kind, seed, shape)
    per_element = ours_for("none", np.random.default_rng(seed + 1), shape).forward(x, t)
    assert per_element.shape == (shape if kind in ("real", "probability") else shape[:1])
    assert (per_element >= -1e-12).all()  # every loss here is a penalty, never a reward (up to rounding)
    total = ours_for("sum", np.random.default_rng(seed + 1), shape)
    mean = ours_for("mean", np.random.default_rng(seed + 1), shape)
    denominator = mean_denominator(mean, t, per_element)
    np.testing.assert_allclose(total.forward(x, t), per_element.sum(), rtol=1e-12)
    np.testing.assert_allclose(mean.forward(x, t), per_element.sum() / denominator, rtol=1e-12)
    # the mean's gradient is the sum's over the mean's denominator
    grad = total.backward()
    assert grad.shape == x.shape
    np.testing.assert_allclose(mean.backward() * denominator, grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", [MSELoss(), L1Loss(), SmoothL1Loss(beta=0.5)], ids=["mse", "l1", "smooth_l1"])
@given(shape=shapes(1, 3), seed=seeds())
def test_regression_losses_are_zero_with_zero_gradient_at_the_target(loss, shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    assert loss.forward(x, x.copy()) == 0
    assert not loss.backward().any()


@given(num_samples=st.integers(1, 6), num_classes=st.integers(1, 6), seed=seeds())
def test_log_softmax_then_nll_is_cross_entropy(num_samples, num_classes, seed):
    x, t = class_problem(np.random.default_rng(seed), num_samples, num_classes)
    two_steps, fused = make_loss("nll"), CrossEntropyLoss()
    np.testing.assert_allclose(two_steps.forward(x, t), fused.forward(x, t), rtol=1e-12)
    np.testing.assert_allclose(two_steps.backward(), fused.backward(), rtol=1e-10, atol=1e-15)


@given(num_samples=st.integers(1, 6), num_classes=st.integers(2, 6), margin=st.floats(-3.0, 3.0), seed=seeds())
def test_multi_margin_is_zero_once_the_target_wins_by_the_margin(num_samples, num_classes, margin, seed):
    x, t = class_problem(np.random.default_rng(seed), num_samples, num_classes)
    x[np.arange(num_samples), t] = x.max(axis=1) + margin + 0.01
    loss = MultiMarginLoss(margin=margin)
    assert loss.forward(x, t) == 0
    assert not loss.backward().any()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(num_samples=st.integers(1, 6), num_classes=st.integers(2, 6), ignored=st.integers(0, 5), seed=seeds())
def test_nll_ignore_index_naming_a_class_is_the_same_as_marking_its_targets_minus_100(
    reduction, num_samples, num_classes, ignored, seed
):
    rng = np.random.default_rng(seed)
    x, t = class_problem(rng, num_samples, num_classes, log_probabilities=True)
    ignored %= num_classes
    t[rng.integers(num_samples)] = (ignored + 1) % num_classes  # one target that counts: a finite mean
    weight = rng.uniform(0.2, 3.0, num_classes)
    by_class, marked = NLLLoss(weight, ignored, reduction), NLLLoss(weight, -100, reduction)
    np.testing.assert_array_equal(by_class.forward(x, t), marked.forward(x, np.where(t == ignored, -100, t)))
    np.testing.assert_array_equal(by_class.backward(), marked.backward())


@pytest.mark.parametrize("weight", [None, [1.0, 2.0, 3.0]], ids=["unweighted", "weighted"])
def test_nll_with_every_target_ignored_has_a_nan_mean_and_zero_gradient_as_torch(weight):
    x, _ = class_problem(np.random.default_rng(0), 4, 3, log_probabilities=True)
    t = np.full(4, -100)
    loss = NLLLoss(None if weight is None else np.array(weight))
    with pytest.warns(RuntimeWarning):  # NumPy says 0/0 where PyTorch is silent
        value = loss.forward(x, t)
        grad = loss.backward()
    x_torch = to_torch(x, requires_grad=True)
    expected = F.nll_loss(x_torch, to_torch(t), _torch_option(weight))
    expected.backward()
    assert np.isnan(value) and torch.isnan(expected)
    assert_close(grad, x_torch.grad, RTOL_EXACT, name="d loss / d input")
    assert not grad.any()
    assert NLLLoss(reduction="sum").forward(x, t) == 0  # nothing counted: a sum of nothing


def test_nll_whose_targets_all_weigh_0_is_nan_where_torch_is_nan():
    x, _ = class_problem(np.random.default_rng(1), 3, 3, log_probabilities=True)
    t, weight = np.array([0, 0, 2]), np.array([0.0, 1.0, 0.0])
    loss = NLLLoss(weight)
    with pytest.warns(RuntimeWarning):
        value, grad = loss.forward(x, t), loss.backward()
    x_torch = to_torch(x, requires_grad=True)
    expected = F.nll_loss(x_torch, to_torch(t), _torch_option(weight))
    expected.backward()
    assert np.isnan(value) and torch.isnan(expected)
    assert_close(grad, x_torch.grad, RTOL_EXACT, name="d loss / d input")  # NaN at the targets, 0 elsewhere


@pytest.mark.parametrize(
    "case",
    [
        "mse",
        "smooth_l1-beta=0.5",
        "bce_with_logits-weight=None-pos_weight=3.0",
        "nll-weight=None-ignore_index=-100-targets=all counted",
        "nll-weight=class weights-ignore_index=-100-targets=some -100",
    ],
)
def test_float32_input_gives_float32_loss_and_gradient(case):
    kind, ours_for, _ = CASES[case]
    x, t = draw_problem(kind, 0, (3, 4))
    loss = ours_for("mean", np.random.default_rng(0), (3, 4))
    assert loss.forward(x.astype(np.float32), t).dtype == np.float32
    assert loss.backward().dtype == np.float32


# ----------------------------------------------------------------------------- command-line names


def test_make_loss_builds_every_name_and_says_which_suit_a_classifier():
    x, t = class_problem(np.random.default_rng(0), 4, 3)
    for name in ("cross-entropy", "nll", "multi-margin"):
        loss = make_loss(name)
        assert classification_problem(name) is None
        assert loss.forward(x, t).shape == () and loss.backward().shape == x.shape
    same_shape = {"mse": MSELoss, "l1": L1Loss, "smooth-l1": SmoothL1Loss, "bce-with-logits": BCEWithLogitsLoss}
    for name, kind in same_shape.items():
        assert type(make_loss(name)) is kind
        assert f"--loss {name} compares outputs with targets of the same shape" in classification_problem(name)
    assert set(LOSSES) == {"cross-entropy", "nll", "multi-margin", "mse", "l1", "smooth-l1", "bce-with-logits"}
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; choose one of: cross-entropy, nll"):
        make_loss("hinge")


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "make, x, t, message",
    [
        (MSELoss, np.zeros((2, 3)), np.zeros((3, 2)), r"MSELoss: target must have the input's shape \(2, 3\), got"),
        (L1Loss, np.zeros(3, dtype=int), np.zeros(3), r"L1Loss: input must be floating point, got dtype int64"),
        (NLLLoss, np.zeros((2, 3)), np.zeros((2, 3)), r"NLLLoss: targets must be class indices of shape \(N,\)"),
        (NLLLoss, np.zeros((2, 3)), np.array([0, 3]), r"NLLLoss: target index 3 at position 1 is out of range for C=3"),
        (NLLLoss, np.zeros(3), np.array([0]), r"NLLLoss: logits must have shape \(N, C\), got shape \(3,\)"),
        (MultiMarginLoss, np.zeros((2, 3)), np.array([0]), r"MultiMarginLoss: got 1 targets for 2 samples"),
        (
            lambda: NLLLoss(ignore_index=-1),
            np.zeros((2, 3)),
            np.array([0, -100]),
            r"NLLLoss: target index -100 at position 1 is out of range for C=3",
        ),
        (
            lambda: NLLLoss(weight=np.ones(4)),
            np.zeros((2, 3)),
            np.array([0, 1]),
            r"NLLLoss: weight must have shape \(C,\) = \(3,\), got shape \(4,\)",
        ),
        (
            lambda: MultiMarginLoss(weight=np.ones(2)),
            np.zeros((2, 3)),
            np.array([0, 1]),
            r"MultiMarginLoss: weight must have shape \(C,\) = \(3,\), got shape \(2,\)",
        ),
        (
            lambda: BCEWithLogitsLoss(pos_weight=np.ones(2)),
            np.zeros((2, 3)),
            np.zeros((2, 3)),
            r"BCEWithLogitsLoss: pos_weight of shape \(2,\) does not broadcast to the input's shape \(2, 3\)",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_loss(make, x, t, message):
    with pytest.raises(ValueError, match=message):
        make().forward(x, t)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: MSELoss("average"), r"MSELoss: reduction must be one of \('mean', 'sum', 'none'\), got 'average'"),
        (lambda: SmoothL1Loss(beta=-1.0), r"SmoothL1Loss: beta must be a number in \[0.0, inf\], got -1.0"),
        (lambda: MultiMarginLoss(p=3), r"MultiMarginLoss: p must be 1 or 2, got 3"),
        (lambda: MultiMarginLoss(margin=float("nan")), r"MultiMarginLoss: margin must be a number in \[-inf, inf\]"),
        (lambda: NLLLoss(ignore_index=1.0), r"^NLLLoss: ignore_index must be an integer, got 1.0$"),
    ],
)
def test_bad_settings_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_backward_needs_a_forward_and_an_upstream_gradient_of_the_right_shape():
    with pytest.raises(RuntimeError, match=r"NLLLoss.backward\(\) called before forward\(\)"):
        NLLLoss().backward()
    loss = MSELoss("none")
    loss.forward(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"MSELoss.backward: grad_loss must have shape \(2, 3\) for reduction='none'"):
        loss.backward(np.ones(3))
    with pytest.raises(TypeError, match=r"LayerThenLoss: layer must be a Module such as LogSoftmax, got str"):
        LayerThenLoss("log_softmax", NLLLoss())


def test_softplus_is_finite_where_the_naive_formula_overflows():
    x = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    assert_close(softplus(x), F.softplus(to_torch(x)), RTOL_EXACT)
