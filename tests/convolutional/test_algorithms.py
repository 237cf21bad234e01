"""Every route of Conv2D gives the numbers of the reference, of the definition and of PyTorch.

The reference is ``algorithm="im2col"``; the definition is ``conv2d_naive``, six loops. The
forward is compared directly; the backward through the adjoint identity of a linear map:
the convolution is linear in x and in W, so for any directions v and V

    <dL/dx, v> = <conv2d_naive(v, W, no bias), dY>      <dL/dW, V> = <conv2d_naive(x, V, no bias), dY>

which checks every gradient against the loops without a second, hand-written backward.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.common.backend import to_cpu
from nnscratch.common.datasets import load_dataset
from nnscratch.common.seed import manual_seed
from nnscratch.convolutional import ALGORITHMS, use_algorithm
from nnscratch.convolutional.algorithms import ROUTES
from nnscratch.convolutional.architectures import build
from nnscratch.convolutional.modules import Conv2D, conv2d_naive, no_grad
from nnscratch.convolutional.trainer import ConvTrainer
from nnscratch.vectorized.optim import SGD
from tests.support import RTOL_MODULE, assert_close, on_device, to_torch

ATOL = 1e-10


def close(ours, reference, name):
    assert_close(ours, reference, rtol=RTOL_MODULE, atol=ATOL, name=name)


@st.composite
def route_cases(draw, route_name):
    """(Conv2D forced onto ``route_name``, x, dL/dy) in float64, over the shapes the route applies to.

    Kernels 1 to 3 (3x3 for Winograd), strides 1 to 3 where the route allows them, paddings up
    to 3 (above kernel - 1 too), 1 to 3 channels and filters, tiny images; dilations 1 to 3 and
    groups where the route takes them (the reference: any; depthwise: groups = channels = filters).
    """
    kernel = (3, 3) if route_name == "winograd" else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    strided = route_name in ("im2col", "depthwise")
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if strided else (1, 1)
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if strided else (1, 1)
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    size = [max(1, k - 2 * p) + draw(st.integers(0, 4)) for k, p in zip(span, padding, strict=True)]
    groups = draw(st.sampled_from([1, 2, 3])) if route_name in ("im2col", "depthwise") else 1
    n, channels, filters = draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    if route_name == "depthwise":
        channels = filters = groups
    seed = draw(st.integers(0, 2**32 - 1))
    options = {"dilation": dilation, "groups": groups}
    conv = Conv2D(channels, filters, kernel, stride, padding, draw(st.booleans()), seed, route_name, **options)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, channels, *size))
    out = [(s + 2 * p - k) // step + 1 for s, p, k, step in zip(size, padding, span, stride, strict=True)]
    return conv.to(np.float64), x, rng.standard_normal((n, filters, *out))


def forward_backward(conv, x, grad_y):
    """y, dL/dx, dL/dW, dL/db (None without a bias) of one forward and backward from zero gradients,
    run on the active backend, returned as NumPy arrays."""
    conv.zero_grad()
    y = conv.forward(on_device(x))
    grad_x = conv.backward(on_device(grad_y))
    grad_b = None if conv.bias is None else to_cpu(conv.bias.grad)
    return to_cpu(y), to_cpu(grad_x), to_cpu(conv.weight.grad), grad_b


def check_route(route_name, case):
    conv, x, grad_y = case  # x and grad_y: NumPy arrays
    y, grad_x, grad_w, grad_b = forward_backward(conv, x, grad_y)
    assert conv.last_algorithm == route_name

    # the reference, on the same layer
    conv.algorithm = "im2col"
    ours, reference = (y, grad_x, grad_w, grad_b), forward_backward(conv, x, grad_y)
    for name, mine, expected in zip(("y", "dL/dx", "dL/dW", "dL/db"), ours, reference, strict=True):
        if expected is not None:
            close(mine, expected, f"{route_name} {name} vs im2col")

    # the definition, on the CPU: the forward directly, the gradients by the adjoint identity
    weight, bias = to_cpu(conv.weight.data), None if conv.bias is None else to_cpu(conv.bias.data)
    geometry = conv.stride, conv.padding, conv.dilation, conv.groups
    close(y, conv2d_naive(x, weight, bias, *geometry), f"{route_name} y vs loops")
    rng = np.random.default_rng(0)
    v, big_v = rng.standard_normal(x.shape), rng.standard_normal(weight.shape)
    along_x = np.vdot(conv2d_naive(v, weight, None, *geometry), grad_y)
    along_w = np.vdot(conv2d_naive(x, big_v, None, *geometry), grad_y)
    close(np.vdot(grad_x, v), along_x, f"{route_name} <dL/dx, v> vs loops")
    close(np.vdot(grad_w, big_v), along_w, f"{route_name} <dL/dW, V> vs loops")
    if grad_b is not None:
        close(grad_b, grad_y.sum(axis=(0, 2, 3)), f"{route_name} dL/db")

    # PyTorch
    tx, tw = to_torch(x, True), to_torch(weight, True)
    tb = None if bias is None else to_torch(bias, True)
    ty = F.conv2d(tx, tw, tb, conv.stride, conv.padding, conv.dilation, conv.groups)
    ty.backward(to_torch(grad_y))
    close(y, ty, f"{route_name} y vs torch")
    close(grad_x, tx.grad, f"{route_name} dL/dx vs torch")
    close(grad_w, tw.grad, f"{route_name} dL/dW vs torch")
    if tb is not None:
        close(grad_b, tb.grad, f"{route_name} dL/db vs torch")


@given(st.data())
@pytest.mark.parametrize("route_name", list(ROUTES))
def test_route_matches_the_reference_the_loops_and_torch_forward_and_backward(backend, route_name, data):
    check_route(route_name, data.draw(route_cases(route_name)))


# ----------------------------------------------------------------------------- choosing a route


def routes_taken(model, input_shape):
    """(layer name, route) of every Conv2D of ``model`` after one forward of a zero batch of 2."""
    with no_grad():
        model.forward(np.zeros((2, *input_shape), np.float32))
    return [(name, module.last_algorithm) for name, module in model.named_modules() if isinstance(module, Conv2D)]


def test_auto_takes_the_documented_route_for_every_convolution_of_lenet_baseline_and_resnet18():
    # the route table of the convolution page (docs/concepts/convolution.md)
    lenet = [route for _, route in routes_taken(build("lenet", 1, 10, 28), (1, 28, 28))]
    assert lenet == ["banded", "banded"]
    baseline = [route for _, route in routes_taken(build("baseline", 1, 10, 28), (1, 28, 28))]
    assert baseline == ["wide", "winograd", "winograd", "winograd"]
    resnet = dict(routes_taken(build("resnet18", 1, 10, 28), (1, 28, 28)))
    resnet_convs = build("resnet18", 1, 10, 28).named_modules()
    strided = {name for name, module in resnet_convs if isinstance(module, Conv2D) and module.stride != (1, 1)}
    assert len(resnet) == 20 and len(strided) == 6
    assert resnet["0"] == "wide"  # the stem: one input channel, 3x3 over 28x28
    assert {resnet[name] for name in strided} == {"im2col"}  # the reference: no faster route for stride 2
    assert {route for name, route in resnet.items() if name not in strided and name != "0"} == {"winograd"}


def test_use_algorithm_forces_every_convolution_of_a_model_and_restores_the_previous_choice():
    model = build("lenet", 1, 10, 28)
    with use_algorithm("im2col"):
        assert {route for _, route in routes_taken(model, (1, 28, 28))} == {"im2col"}
        with use_algorithm("auto"):
            assert {route for _, route in routes_taken(model, (1, 28, 28))} == {"banded"}
        assert {route for _, route in routes_taken(model, (1, 28, 28))} == {"im2col"}
    with pytest.raises(RuntimeError, match="inside"), use_algorithm("wide"):
        raise RuntimeError("an error inside the block")
    assert {route for _, route in routes_taken(model, (1, 28, 28))} == {"banded"}


def test_use_algorithm_overrides_the_algorithm_a_layer_was_built_with():
    conv = Conv2D(2, 3, 3, padding=1, seed=0, algorithm="winograd")
    x = np.zeros((1, 2, 5, 5), np.float32)
    conv.forward(x)
    assert conv.last_algorithm == "winograd"
    with use_algorithm("im2col"):
        conv.forward(x)
    assert conv.last_algorithm == "im2col"


def test_backward_follows_the_route_its_forward_took():
    conv = Conv2D(2, 3, 3, padding=1, seed=6).to(np.float64)
    x, grad_y = (
        np.random.default_rng(6).standard_normal((2, 2, 5, 5)),
        np.random.default_rng(7).standard_normal((2, 3, 5, 5)),
    )
    with use_algorithm("winograd"):
        conv.forward(x)
    with use_algorithm("im2col"):
        grad_x = conv.backward(grad_y)  # Winograd's saved tiles, read by Winograd's backward
    grad_w = conv.weight.grad.copy()
    _, reference_x, reference_w, _ = forward_backward(conv, x, grad_y)
    close(grad_x, reference_x, "dL/dx")
    close(grad_w, reference_w, "dL/dW")


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (Conv2D(3, 4, 5, algorithm="winograd"), r"^Conv2D\(in_channels=3\): algorithm 'winograd' needs a 3x3 kernel, "
         r"stride 1, dilation 1 and groups 1, and this layer has kernel_size \(5, 5\), stride \(1, 1\), dilation "
         r"\(1, 1\) and groups 1; use 'auto' or the reference"),
        (Conv2D(3, 4, 3, stride=2, algorithm="wide"), r"algorithm 'wide' needs stride 1, dilation 1 and groups 1, and "
         r"this layer has kernel_size \(3, 3\), stride \(2, 2\)"),
        (Conv2D(3, 4, 3, stride=(1, 2), algorithm="banded"), r"algorithm 'banded' needs stride 1"),
        (Conv2D(3, 4, 3, algorithm="winograd", dilation=2), r"'winograd' needs a 3x3 kernel, stride 1, dilation 1 "
         r"and groups 1, and this layer has kernel_size \(3, 3\), stride \(1, 1\), dilation \(2, 2\) and groups 1"),
        (Conv2D(3, 3, 3, algorithm="wide", groups=3), r"'wide' needs stride 1, dilation 1 and groups 1, .* groups 3;"),
        (Conv2D(3, 6, 3, algorithm="depthwise", groups=3), r"'depthwise' needs groups = in_channels = out_channels"),
    ],
    ids=["winograd-5x5", "wide-stride-2", "banded-stride-1x2", "winograd-dilated", "wide-grouped", "depthwise-2-per"],
)  # fmt: skip
def test_forcing_a_route_where_it_does_not_apply_names_the_layer_and_why(layer, message):
    with pytest.raises(ValueError, match=message):
        layer.forward(np.zeros((1, 3, 8, 8), np.float32))


def test_an_unknown_algorithm_is_refused_with_the_known_names():
    known = r"must be one of auto, winograd, banded, wide, depthwise, im2col, got 'fast'"
    with pytest.raises(ValueError, match=r"^Conv2D: algorithm " + known):
        Conv2D(1, 2, 3, algorithm="fast")
    with pytest.raises(ValueError, match=r"^use_algorithm: algorithm " + known), use_algorithm("fast"):
        pass
    assert ALGORITHMS == ("auto", "winograd", "banded", "wide", "depthwise", "im2col")


def test_last_algorithm_is_none_before_the_first_forward_and_repr_shows_a_forced_route():
    assert Conv2D(1, 2, 3).last_algorithm is None
    assert "algorithm" not in repr(Conv2D(1, 2, 3))
    assert repr(Conv2D(1, 2, 3, algorithm="im2col")).endswith("bias=True, algorithm='im2col')")


def test_lenet_trained_on_the_reference_follows_the_loss_curve_of_auto_within_float32_rounding():
    # what `nnscratch train lenet --conv-algorithm im2col` does: the same run, other routes, the same curve
    data = load_dataset("sample")
    x, y = data.normalize(data.x_train[:256]), data.y_train[:256]

    def losses(algorithm):
        manual_seed(0)
        model = build("lenet")
        trainer = ConvTrainer(model, SGD(model.parameters(), 0.05, momentum=0.9), quiet=True, seed=0)
        with use_algorithm(algorithm):
            history = trainer.fit(x, y, epochs=3, batch_size=32)
        assert {m.last_algorithm for m in model.modules() if isinstance(m, Conv2D)} == {
            "banded" if algorithm == "auto" else algorithm
        }
        return [entry["loss"] for entry in history]

    auto, reference = losses("auto"), losses("im2col")
    assert auto[-1] < auto[0]  # it learns
    np.testing.assert_allclose(reference, auto, rtol=1e-4)
