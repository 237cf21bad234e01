"""Every architecture of the gallery: shapes, PyTorch parity of the whole network, errors."""

import numpy as np
import pytest

from nnscratch.common.cross_entropy import CrossEntropyLoss
from nnscratch.common.datasets import load_dataset
from nnscratch.common.seed import manual_seed
from nnscratch.convolutional.architectures import ARCHITECTURES, build, options_of
from nnscratch.convolutional.modules import Dropout
from nnscratch.interop import torch as interop_torch
from nnscratch.vectorized.optim import Adam
from tests.support import assert_close, randomize_statistics, to_torch

INPUTS = [(1, 28), (3, 32)]
RTOL = 1e-6


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize(("channels", "size"), INPUTS)
def test_output_is_one_float32_logit_row_per_image(name, channels, size):
    model = build(name, channels, 10, size)
    x = np.random.default_rng(0).standard_normal((2, channels, size, size)).astype(np.float32)
    logits = model.forward(x)
    assert logits.shape == (2, 10) and logits.dtype == np.float32
    assert model.architecture["name"] == name and model.input_shape == (channels, size, size)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_backward_skips_the_gradient_of_the_images_and_changes_no_parameter_gradient(name):
    model = build(name, 1, 10, 28).to(np.float64)
    for module in model.modules():
        if isinstance(module, Dropout):
            module.p = 0.0
    assert model[0].needs_input_grad is False
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28))
    upstream = np.random.default_rng(1).standard_normal((2, 10))
    model.forward(x)
    assert model.backward(upstream) is None
    skipped = {name: parameter.grad.copy() for name, parameter in model.named_parameters()}
    model.zero_grad()
    model[0].needs_input_grad = True
    model.forward(x)
    assert model.backward(upstream).shape == x.shape
    for parameter_name, parameter in model.named_parameters():
        np.testing.assert_array_equal(parameter.grad, skipped[parameter_name], err_msg=parameter_name)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize(("channels", "size"), INPUTS)
def test_forward_and_every_gradient_match_the_same_network_built_in_torch(name, channels, size, training):
    model = build(name, channels, 10, size).to(np.float64)
    for module in model.modules():
        if isinstance(module, Dropout):
            module.p = 0.0  # dropout masks come from different generators; everything else is compared
    randomize_statistics(model, seed=1)
    model[0].needs_input_grad = True
    twin = interop_torch.to_torch(model)
    model.train(training)
    twin.train(training)

    x = np.random.default_rng(2).standard_normal((2, channels, size, size))
    upstream = np.random.default_rng(3).standard_normal((2, 10))
    logits = model.forward(x)
    grad_x = model.backward(upstream)
    x_torch = to_torch(x, requires_grad=True)
    logits_torch = twin(x_torch)
    logits_torch.backward(to_torch(upstream))
    assert_close(logits, logits_torch, RTOL, atol=1e-9, name="logits")
    assert_close(grad_x, x_torch.grad, RTOL, atol=1e-9, name="dL/dx")
    twin_parameters = dict(twin.named_parameters())
    for parameter_name, parameter in model.named_parameters():
        reference = twin_parameters[parameter_name].grad
        # rounding is relative to the scale of the whole gradient, not of each element: the
        # Winograd layers (F(4x4, 3x3) has transform coefficients up to 8) sum in another order,
        # and an element 1e5 times smaller than its tensor's largest keeps the absolute error
        scale = max(1.0, float(reference.abs().max()))
        assert_close(parameter.grad, reference, RTOL, atol=1e-9 * scale, name=parameter_name)
    twin_buffers = dict(twin.named_buffers())
    for buffer_name, buffer in model.named_buffers():
        assert_close(buffer, twin_buffers[buffer_name], RTOL, atol=1e-9, name=buffer_name)


def test_unknown_architecture_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"unknown architecture 'resnet50'; choose one of: baseline, lenet, alexnet"):
        build("resnet50")


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("lenet", {"image_size": 16}, r"lenet needs images of at least 28x28, got image_size=16"),
        ("convnext_tiny", {"image_size": 8}, r"convnext_tiny needs images of at least 16x16"),
        ("resnet18", {"width": 8, "depth": 2}, r"unknown option\(s\) \['depth'\]; resnet18 accepts \['width'\]"),
        ("baseline", {"in_channels": 0}, r"in_channels must be a positive integer, got 0"),
        ("lenet", {"pool": "median"}, r"pool must be 'max' or 'avg', got 'median'"),
    ],
)
def test_impossible_builds_are_refused_with_a_reason(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build(name, **kwargs)


def test_input_that_does_not_fit_the_model_is_refused_at_once():
    model = build("baseline", in_channels=1, image_size=28)
    with pytest.raises(ValueError, match=r"baseline was built for 1x28x28 images, got input of shape \(4, 3, 32, 32\)"):
        model.forward(np.zeros((4, 3, 32, 32), np.float32))


def test_options_are_recorded_for_rebuilding():
    model = build("convnext_tiny", 3, 10, 32, depths=(1, 1, 1, 1), widths=(8, 16, 32, 64))
    assert model.architecture["options"]["depths"] == (1, 1, 1, 1)
    assert set(options_of("efficientnet_lite0")) == {"width", "depth", "use_se", "activation", "dropout"}
    rebuilt = build(**{k: v for k, v in model.architecture.items() if k != "options"}, **model.architecture["options"])
    assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in model.parameters()]


# The full-size models take seconds per step on a CPU; here the large ones are overfit at a
# reduced width (same structure; ConvNeXt also with fewer blocks in its stages), and dropout is
# off, as in any overfitting check. benchmarks/overfit.py runs the check on every full-size model.
OVERFIT_OPTIONS = {
    "lenet": {},
    "baseline": {"dropout": 0.0},
    "alexnet": {"width": 0.25, "hidden": 128, "dropout": 0.0},
    "vgg16": {"width": 0.0625, "dropout": 0.0},
    "resnet18": {"width": 8},
    "efficientnet_lite0": {"width": 0.25, "dropout": 0.0},
    "convnext_tiny": {"widths": (16, 32, 64, 128), "depths": (1, 1, 3, 1)},
}


@pytest.fixture(scope="module")
def real_batch():
    """32 real Fashion-MNIST images, normalised, and their labels."""
    data = load_dataset("sample")
    return data.normalize(data.x_train[:32]), data.y_train[:32]


def as_rgb_32(images):
    """(N, 1, 28, 28) -> (N, 3, 32, 32): zero-padded by 2 and repeated over three channels."""
    return np.repeat(np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2))), 3, axis=1)


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize(("channels", "size"), INPUTS)
def test_overfits_a_batch_of_32_real_images_within_200_steps(name, channels, size, real_batch):
    images, labels = real_batch
    x = images if channels == 1 else as_rgb_32(images)
    manual_seed(0)
    model = build(name, channels, 10, size, **OVERFIT_OPTIONS[name])
    optimizer = Adam(model.parameters(), lr=2e-3)
    loss_fn = CrossEntropyLoss()
    losses = []
    for _ in range(200):
        losses.append(float(loss_fn.forward(model.forward(x), labels)))
        if losses[-1] < 0.05:
            break
        optimizer.zero_grad()
        model.backward(loss_fn.backward())
        optimizer.step()
    assert losses[-1] < 0.05, f"{name}: training loss {losses[-1]:.3f} after {len(losses)} steps"
