"""The computational graph of one sample through a scalar network, every node with its value and gradient.

Reading left to right is the forward pass; each node also shows d loss / d node, which the
backward pass filled in from right to left. The nodes are the numbers the trace prints
(``trace.py``), taken from the same run:

    x[i]              the inputs                value: the sample        grad: the first layer's dx
    z1[j]             weighted sum plus bias    value: neuron.z          grad: neuron.dz
    a1[j]             the activation f(z)       value: neuron.a          grad: d loss / d a (grad_a)
    z2[j] (logit)     a linear layer's z = a    value: neuron.z          grad: neuron.dz = p - onehot
    loss              -log softmax(z)[target]   value: the loss          grad: 1 (d loss / d loss)

Weights and biases are leaves of the graph too; they are left out of the picture (a 4-3-2
network has 23 of them) and their gradients, dw = dz * x and db = dz, are in the trace's
tables. ``draw_graph`` needs matplotlib, imported when it is called; ``graph_nodes`` does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .layer import Dropout, Layer
from .trace import _number, run_sample

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .network import Network

MAX_DRAWN = 8  # nodes in one column: wider networks would be an unreadable tangle
NODE_FONT = {"fontsize": 9.5, "family": "monospace"}
NODE_FILL, STOPPED_FILL = "#dbe8fb", "#e8e8e8"  # light blue; grey where the gradient is exactly 0
BOX_PAD = 0.35  # around a node's text, in units of the font size
COLUMN_INCHES, ROW_INCHES = 1.9, 1.0
MONOSPACE_ADVANCE = 0.602  # width of one DejaVu Sans Mono character, in units of the font size


@dataclass(frozen=True)
class GraphNode:
    """One value of the computation: where it is drawn (column, row), its value and d loss / d value."""

    name: str
    column: int
    row: int
    value: float
    grad: float


@dataclass(frozen=True)
class Graph:
    """The nodes, the column headings, and the edges as (from node, to node) indices into ``nodes``."""

    nodes: list[GraphNode]
    headings: list[str]
    edges: list[tuple[int, int]]


def graph_nodes(network: Network, inputs: Sequence[float], target: int) -> Graph:
    """Run one sample (input_size,) of class ``target`` forward and backward; return its graph.

    Zeroes the network's gradients first (as the trace does). Layers wider than ``MAX_DRAWN``
    and dropout in training mode are refused with a ValueError: the picture is for toy networks.
    """
    _check_drawable(network)
    record = run_sample(network, inputs, target)
    nodes: list[GraphNode] = []
    headings = ["inputs\nx"]
    edges: list[tuple[int, int]] = []
    column = _add_column(nodes, edges, [], "x[{}]", inputs, record.grad_inputs[0], dense=True)
    dense_number = 0
    for index, layer in enumerate(network.layers):
        if not isinstance(layer, Layer):
            continue  # dropout in evaluation mode passes values and gradients through unchanged
        dense_number += 1
        is_logit = layer is network.dense_layers[-1]
        z_name = f"z{dense_number}[{{}}]" + (" (logit)" if is_logit else "")
        neurons = layer.neurons
        column = _add_column(nodes, edges, column, z_name, [n.z for n in neurons], [n.dz for n in neurons], True)
        headings.append(f"layer {dense_number}\nz = w . x + b")
        if layer.activation != "linear":
            a_name = f"a{dense_number}[{{}}]"
            column = _add_column(
                nodes, edges, column, a_name, [n.a for n in neurons], record.grad_outputs[index], False
            )
            headings.append(f"layer {dense_number}\na = {layer.activation}(z)")
    _add_column(nodes, edges, column, "loss", [record.loss], [1.0], dense=True)
    headings.append(f"loss\ncross-entropy, y = {target}")
    return Graph(nodes, headings, edges)


def draw_graph(network: Network, inputs: Sequence[float], target: int) -> Figure:
    """A matplotlib Figure of ``graph_nodes(network, inputs, target)``: boxes with value and grad, arrows forward.

    Nodes whose gradient is exactly 0 are grey: the backward pass stopped there (a ReLU that
    was off passes no gradient on). Save it with ``figure.savefig("graph.png")`` (in a
    notebook, ``IPython.display.Image("graph.png")`` then shows it). The figure belongs to no
    pyplot window, so nothing has to close it.
    """
    from matplotlib.figure import Figure  # only a learner who draws needs matplotlib

    graph = graph_nodes(network, inputs, target)
    num_columns = len(graph.headings)
    half_height = (max(node.row for node in graph.nodes)) / 2  # of the tallest column, in rows
    bottom, top = -half_height - 0.45, half_height + 1.35  # room for the headings and the title
    # one data unit is COLUMN_INCHES wide and ROW_INCHES high: the axes fill the figure exactly
    figure = Figure(figsize=(COLUMN_INCHES * num_columns, ROW_INCHES * (top - bottom)))
    axis = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axis.set_xlim(-0.5, num_columns - 0.5)
    axis.set_ylim(bottom, top)
    axis.axis("off")
    column_heights = [sum(node.column == c for node in graph.nodes) for c in range(num_columns)]
    where = [(node.column, (column_heights[node.column] - 1) / 2 - node.row) for node in graph.nodes]
    texts = [f"{node.name}\nvalue {_number(node.value)}\ngrad  {_number(node.grad)}" for node in graph.nodes]
    for start, end in graph.edges:  # from the right edge of one box to the left edge of the next
        (x0, y0), (x1, y1) = where[start], where[end]
        tail, head = (x0 + _half_width(texts[start]), y0), (x1 - _half_width(texts[end]), y1)
        axis.annotate("", xy=head, xytext=tail, arrowprops={"arrowstyle": "->", "color": "0.55", "linewidth": 0.7})
    for node, (x, y), text in zip(graph.nodes, where, texts, strict=True):
        fill = STOPPED_FILL if node.grad == 0.0 else NODE_FILL
        box = {"boxstyle": f"round,pad={BOX_PAD}", "facecolor": fill, "edgecolor": "0.3"}
        axis.text(x, y, text, ha="center", va="center", multialignment="left", bbox=box, zorder=3, **NODE_FONT)
    for column, heading in enumerate(graph.headings):
        axis.text(column, half_height + 0.5, heading, ha="center", va="bottom", fontsize=9.5, weight="bold")
    title = f"one sample through a {network.architecture} network: value (forward) and d loss / d node (backward)"
    axis.text((num_columns - 1) / 2, top - 0.15, title, ha="center", va="top", fontsize=10.5)
    return figure


def _half_width(text: str) -> float:
    """Half the width of a node's box, in data units (columns), from its longest line."""
    points = (max(len(line) for line in text.splitlines()) * MONOSPACE_ADVANCE + 2 * BOX_PAD) * NODE_FONT["fontsize"]
    return points / 2 / 72 / COLUMN_INCHES


def _add_column(
    nodes: list[GraphNode],
    edges: list[tuple[int, int]],
    previous: list[int],
    name: str,
    values: Sequence[float],
    grads: Sequence[float],
    dense: bool,
) -> list[int]:
    """Append one column of nodes, wired to every node of ``previous`` (dense) or one to one; return its indices."""
    column = nodes[-1].column + 1 if nodes else 0
    added = []
    for row, (value, grad) in enumerate(zip(values, grads, strict=True)):
        added.append(len(nodes))
        nodes.append(GraphNode(name.format(row), column, row, value, grad))
    pairs = [(p, a) for a in added for p in previous] if dense else list(zip(previous, added, strict=True))
    edges.extend(pairs)
    return added


def _check_drawable(network: Network) -> None:
    widths = [network.input_size] + [layer.num_outputs for layer in network.dense_layers]
    if max(widths) > MAX_DRAWN:
        raise ValueError(
            f"draw_graph: a {network.architecture} network is too wide to draw: "
            f"at most {MAX_DRAWN} values per layer (use a toy network such as 4-3-2)"
        )
    if network.training and any(isinstance(layer, Dropout) for layer in network.layers):
        raise ValueError("draw_graph: dropout draws a new mask each run; call network.eval() to draw the graph")
