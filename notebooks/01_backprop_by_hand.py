# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Backprop by hand
#
# The scalar tier computes a network one Python float at a time, so every number of a
# training step can be printed and recomputed by hand. This notebook takes the 4-3-2 network
# of `nnscratch scalar --trace`, draws the computational graph of one sample with each node's
# value and gradient, redoes the backward pass by hand with the chain rule and compares it
# with the gradients the library stored, and finally checks every gradient by central
# differences: nudge a weight, see how the loss moves.

# %%
import math

from IPython.display import Image

from nnscratch.scalar import Network, cross_entropy
from nnscratch.scalar.graph import draw_graph, graph_nodes
from nnscratch.scalar.trace import TOY_INPUTS, TOY_TARGET

network = Network(input_size=4, hidden_sizes=[3], num_classes=2, activations="relu", seed=0)
sample, target = list(TOY_INPUTS), TOY_TARGET
print(network.architecture, "network;", len(network.parameters()), "parameters")
print("sample x =", sample, " target class", target)

# %% [markdown]
# ## The graph of one sample
#
# `draw_graph` sends the sample forward, then backward from the loss, and draws every value
# the forward pass computed as a box. Each box holds the value and its gradient,
# d loss / d value, which the backward pass filled in from right to left. Grey boxes are
# where the gradient stopped: a ReLU whose input was negative output 0 and passes no
# gradient back.

# %%
figure = draw_graph(network, sample, target)  # a matplotlib Figure
figure.savefig("graph.png", dpi=100, bbox_inches="tight")
Image("graph.png")

# %% [markdown]
# The same numbers as data: `graph_nodes` returns the nodes the picture is drawn from.

# %%
for node in graph_nodes(network, sample, target).nodes:
    print(f"{node.name:14} value {node.value:8.4f}   grad {node.grad + 0.0:8.4f}")

# %% [markdown]
# ## The backward pass by hand
#
# The chain rule says: the gradient of a node is the gradient arriving from the nodes that
# use it, times the local derivative. We walk it from the loss backwards, using only
# `math` and the weights, and compare each step with what `Neuron.backward` stored.
#
# **Step 1: the logits.** The loss is cross-entropy of softmax: L = -log p[y]. Its gradient
# with respect to the logits is p - onehot(y) (derived on the site's *Backprop from zero*
# page).

# %%
hidden_layer, output_layer = network.dense_layers
logits = [neuron.z for neuron in output_layer.neurons]
total = sum(math.exp(z) for z in logits)
p = [math.exp(z) / total for z in logits]
grad_logits = [p[j] - (1.0 if j == target else 0.0) for j in range(len(p))]
print("p              =", [round(v, 4) for v in p])
print("p - onehot(y)  =", [round(v, 4) for v in grad_logits])
print("library's dz   =", [round(neuron.dz, 4) for neuron in output_layer.neurons])

# %% [markdown]
# **Step 2: the output layer's weights.** z = sum_i w_i a_i + b is adds and multiplies. A
# multiply swaps its inputs: d z / d w_i = a_i. So dw_ji = dz_j * a_i, and the bias, inside
# an add, gets dz_j itself.

# %%
hidden_a = [neuron.a for neuron in hidden_layer.neurons]
for j, neuron in enumerate(output_layer.neurons):
    by_hand = [grad_logits[j] * a for a in hidden_a]
    print(f"logit neuron {j}: dw by hand {[round(g, 4) + 0.0 for g in by_hand]}", end="  ")
    print(f"stored {[round(g, 4) for g in neuron.grad_weights]}  db {neuron.grad_bias:.4f}")

# %% [markdown]
# **Step 3: back into the hidden layer.** Each hidden output a_i feeds both logits, so its
# gradient is a sum over the two uses, each the logit's gradient times the weight between
# them (a multiply again, the other way round). Then through the ReLU: its slope is 1 where
# z > 0 and 0 elsewhere (a max routes the gradient to the winner).

# %%
for i, neuron in enumerate(hidden_layer.neurons):
    grad_a = sum(grad_logits[j] * output_layer.neurons[j].weights[i] for j in range(len(grad_logits)))
    slope = 1.0 if neuron.z > 0 else 0.0
    dz = grad_a * slope
    print(f"hidden neuron {i}: grad_a {grad_a:7.4f}  relu'(z) {slope:.0f}  dz by hand {dz + 0.0:7.4f}", end="  ")
    print(f"stored dz {neuron.dz + 0.0:7.4f}")

# %% [markdown]
# **Step 4: the hidden layer's weights.** Same multiply pattern: dw_i = dz * x_i. Only
# hidden neuron 0 was on, so only its weights get a gradient from this sample.

# %%
first = hidden_layer.neurons[0]
by_hand = [first.dz * x for x in sample]
print("hidden neuron 0: dw by hand", [round(g, 4) for g in by_hand])
print("                 stored    ", [round(g, 4) for g in first.grad_weights])
assert all(abs(a - b) < 1e-15 for a, b in zip(by_hand, first.grad_weights, strict=True))

# %% [markdown]
# ## Checking every gradient by central differences
#
# A gradient can be checked without calculus: move one parameter by +h and by -h, run the
# forward pass each time, and divide the change of the loss by 2h. The error of this
# estimate shrinks like h², so with h = 1e-6 it should agree with backprop to about 1e-9.
# We do it for all 23 parameters (each has a `.value` to set and the `.grad` backward
# stored).


# %%
def loss() -> float:
    return cross_entropy(network.forward(sample), target)[0]


graph_nodes(network, sample, target)  # one forward and backward: fills every .grad afresh
h, worst = 1e-6, 0.0
for parameter in network.parameters():
    saved = parameter.value
    parameter.value = saved + h
    up = loss()
    parameter.value = saved - h
    down = loss()
    parameter.value = saved
    numerical = (up - down) / (2 * h)
    worst = max(worst, abs(numerical - parameter.grad))
print(f"largest difference between backprop and central differences over 23 parameters: {worst:.1e}")
assert worst < 1e-8

# %% [markdown]
# ## Your turn
#
# - Change the sample so that hidden neuron 1 turns on (a negative first input does it) and
#   draw the graph again: which boxes stop being grey?
# - Build the network with `activations="tanh"`: no box is grey any more. Why?
# - Print `network.trace(sample, target)`: the same numbers as the graph, as tables.
