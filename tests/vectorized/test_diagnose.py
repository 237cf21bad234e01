"""Divergence names the first module whose output or gradient went non-finite."""

import math

import numpy as np
import pytest

from nnscratch.common.cross_entropy import CrossEntropyLoss
from nnscratch.common.datasets import load_dataset
from nnscratch.common.seed import manual_seed
from nnscratch.vectorized.diagnose import locate_non_finite
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.modules import Linear, Module, ReLU, Sequential
from nnscratch.vectorized.optim import SGD
from nnscratch.vectorized.trainer import NonFiniteLossError, Trainer


@pytest.fixture(scope="module")
def batch():
    dataset = load_dataset("sample")
    return dataset.normalize(dataset.x_train[:100]).reshape(100, -1), dataset.y_train[:100]


def mlp_trainer():
    manual_seed(0)
    model = build_mlp(784, [16], 10, batchnorm=True)  # Linear BatchNorm1D ReLU Linear
    return Trainer(model, SGD(model.parameters(), lr=0.1), quiet=True)


def test_weights_that_overflow_name_the_layer_whose_output_became_infinite(batch):
    trainer = mlp_trainer()
    trainer.model[3].weight.data[:] = 3e38  # finite, but 16 of them summed overflow float32
    with pytest.raises(NonFiniteLossError) as error, np.errstate(over="ignore", invalid="ignore"):
        trainer.fit(*batch, epochs=1, batch_size=25)
    assert str(error.value).startswith("training diverged at epoch 1, batch 1 of 4: the network's outputs became")
    assert str(error.value).endswith(
        "first non-finite: the output of module '3' (Linear(in_features=16, out_features=10, bias=True)), "
        "from a finite input"
    )


def test_a_nan_weight_is_named_as_a_parameter_already_non_finite(batch):
    trainer = mlp_trainer()
    trainer.model[0].weight.data[5, 5] = np.nan
    message = (
        r"first non-finite: the parameters \['weight'\] of module '0' \(Linear\(in_features=784, out_features=16, "
    )
    with pytest.raises(NonFiniteLossError, match=message + r"bias=True\)\), already before this batch"):
        trainer.fit(*batch, epochs=1, batch_size=25)


class InfiniteGradient(Module):
    """Passes values through unchanged, but its backward blows up: finite outputs, infinite gradients."""

    def forward(self, x):
        return x

    def backward(self, grad_out):
        return grad_out * math.inf


def test_an_infinite_gradient_names_the_module_it_starts_in(batch):
    manual_seed(0)
    model = Sequential(Linear(784, 8), ReLU(), InfiniteGradient(), Linear(8, 10))
    x, y = batch
    with np.errstate(invalid="ignore"):
        message = locate_non_finite(model, CrossEntropyLoss(), x[:10], y[:10])
    assert message == (
        "first non-finite: the gradient d loss / d input of module '2' (InfiniteGradient()), from a finite gradient"
    )
    assert all("_hooks" not in vars(module) for module in model.modules()), "the checks are removed afterwards"


def test_the_input_batch_and_a_loss_that_only_went_bad_once_are_reported_as_such(batch):
    x, y = batch
    trainer = mlp_trainer()
    poisoned = x[:10].copy()
    poisoned[3, 3] = np.inf
    assert (
        locate_non_finite(trainer.model, trainer.loss, poisoned, y[:10]) == "first non-finite: the input batch itself"
    )

    class OnceInfiniteLoss(CrossEntropyLoss):
        calls = 0

        def forward(self, logits, targets):
            self.calls += 1
            return super().forward(logits, targets) * (math.inf if self.calls == 2 else 1.0)

    trainer = mlp_trainer()
    trainer.loss = OnceInfiniteLoss()
    message = r"batch 2 of 4: the loss became NaN or infinite .*: the failure did not repeat"
    with pytest.raises(NonFiniteLossError, match=message):
        trainer.fit(*batch, epochs=1, batch_size=25)


def test_the_diagnosis_leaves_the_running_statistics_as_they_were(batch):
    x, y = batch
    trainer = mlp_trainer()
    before = {name: array.copy() for name, array in trainer.model.state_dict().items()}
    locate_non_finite(trainer.model, trainer.loss, x[:20], y[:20])
    for name, array in trainer.model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)
