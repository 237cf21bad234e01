import re

import pytest

from nnscratch.scalar import Network, cross_entropy
from nnscratch.scalar.trace import TOY_INPUTS, TOY_TARGET, trace_toy_network


def tables(text):
    """The trace's tables: runs of consecutive lines that contain a '|' column separator."""
    found, current = [], []
    for line in text.splitlines():
        if "|" in line:
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found + ([current] if current else [])


def cells(line):
    return line.split("|")[1:]


def number(value):
    return f"{value:.4f}".replace("-0.0000", "0.0000")


def toy_network(**options):
    return Network(len(TOY_INPUTS), options.pop("hidden_sizes", [3]), 2, seed=0, **options)


def test_toy_trace_shows_a_4_3_2_network_and_explains_its_sample():
    text = trace_toy_network()
    assert "4-3-2 network" in text
    assert f"x = {TOY_INPUTS} (4 made-up features), target class {TOY_TARGET} of 2" in text
    assert text == trace_toy_network(seed=0), "the same seed gives the same trace"


@pytest.mark.parametrize("options", [{}, {"dropout": 0.5}, {"hidden_sizes": [12, 3], "activations": "gelu"}])
def test_every_table_is_aligned(options):
    text = toy_network(**options).trace(list(TOY_INPUTS), TOY_TARGET)
    found = tables(text)
    assert len(found) >= 5
    for table in found:
        separators = {tuple(m.start() for m in re.finditer(r"\|", line)) for line in table}
        assert len(separators) == 1, "columns out of line in:\n" + "\n".join(table)
        # every number column is right-aligned to the same width
        widths = {len(line.rstrip()) for line in table if not line.lstrip().startswith(("input x", "dx"))}
        assert len(widths) == 1, "\n".join(table)


def test_trace_contains_every_forward_value_and_gradient():
    network = toy_network()
    text = network.trace(list(TOY_INPUTS), TOY_TARGET)
    hidden, output = network.dense_layers
    for layer in (hidden, output):
        for neuron in layer.neurons:
            row = next(
                line for line in text.splitlines() if all(number(w) in line for w in neuron.weights + [neuron.z])
            )
            assert number(neuron.a) in row and number(neuron.bias) in row
            grad_row = next(
                line
                for line in text.splitlines()
                if number(neuron.dz) in line and all(number(g) in line for g in neuron.grad_weights)
            )
            assert number(neuron.grad_bias) in grad_row
    loss, grad_logits = cross_entropy([n.z for n in output.neurons], TOY_TARGET)
    assert f"loss = -log p[{TOY_TARGET}] = {number(loss)}" in text
    assert all(number(g) in text for g in grad_logits)


def test_trace_gradients_are_those_of_one_sample_from_zero():
    network = toy_network()
    network.forward_backward([list(TOY_INPUTS)] * 3, [0, 1, 1])  # leftover gradients the trace must clear
    network.trace(list(TOY_INPUTS), TOY_TARGET)
    traced = [p.grad for p in network.parameters()]
    network.zero_grad()
    network.forward_backward([list(TOY_INPUTS)], [TOY_TARGET])
    assert traced == [p.grad for p in network.parameters()]


def test_the_input_gradient_row_matches_a_backward_to_the_inputs():
    network = toy_network()
    text = network.trace(list(TOY_INPUTS), TOY_TARGET)
    logits = network.forward(list(TOY_INPUTS))
    grad_inputs = network.backward(cross_entropy(logits, TOY_TARGET)[1], input_grad=True)
    last_dx_row = [line for line in text.splitlines() if line.lstrip().startswith("dx")][-1]
    assert cells(last_dx_row)[1].split() == [number(g) for g in grad_inputs]


def test_dropout_shows_its_mask_in_training_and_steps_aside_in_evaluation():
    network = toy_network(dropout=0.5)
    training = network.trace(list(TOY_INPUTS), TOY_TARGET)
    assert "dropout (p = 0.5): each value kept with probability 0.5 and scaled by 1/(1 - p) = 2.0000" in training
    assert "d loss / d in = d loss / d out * mask" in training
    evaluation = network.eval().trace(list(TOY_INPUTS), TOY_TARGET)
    assert "(evaluation mode)" in evaluation and "dropout (p = 0.5) is off in evaluation" in evaluation


def test_wide_inputs_are_shown_compactly():
    network = Network(20, [3], 2, seed=0)
    text = network.trace([0.1 * i for i in range(20)], 0)
    header = next(line for line in text.splitlines() if "w[0]" in line)
    assert header.split() == ["neuron", "|", "w[0]", "w[1]", "w[2]", "...", "w[19]", "|", "b", "|", "z", "|", "a"]
    assert "dw[19]" in text and "w[3]" not in text


def test_trace_refuses_a_sample_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"got 3 inputs: expected 4"):
        toy_network().trace([1.0, 2.0, 3.0], 0)
