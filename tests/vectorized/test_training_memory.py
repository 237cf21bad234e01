"""The memory of a training step, measured on the real layers: its arithmetic, checked by recomputing
each part from the layers' shapes and the parameters' arrays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnscratch.convolutional.modules import Conv2D, Flatten
from nnscratch.vectorized.batchnorm import BatchNorm1D
from nnscratch.vectorized.module import Module, Sequential
from nnscratch.vectorized.modules import Dropout, Linear, ReLU
from nnscratch.vectorized.optim import make_optimizer
from nnscratch.vectorized.training_memory import measure_training_memory, optimizer_state_bytes

DTYPES = st.sampled_from([np.float32, np.float64])


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 30), st.integers(1, 20), DTYPES)
def test_linear_layers_keep_their_input_and_relu_a_mask_of_one_byte_per_value(batch, inputs, hidden, dtype):
    model = Sequential(Linear(inputs, hidden), ReLU(), Linear(hidden, 3)).to(dtype)
    memory = measure_training_memory(model, (inputs,), batch)
    itemsize = np.dtype(dtype).itemsize
    assert memory.layers["0"].kept == batch * inputs * itemsize  # x
    assert memory.layers["1"].kept == batch * hidden  # x > 0, booleans
    assert memory.layers["2"].kept == batch * hidden * itemsize  # ReLU's output
    assert memory.kept == batch * (inputs * itemsize + hidden + hidden * itemsize)
    assert memory.kept_by_blocks == 0


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(3, 7), st.integers(1, 3), st.integers(0, 1), DTYPES)
def test_the_reference_convolution_keeps_its_columns(batch, channels, side, kernel, padding, dtype):
    conv = Conv2D(channels, 2, kernel, padding=padding, algorithm="im2col")
    memory = measure_training_memory(Sequential(conv).to(dtype), (channels, side, side), batch)
    out_side = side + 2 * padding - kernel + 1
    columns = channels * kernel * kernel * batch * out_side * out_side  # (C*kh*kw, N*H'*W')
    assert memory.layers["0"].kept == columns * np.dtype(dtype).itemsize


def test_a_view_counts_as_its_base_and_a_buffer_kept_twice_counts_once():
    model = Sequential(Flatten(), Linear(12, 2), ReLU())
    memory = measure_training_memory(model, (3, 2, 2), 5)
    assert memory.layers["0"].kept == 0  # Flatten keeps the shape only
    assert memory.layers["1"].kept == 5 * 12 * 4  # the flattened view keeps the whole input alive

    class KeepsTwice(Module):
        def __init__(self):
            self.linear = Linear(4, 4)

        def forward(self, x):
            self._save_for_backward(x, x[:, :1], self.linear.weight.data.T)  # a view, and a parameter's
            return self.linear.forward(x)

        def backward(self, grad_out):
            self._saved()
            return self.linear.backward(grad_out)

    memory = measure_training_memory(KeepsTwice(), (4,), 6)
    assert memory.kept == 6 * 4 * 4  # x once; the weight's view is counted with the parameters
    assert memory.layers["linear"].kept == 6 * 4 * 4  # layers come first, then the blocks around them
    assert memory.kept_by_blocks == 0


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 20), st.integers(1, 20), DTYPES)
def test_parameters_and_gradients_are_the_bytes_of_the_arrays(inputs, outputs, dtype):
    model = Sequential(Linear(inputs, outputs), BatchNorm1D(outputs)).to(dtype)
    memory = measure_training_memory(model, (inputs,), 4)
    expected = sum(p.data.nbytes for p in model.parameters())
    assert expected == (inputs * outputs + 3 * outputs) * np.dtype(dtype).itemsize  # W, b, gamma, beta
    assert memory.parameters == memory.gradients == expected
    assert memory.optimizer_state == 0  # no optimizer given


@pytest.mark.parametrize(
    ("name", "momentum", "lookahead", "copies"),
    [
        ("sgd", 0.0, False, 0),  # plain SGD keeps nothing
        ("sgd", 0.9, False, 1),  # the momentum buffer
        ("adam", 0.0, False, 2),  # first and second moments
        ("adamw", 0.0, False, 2),
        ("sgd", 0.9, True, 2),  # the buffer and Lookahead's slow weights
        ("adam", 0.0, True, 3),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_optimizer_state_is_a_whole_number_of_copies_of_the_parameters(name, momentum, lookahead, copies, dtype):
    parameters = Sequential(Linear(7, 5), Linear(5, 3)).to(dtype).parameters()
    state = optimizer_state_bytes(lambda ps: make_optimizer(name, ps, 0.1, momentum, lookahead=lookahead), parameters)
    assert state == copies * sum(p.data.nbytes for p in parameters)


def test_the_total_is_everything_held_plus_the_largest_workspace():
    model = Sequential(Linear(30, 50), ReLU(), Linear(50, 10))
    memory = measure_training_memory(model, (30,), 16, lambda ps: make_optimizer("adam", ps, 0.1))
    name, workspace = memory.workspace
    assert workspace == max(layer.workspace for layer in memory.layers.values())
    assert memory.layers[name].workspace == workspace
    parts = [memory.kept, memory.parameters, memory.gradients, memory.optimizer_state, workspace]
    assert memory.total == sum(parts)
    assert memory.optimizer_state == 2 * memory.parameters


def test_a_layer_workspace_holds_at_least_the_arrays_it_returns():
    model = Sequential(Linear(30, 50), Linear(50, 10))
    memory = measure_training_memory(model, (30,), 16)
    # forward returns y (16, 50); backward returns dL/dx (16, 30) and fills dL/dW (50, 30) in place
    assert memory.layers["0"].workspace >= 16 * 50 * 4
    assert memory.layers["1"].workspace >= 16 * 50 * 4  # its backward returns dL/dx (16, 50)


def test_the_measurement_leaves_the_model_as_it_was():
    rng = np.random.default_rng(3)
    model = Sequential(Linear(6, 8), BatchNorm1D(8), ReLU(), Dropout(0.5, seed=1), Linear(8, 2))
    x, grad_y = rng.standard_normal((5, 6)).astype(np.float32), rng.standard_normal((5, 2)).astype(np.float32)
    model.forward(x)  # a forward whose backward is still to come
    before = {name: array.copy() for name, array in model.state_dict().items()}
    extra_state = model.extra_state_dict()
    model.eval()

    measure_training_memory(model, (6,), 7)

    assert not model.training
    assert all(module._hooks is None for module in model.modules())  # the hooks that measured are gone
    assert model.extra_state_dict() == extra_state
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)
    model.train()
    model.backward(grad_y)  # the pending backward still has what its forward kept
    twin = Sequential(Linear(6, 8), BatchNorm1D(8), ReLU(), Dropout(0.5, seed=1), Linear(8, 2))
    twin.load_state_dict(before)
    twin.forward(x)
    twin.backward(grad_y)
    for (name, p), q in zip(model.named_parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=name)
