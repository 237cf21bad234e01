"""``draw_graph`` draws the values and gradients of the run the trace shows, node for node."""

import re

import pytest

from nnscratch.scalar import Network
from nnscratch.scalar.graph import draw_graph, graph_nodes
from nnscratch.scalar.trace import TOY_INPUTS, TOY_TARGET, run_sample, trace_toy_network


def toy_network(**options):
    return Network(len(TOY_INPUTS), options.pop("hidden_sizes", [3]), 2, seed=0, **options)


def nodes_by_name(network):
    return {node.name: node for node in graph_nodes(network, TOY_INPUTS, TOY_TARGET).nodes}


def test_graph_nodes_hold_the_neurons_values_and_gradients_of_the_trace_run():
    network = toy_network()
    record = run_sample(network, TOY_INPUTS, TOY_TARGET)
    hidden, output = network.dense_layers
    nodes = nodes_by_name(toy_network())
    for i, x in enumerate(TOY_INPUTS):
        assert (nodes[f"x[{i}]"].value, nodes[f"x[{i}]"].grad) == (x, record.grad_inputs[0][i])
    for j, neuron in enumerate(hidden.neurons):
        assert (nodes[f"z1[{j}]"].value, nodes[f"z1[{j}]"].grad) == (neuron.z, neuron.dz)
        assert (nodes[f"a1[{j}]"].value, nodes[f"a1[{j}]"].grad) == (neuron.a, record.grad_outputs[0][j])
    for j, neuron in enumerate(output.neurons):
        assert (nodes[f"z2[{j}] (logit)"].value, nodes[f"z2[{j}] (logit)"].grad) == (neuron.z, record.grad_logits[j])
    assert (nodes["loss"].value, nodes["loss"].grad) == (record.loss, 1.0)
    assert len(nodes) == 4 + 3 + 3 + 2 + 1


def test_the_graph_is_wired_dense_between_layers_and_one_to_one_through_activations():
    graph = graph_nodes(toy_network(), TOY_INPUTS, TOY_TARGET)
    names = [node.name for node in graph.nodes]
    edges = {(names[start], names[end]) for start, end in graph.edges}
    assert len(edges) == 4 * 3 + 3 + 3 * 2 + 2
    assert ("x[3]", "z1[2]") in edges and ("z1[1]", "a1[1]") in edges and ("z1[1]", "a1[2]") not in edges
    assert graph.headings[2] == "layer 1\na = relu(z)"


def test_the_figure_shows_every_number_the_trace_prints_for_the_nodes():
    figure = draw_graph(toy_network(), TOY_INPUTS, TOY_TARGET)
    drawn = "\n".join(text.get_text() for text in figure.axes[0].texts)
    trace = trace_toy_network()
    # z, a, dz of neuron 0 of layer 1, the logits, their gradient p - onehot, the loss
    for number in ["1.5834", "0.0622", "-0.3341", "-0.5149", "0.5451", "-0.5451", "0.7876"]:
        assert number in trace and f" {number}" in drawn, number
    assert "z1[1]\nvalue -0.7303\ngrad  0.0000" in drawn, "a ReLU that was off gets no gradient"


@pytest.mark.parametrize(
    ("network", "message"),
    [
        (Network(9, [3], 2, seed=0), "too wide to draw: at most 8 values per layer"),
        (Network(4, [3], 2, dropout=0.5, seed=0), "call network.eval()"),
    ],
)
def test_networks_it_cannot_draw_are_refused_with_the_reason(network, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        graph_nodes(network, [0.0] * network.input_size, 0)


def test_dropout_in_evaluation_mode_passes_through_and_is_not_drawn():
    network = Network(4, [3], 2, dropout=0.5, seed=0).eval()
    assert len(graph_nodes(network, TOY_INPUTS, TOY_TARGET).nodes) == 4 + 3 + 3 + 2 + 1
