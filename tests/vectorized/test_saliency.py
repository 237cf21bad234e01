"""Saliency: the gradient of the predicted class's logit with respect to the input, checked by central
differences (MLP) and against PyTorch's autograd (CNN), float64, over random shapes."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnscratch.convolutional.architectures import build
from nnscratch.convolutional.modules import BatchNorm2D, Conv2D, Flatten, MaxPool2D
from nnscratch.interop.torch import to_torch
from nnscratch.testing import assert_gradient_close, numerical_gradient
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.modules import Linear, ReLU, Sequential, no_grad
from nnscratch.vectorized.saliency import class_score_gradient, saliency, saliency_image
from tests.support import assert_close, seeds


def logit_of(model, x, sample: int, cls: int) -> float:
    """z_c of one sample, in evaluation mode, keeping nothing for backward."""
    model.eval()
    with no_grad():
        return float(model.forward(x)[sample, cls])


@settings(max_examples=15, deadline=None)
@given(
    batch=st.integers(1, 3),
    features=st.integers(2, 6),
    hidden=st.lists(st.integers(2, 5), min_size=1, max_size=2),
    classes=st.integers(2, 4),
    seed=seeds(),
)
def test_mlp_saliency_equals_central_differences_of_the_predicted_logit(batch, features, hidden, classes, seed):
    rng = np.random.default_rng(seed)
    model = build_mlp(features, hidden, classes, activations="tanh", dropout=0.3, batchnorm=True).to("float64")
    model.train()
    model.forward(rng.normal(size=(5, features)))  # running statistics away from their initial values
    x = rng.normal(size=(batch, features))
    gradient, predicted = saliency(model, x)
    for sample in range(batch):
        cls = int(predicted[sample])
        numeric = numerical_gradient(lambda sample=sample, cls=cls: logit_of(model, x, sample, cls), x)
        # the other samples do not change this sample's logit in evaluation mode: their rows are 0
        assert_gradient_close(f"x of sample {sample}", gradient[sample], numeric[sample])
        assert np.all(numeric[np.arange(batch) != sample] == 0)


def small_cnn(channels: int, side: int, classes: int, seed: int) -> Sequential:
    conv = Conv2D(channels, 3, kernel_size=3, padding=1, seed=seed)
    conv.needs_input_grad = False  # as the gallery builds a first layer: saliency must turn it on
    pooled = side // 2
    layers = [conv, BatchNorm2D(3), ReLU(), MaxPool2D(2), Flatten(), Linear(3 * pooled * pooled, classes, seed=seed)]
    return Sequential(*layers).to("float64")


@settings(max_examples=10, deadline=None)
@given(batch=st.integers(1, 3), channels=st.integers(1, 3), side=st.integers(2, 7), seed=seeds())
def test_cnn_saliency_matches_torch_autograd(batch, channels, side, seed):
    rng = np.random.default_rng(seed)
    model = small_cnn(channels, side, 4, seed % 1000)
    x = rng.normal(size=(batch, channels, side, side))
    gradient, predicted = saliency(model, x)

    twin = to_torch(model).eval()
    x_torch = torch.from_numpy(x.copy()).requires_grad_(True)
    logits = twin(x_torch)
    chosen = logits.argmax(dim=1)
    logits.gather(1, chosen[:, None]).sum().backward()
    assert np.array_equal(predicted, chosen.numpy())
    assert_close(gradient, x_torch.grad, rtol=1e-9, atol=1e-12, name="dz_c/dx")
    assert saliency_image(gradient).shape == (batch, side, side)
    assert_close(saliency_image(gradient), x_torch.grad.abs().amax(dim=1), name="saliency image")


def test_class_score_gradient_of_any_class_equals_central_differences():
    rng = np.random.default_rng(3)
    model = small_cnn(2, 4, 3, seed=5)
    x = rng.normal(size=(2, 2, 4, 4))
    classes = np.array([2, 0])
    gradient = class_score_gradient(model, x, classes)
    for sample, cls in enumerate(classes):
        numeric = numerical_gradient(lambda sample=sample, cls=cls: logit_of(model, x, sample, int(cls)), x)
        assert_gradient_close(f"x of sample {sample}", gradient[sample], numeric[sample])


def test_saliency_leaves_the_model_as_it_found_it():
    model = build_mlp(4, [3], 2, dropout=0.5).to("float64")
    model.train()
    for parameter in model.parameters():
        parameter.grad[...] = 0.25
    flags = [module.needs_input_grad for module in model.modules()]
    saliency(model, np.ones((2, 4)))
    assert model.training and all(module.training for module in model.modules())
    assert [module.needs_input_grad for module in model.modules()] == flags
    assert all(np.all(parameter.grad == 0.25) for parameter in model.parameters())


def test_class_score_gradient_refuses_classes_of_the_wrong_shape():
    model = build_mlp(4, [3], 2).to("float64")
    with pytest.raises(ValueError, match=r"classes must have shape \(2,\), got \(3,\)"):
        class_score_gradient(model, np.ones((2, 4)), np.array([0, 1, 1]))


@pytest.mark.parametrize(
    "name, options",
    [
        ("lenet", {}),
        ("baseline", {}),
        ("resnet18", {"width": 4}),
        ("convnext_tiny", {"depths": (1, 1, 1, 1), "widths": (8, 16, 32, 64)}),
    ],
    ids=["lenet", "baseline", "resnet18", "convnext_tiny"],
)
def test_saliency_of_gallery_models_matches_torch_autograd(name, options):
    """Residual blocks, batch and layer norms, depthwise convolutions: every backward carries dz_c/dx."""
    model = build(name, 1, 10, 28, **options).to("float64")
    x = np.random.default_rng(0).normal(size=(2, 1, 28, 28))
    gradient, predicted = saliency(model, x)
    twin = to_torch(model).eval()
    x_torch = torch.from_numpy(x.copy()).requires_grad_(True)
    logits = twin(x_torch)
    logits.gather(1, logits.argmax(dim=1)[:, None]).sum().backward()
    assert np.array_equal(predicted, logits.argmax(dim=1).numpy())
    assert_close(gradient, x_torch.grad, rtol=1e-8, atol=1e-12, name=f"{name}: dz_c/dx")
