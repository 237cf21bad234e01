import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.common.cross_entropy import CrossEntropyLoss, cross_entropy, logsumexp
from nnscratch.testing import gradcheck
from tests.support import RTOL_EXACT, assert_close, float_arrays, shapes, to_torch

REDUCTIONS = ["mean", "sum", "none"]
SMOOTHINGS = [0.0, 0.1, 0.7]


@st.composite
def problems(draw, scale=10.0, target_form=None):
    """Logits (N, C) with targets as class indices, one-hot rows or probability rows."""
    n, c = draw(st.integers(1, 9)), draw(st.integers(1, 8))
    logits = draw(float_arrays((n, c), scale=scale))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    form = target_form or draw(st.sampled_from(["index", "onehot", "probs"]))
    indices = rng.integers(0, c, size=n)
    if form == "index":
        targets = indices
    elif form == "onehot":
        targets = np.eye(c)[indices]
    else:
        targets = rng.dirichlet(np.ones(c), size=n)
    return logits, targets


def torch_reference(logits, targets, reduction, smoothing, grad_loss):
    z = to_torch(logits, requires_grad=True)
    loss = F.cross_entropy(z, to_torch(targets), reduction=reduction, label_smoothing=smoothing)
    loss.backward(to_torch(grad_loss))
    return loss, z.grad


@given(float_arrays(shapes(1, 3), scale=50.0), st.data())
def test_logsumexp_matches_torch(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    keepdims = data.draw(st.booleans())
    assert_close(logsumexp(x, axis, keepdims), torch.logsumexp(to_torch(x), dim=axis, keepdim=keepdims))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", SMOOTHINGS)
@given(problem=problems(), seed=st.integers(0, 1000))
def test_cross_entropy_value_and_gradient_match_torch(problem, seed, reduction, smoothing):
    logits, targets = problem
    # an arbitrary upstream gradient checks the chain rule through every reduction
    shape = (len(logits),) if reduction == "none" else ()
    grad_loss = np.random.default_rng(seed).standard_normal(shape)
    expected_loss, expected_grad = torch_reference(logits, targets, reduction, smoothing, grad_loss)

    loss_fn = CrossEntropyLoss(reduction, smoothing)
    loss = loss_fn.forward(logits, targets)
    assert_close(loss, expected_loss, RTOL_EXACT, name="loss")
    assert_close(loss_fn.backward(grad_loss), expected_grad, RTOL_EXACT, name="d loss / d logits")
    assert_close(cross_entropy(logits, targets, reduction, smoothing), expected_loss, RTOL_EXACT)


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
@given(problem=problems(scale=1e4))
def test_cross_entropy_is_finite_and_matches_torch_for_logits_of_magnitude_1e4(problem, smoothing):
    logits, targets = problem
    expected_loss, expected_grad = torch_reference(logits, targets, "none", smoothing, np.ones(len(logits)))
    loss_fn = CrossEntropyLoss("none", smoothing)
    loss = loss_fn.forward(logits, targets)
    grad = loss_fn.backward()
    assert np.isfinite(loss).all() and np.isfinite(grad).all()
    assert_close(loss, expected_loss, RTOL_EXACT, atol=1e-8)
    assert_close(grad, expected_grad, RTOL_EXACT, atol=1e-12)


def test_mean_gradient_carries_the_one_over_n():
    logits = np.zeros((4, 2))
    loss_fn = CrossEntropyLoss()
    loss_fn.forward(logits, np.array([0, 0, 1, 1]))
    # softmax = 0.5 everywhere; minus the one-hot; divided by N = 4
    np.testing.assert_allclose(loss_fn.backward(), [[-0.125, 0.125]] * 2 + [[0.125, -0.125]] * 2)


@pytest.mark.parametrize("form", ["index", "probs"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_gradient_passes_gradcheck(form, smoothing):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((5, 4))
    targets = rng.integers(0, 4, 5) if form == "index" else rng.dirichlet(np.ones(4), 5)
    loss_fn = CrossEntropyLoss("mean", smoothing)
    loss_fn.forward(logits, targets)
    analytic = loss_fn.backward()
    gradcheck(lambda: float(loss_fn.forward(logits, targets)), {"logits": logits}, {"logits": analytic})


@pytest.mark.parametrize("form", ["index", "onehot"])
def test_float32_logits_give_float32_loss_and_gradient(form):
    logits = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    targets = np.array([0, 3, 1]) if form == "index" else np.eye(4)[[0, 3, 1]]
    loss_fn = CrossEntropyLoss(label_smoothing=0.1)
    assert loss_fn.forward(logits, targets).dtype == np.float32
    assert loss_fn.backward().dtype == np.float32


def test_integral_float_indices_are_accepted():
    logits = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(cross_entropy(logits, np.array([1.0, 0.0, 3.0])), cross_entropy(logits, [1, 0, 3]))


# ----------------------------------------------------------------------------- bad input

LOGITS = np.zeros((3, 4))


@pytest.mark.parametrize(
    ("logits", "targets", "message"),
    [
        (LOGITS, [0, 4, 1], r"target index 4 at position 1 is out of range for C=4 classes \(valid: 0..3\)"),
        (LOGITS, [0, -1, 1], r"target index -1 at position 1 is out of range for C=4"),
        (LOGITS, [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]], r"rows must sum to 1, row 1 sums to 2"),
        (LOGITS, [[0.5, 0.2, 0.1, 0.1]] * 3, r"rows must sum to 1, row 0 sums to 0.9"),
        (LOGITS, [[2.0, -1.0, 0, 0]] * 3, r"probability targets must be finite and within \[0, 1\]"),
        (LOGITS, [0, 1], r"got 2 targets for 3 samples"),
        (LOGITS, np.eye(4)[:2], r"probability rows \(N, C\) = \(3, 4\), got shape \(2, 4\)"),
        (LOGITS, [0.0, 1.5, 2.0], r"class-index targets must be integers, got 1.5 at position 1"),
        (LOGITS, np.array([True, False, True]), r"class-index targets must be integers, got dtype bool"),
        (
            np.array([[0.0, np.nan], [1.0, 2.0]]),
            [0, 1],
            r"1 non-finite value\(s\) \(NaN or inf\), first at index \(0, 1\)",
        ),
        (np.array([[0.0, 1.0], [np.inf, 2.0]]), [0, 1], r"non-finite .* first at index \(1, 0\): inf"),
        (np.zeros(4), [0], r"logits must have shape \(N, C\), got shape \(4,\)"),
        (np.zeros((2, 3), dtype=np.int64), [0, 1], r"logits must be floating point, got dtype int64"),
    ],
)
def test_bad_input_raises_value_error_naming_the_problem(logits, targets, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy(logits, np.asarray(targets))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\), got 'avg'"):
        CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        CrossEntropyLoss(label_smoothing=1.5)


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        CrossEntropyLoss().backward()


def test_value_checks_are_made_on_the_host_and_skipped_where_they_would_wait_for_a_gpu(monkeypatch):
    from nnscratch.common import cross_entropy as module

    nan_logits = np.array([[0.0, np.nan], [1.0, 2.0]])
    with pytest.raises(ValueError, match="non-finite"):
        CrossEntropyLoss().forward(nan_logits, np.array([0, 1]))  # NumPy arrays: checked
    assert np.isnan(CrossEntropyLoss(check_values=False).forward(nan_logits, np.array([0, 1])))
    # arrays that are not in host memory (a GPU's): the default reads no value back
    monkeypatch.setattr(module, "on_cpu", lambda array: False)
    assert np.isnan(CrossEntropyLoss().forward(nan_logits, np.array([0, 1])))
    rows = np.array([[0.7, 0.7], [0.5, 0.5]])  # the first row sums to 1.4: not checked either
    assert np.isfinite(CrossEntropyLoss().forward(np.zeros((2, 2)), rows))
    with pytest.raises(ValueError, match="must sum to 1"):
        CrossEntropyLoss(check_values=True).forward(np.zeros((2, 2)), rows)
    with pytest.raises(ValueError, match="must have shape \\(N, C\\)"):  # shapes need no values: always checked
        CrossEntropyLoss().forward(np.zeros(3), np.array([0, 1, 2]))


def test_check_values_must_be_none_true_or_false():
    with pytest.raises(ValueError, match="check_values must be None, True or False, got 'yes'"):
        CrossEntropyLoss(check_values="yes")
