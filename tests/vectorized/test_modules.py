"""Every layer of tier 2 against PyTorch (float64, forward and every gradient), by gradcheck, and on bad input."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.common.seed import manual_seed
from nnscratch.testing import gradcheck_module
from nnscratch.vectorized.modules import (
    GELU,
    BatchNorm1D,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
    make_activation,
)
from tests.support import RTOL_MODULE, assert_close, float_arrays, seeds, shapes, to_torch

# (ours, PyTorch's) for every element-wise layer; factories, because layers keep a cache
ACTIVATIONS = {
    "relu": (ReLU, torch.nn.ReLU),
    "leaky_relu": (lambda: LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    "relu6": (ReLU6, torch.nn.ReLU6),
    "tanh": (Tanh, torch.nn.Tanh),
    "sigmoid": (Sigmoid, torch.nn.Sigmoid),
    "silu": (SiLU, torch.nn.SiLU),
    "gelu": (GELU, torch.nn.GELU),
    "gelu_tanh": (lambda: GELU("tanh"), lambda: torch.nn.GELU(approximate="tanh")),
    "softmax_last": (lambda: Softmax(-1), lambda: torch.nn.Softmax(dim=-1)),
    "softmax_first": (lambda: Softmax(0), lambda: torch.nn.Softmax(dim=0)),
    "log_softmax_last": (lambda: LogSoftmax(-1), lambda: torch.nn.LogSoftmax(dim=-1)),
    "log_softmax_first": (lambda: LogSoftmax(0), lambda: torch.nn.LogSoftmax(dim=0)),
    "identity": (Identity, torch.nn.Identity),
    "flatten": (Flatten, torch.nn.Flatten),
}
MODES = ("train", "eval")


def assert_matches_torch(ours, reference, x, mode, seed=0):
    """Forward, dL/dx and every parameter gradient of ``ours`` equal ``reference``'s (float64, RTOL_MODULE)."""
    ours.train(mode == "train")
    reference.train(mode == "train")
    ours.zero_grad()
    reference.zero_grad()
    y = ours.forward(x)
    x_torch = to_torch(x, requires_grad=True)
    y_torch = reference(x_torch)
    assert_close(y, y_torch, RTOL_MODULE, name="output")
    grad_out = np.random.default_rng(seed).standard_normal(y.shape)
    grad_x = ours.backward(grad_out)
    y_torch.backward(to_torch(grad_out))
    assert_close(grad_x, x_torch.grad, RTOL_MODULE, name="grad input")
    torch_parameters = dict(reference.named_parameters())
    for name, parameter in ours.named_parameters():
        assert_close(parameter.grad, torch_parameters[name].grad, RTOL_MODULE, name=f"grad {name}")


def away_from_kinks(seed, shape=(3, 4)):
    """Values whose central differences do not straddle the kinks of ReLU-like layers (0 and 6)."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 2.0, shape)


def random_linear_pair(in_features, out_features, bias, seed):
    ours = Linear(in_features, out_features, bias=bias, seed=seed).to(np.float64)
    reference = torch.nn.Linear(in_features, out_features, bias=bias)
    with torch.no_grad():
        reference.weight.copy_(to_torch(ours.weight.data))
        if bias:
            reference.bias.copy_(to_torch(ours.bias.data))
    return ours, reference


# ----------------------------------------------------------------------------- Linear


@pytest.mark.parametrize("mode", MODES)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.booleans(), seeds())
def test_linear_matches_torch(mode, num_samples, in_features, out_features, bias, seed):
    ours, reference = random_linear_pair(in_features, out_features, bias, seed)
    x = np.random.default_rng(seed).standard_normal((num_samples, in_features))
    assert_matches_torch(ours, reference, x, mode, seed)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_passes_gradcheck(bias):
    layer = Linear(4, 3, bias=bias, seed=0).to(np.float64)
    gradcheck_module(layer, np.random.default_rng(1).standard_normal((5, 4)))


def test_linear_without_input_grad_skips_dx_and_still_fills_the_parameter_gradients():
    full, skipping = Linear(4, 3, seed=0).to(np.float64), Linear(4, 3, seed=0).to(np.float64)
    skipping.needs_input_grad = False
    x, grad_out = np.ones((2, 4)), np.arange(6.0).reshape(2, 3)
    full.forward(x), skipping.forward(x)
    assert full.backward(grad_out) is not None and skipping.backward(grad_out) is None
    np.testing.assert_array_equal(skipping.weight.grad, full.weight.grad)
    np.testing.assert_array_equal(skipping.bias.grad, full.bias.grad)


def test_linear_initialises_like_torch_uniform_within_one_over_sqrt_fan_in():
    bound = 1 / math.sqrt(400)
    layer = Linear(400, 300, seed=0)
    reference = torch.nn.Linear(400, 300)
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)
    for ours, theirs in ((layer.weight.data, reference.weight), (layer.bias.data, reference.bias)):
        theirs = theirs.detach().numpy()
        assert ours.dtype == np.float32
        assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
        # U(-b, b): both reach close to the bound, with standard deviation b / sqrt(3)
        assert np.abs(ours).max() > 0.97 * bound and np.abs(theirs).max() > 0.97 * bound
    np.testing.assert_allclose(layer.weight.data.std(), bound / math.sqrt(3), rtol=0.02)
    assert abs(layer.weight.data.mean()) < 0.01 * bound


def test_linear_weights_follow_the_seed():
    np.testing.assert_array_equal(Linear(5, 3, seed=4).weight.data, Linear(5, 3, seed=4).weight.data)
    assert not np.array_equal(Linear(5, 3, seed=4).weight.data, Linear(5, 3, seed=5).weight.data)
    manual_seed(7)
    first = Linear(5, 3).weight.data
    manual_seed(7)
    np.testing.assert_array_equal(Linear(5, 3).weight.data, first)


def test_linear_keeps_float32():
    layer = Linear(4, 3, seed=0)
    y = layer.forward(np.ones((2, 4), dtype=np.float32))
    assert y.dtype == np.float32 and layer.backward(np.ones_like(y)).dtype == np.float32
    assert layer.weight.grad.dtype == np.float32


def test_linear_without_bias_has_only_a_weight():
    assert [name for name, _ in Linear(3, 2, bias=False).named_parameters()] == ["weight"]


def test_linear_names_itself_and_the_shapes_when_the_input_has_the_wrong_feature_size():
    layer = Linear(784, 10)
    message = "Linear(in_features=784) got input of shape (64, 100): expected (N, 784)"
    with pytest.raises(ValueError) as error:
        layer.forward(np.zeros((64, 100), dtype=np.float32))
    assert str(error.value) == message
    with pytest.raises(ValueError, match=r"got input of shape \(784,\): expected \(N, 784\)"):
        layer.forward(np.zeros(784, dtype=np.float32))


@pytest.mark.parametrize("size", [0, -3, 2.5, True, "4"])
def test_linear_refuses_sizes_that_are_not_positive_integers(size):
    with pytest.raises(ValueError, match=r"Linear: in_features must be a positive integer"):
        Linear(size, 3)


# ----------------------------------------------------------------------------- activations and reshapes


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ACTIVATIONS)
@given(x=float_arrays(shapes(2, 4), scale=8.0))
def test_elementwise_layers_match_torch(name, mode, x):
    ours, reference = ACTIVATIONS[name]
    assert_matches_torch(ours(), reference(), x, mode)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_elementwise_layers_pass_gradcheck(name):
    ours, _ = ACTIVATIONS[name]
    x = away_from_kinks(0, (2, 3, 2)) * (3.0 if name == "relu6" else 1.0)  # relu6: reach past 6
    gradcheck_module(ours(), x)


def kinks_and_neighbours(dtype):
    """Every kink of ReLU, LeakyReLU and ReLU6 (0 and 6), exactly and one float step either side,
    with -0.0 and points well inside each piece: random draws almost never land on a kink."""
    points = []
    for kink in (0.0, 6.0):
        kink = dtype(kink)
        points += [np.nextafter(kink, dtype(-np.inf)), kink, np.nextafter(kink, dtype(np.inf))]
    return np.array([-1.0, -0.0, *points, 3.0, 7.0], dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["relu", "leaky_relu", "relu6"])
def test_piecewise_linear_layers_match_torch_exactly_at_their_kinks(name, dtype):
    ours, reference = (make() for make in ACTIVATIONS[name])
    x = kinks_and_neighbours(dtype)
    x_torch = torch.from_numpy(x.copy()).requires_grad_()
    y_torch = reference(x_torch)
    y_torch.backward(torch.ones_like(y_torch))
    np.testing.assert_array_equal(ours.forward(x), y_torch.detach().numpy())
    np.testing.assert_array_equal(ours.backward(np.ones_like(x)), x_torch.grad.numpy(), err_msg=f"{name} at {x}")


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_elementwise_layers_keep_float32(name):
    layer = ACTIVATIONS[name][0]()
    x = np.random.default_rng(0).standard_normal((3, 4, 2)).astype(np.float32)
    y = layer.forward(x)
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32


@pytest.mark.parametrize("mode", MODES)
def test_log_softmax_stays_finite_and_matches_torch_for_logits_of_magnitude_1e4(mode):
    # log(softmax(x)) would be log(0) = -inf for every class but the largest
    x = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 4.99e3]])
    ours = LogSoftmax(axis=1)
    assert_matches_torch(ours, torch.nn.LogSoftmax(dim=1), x, mode)
    assert np.isfinite(ours.forward(x)).all()


def test_make_activation_builds_by_name_and_lists_the_choices_for_an_unknown_name():
    assert isinstance(make_activation("gelu"), GELU)
    with pytest.raises(ValueError, match=r"unknown activation 'swish'; choose one of: relu, leaky_relu"):
        make_activation("swish")


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(ValueError, match=r"GELU: approximate must be 'none' or 'tanh', got 'erf'"):
        GELU("erf")


def test_flatten_keeps_the_batch_axis_and_backward_restores_the_shape():
    layer = Flatten()
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    assert layer.forward(x).shape == (2, 12)
    assert layer.backward(np.ones((2, 12))).shape == (2, 3, 2, 2)


# ----------------------------------------------------------------------------- Dropout


@given(shapes(1, 3, max_side=8), st.sampled_from([0.1, 0.5, 0.9]), seeds())
def test_dropout_zeroes_or_scales_each_value_and_backward_uses_the_same_mask(shape, p, seed):
    layer = Dropout(p, seed=seed)
    x = np.random.default_rng(seed).uniform(1.0, 2.0, shape)
    y = layer.forward(x)
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p))
    grad = layer.backward(np.ones(shape))
    np.testing.assert_allclose(grad, kept / (1 - p))


def test_dropout_drops_a_fraction_p_and_keeps_the_mean():
    p, x = 0.3, np.ones((400, 500), dtype=np.float32)
    y = Dropout(p, seed=0).forward(x)
    dropped = (y == 0).mean()
    assert abs(dropped - p) < 4 * math.sqrt(p * (1 - p) / x.size)  # 4 standard deviations of a binomial
    assert abs(y.mean() - 1.0) < 0.01
    assert y.dtype == np.float32


def test_dropout_is_the_identity_in_eval_mode_and_with_p_zero():
    x = np.random.default_rng(0).standard_normal((4, 5))
    layer = Dropout(0.5, seed=0).eval()
    assert layer.forward(x) is x and layer.backward(x) is x
    assert Dropout(0.0, seed=0).forward(x) is x


def test_dropout_with_p_one_drops_everything():
    layer = Dropout(1.0, seed=0)
    assert not layer.forward(np.ones((3, 3))).any()
    assert not layer.backward(np.ones((3, 3))).any()


def test_dropout_masks_follow_the_seed_and_change_from_batch_to_batch():
    x = np.ones((20, 20))
    first, second = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    np.testing.assert_array_equal(first.forward(x), second.forward(x))
    assert not np.array_equal(first.forward(x), first.forward(x))


def test_dropout_passes_gradcheck_with_a_fixed_mask():
    layer = Dropout(0.4, seed=0)
    layer._generator = lambda xp: np.random.default_rng(1)  # the same mask on every forward
    gradcheck_module(layer, np.random.default_rng(2).standard_normal((4, 5)))


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_refuses_a_probability_outside_zero_one(p):
    with pytest.raises(ValueError, match=r"Dropout: p must be a number in \[0.0, 1.0\]"):
        Dropout(p)


# ----------------------------------------------------------------------------- BatchNorm1D


def random_batchnorm_pair(num_features, eps, momentum, seed):
    rng = np.random.default_rng(seed)
    ours = BatchNorm1D(num_features, eps=eps, momentum=momentum).to(np.float64)
    reference = torch.nn.BatchNorm1d(num_features, eps=eps, momentum=momentum)
    ours.weight.data[...] = rng.uniform(0.5, 2.0, num_features)
    ours.bias.data[...] = rng.standard_normal(num_features)
    with torch.no_grad():
        reference.weight.copy_(to_torch(ours.weight.data))
        reference.bias.copy_(to_torch(ours.bias.data))
    return ours, reference


@given(
    st.integers(2, 6),
    st.integers(1, 5),
    st.sampled_from([None, 1, 3]),
    st.sampled_from([(1e-5, 0.1), (1e-3, 0.3)]),
    seeds(),
)
def test_batchnorm1d_matches_torch_in_training_then_in_eval_with_the_running_stats(
    num_samples, num_features, length, eps_momentum, seed
):
    eps, momentum = eps_momentum
    ours, reference = random_batchnorm_pair(num_features, eps, momentum, seed)
    rng = np.random.default_rng(seed)
    shape = (num_samples, num_features) if length is None else (num_samples, num_features, length)
    for step in range(3):  # the running statistics move with every training batch
        x = rng.normal(2.0, 3.0, shape)
        assert_matches_torch(ours, reference, x, "train", seed + step)
        assert_close(ours.running_mean, reference.running_mean, RTOL_MODULE, name="running_mean")
        assert_close(ours.running_var, reference.running_var, RTOL_MODULE, name="running_var")
    assert int(ours.num_batches_tracked) == int(reference.num_batches_tracked) == 3
    assert_matches_torch(ours, reference, rng.normal(2.0, 3.0, shape), "eval", seed)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)])
def test_batchnorm1d_passes_gradcheck(mode, shape):
    layer, _ = random_batchnorm_pair(3, 1e-5, 0.1, 0)
    layer.train(mode == "train")
    gradcheck_module(layer, np.random.default_rng(1).normal(1.0, 2.0, shape))


def test_batchnorm1d_keeps_float32():
    layer = BatchNorm1D(3)
    y = layer.forward(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    assert y.dtype == np.float32 and layer.backward(np.ones_like(y)).dtype == np.float32
    assert layer.eval().forward(np.ones((2, 3), dtype=np.float32)).dtype == np.float32


def test_batchnorm1d_names_the_expected_and_received_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm1D\(num_features=3\) expects input \(N, C\) or \(N, C, L\) "):
        BatchNorm1D(3).forward(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"got shape \(2, 3, 4, 4\)"):
        BatchNorm1D(3).forward(np.zeros((2, 3, 4, 4)))


def test_batchnorm1d_needs_more_than_one_value_per_feature_to_train():
    with pytest.raises(ValueError, match=r"needs more than 1 value per channel in training mode"):
        BatchNorm1D(3).forward(np.zeros((1, 3)))
    assert BatchNorm1D(3).eval().forward(np.zeros((1, 3))).shape == (1, 3)
