"""The exercises, in the order of the course: what each asks, where it lives, how it is checked.

Each exercise names library symbols (``targets``): the learner writes those, in a file of
``FILES`` where the class subclasses the library's and overrides only them. The library's own
code is the solution, so the docs show it from the source and ``exercises train`` can run a
model whose layers are the learner's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from textwrap import dedent
from types import ModuleType

from .check_conv import check_col2im, check_conv2d, check_im2col, check_maxpool
from .check_layers import check_activations, check_batchnorm, check_dropout, check_linear
from .check_learning import check_adam, check_cross_entropy, check_neuron, check_sgd

# the learner's files, in course order, each with the line that opens it
FILES = {
    "step1_neuron.py": "One neuron of the scalar tier, in Python floats.",
    "step2_loss.py": "Cross-entropy from logits: the gradient every classifier starts its backward with.",
    "step3_layers.py": "The layers of an MLP: Linear, the activations, Dropout, BatchNorm1D.",
    "step4_optim.py": "How a gradient becomes a step: SGD with momentum, and Adam.",
    "step5_conv.py": "Convolution and pooling: im2col, col2im, Conv2D's backward, MaxPool2D's backward.",
}


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``targets`` (``Class.method`` or ``function`` in ``module``) are what the learner writes.

    ``given``: methods copied whole into the learner's class, so that they call the learner's
    functions of the same file (Conv2D's forward calls the learner's ``im2col``).
    """

    number: int
    name: str
    title: str
    file: str
    module: str
    targets: tuple[str, ...]
    task: str
    shapes: str
    hint: str
    check: Callable[[ModuleType], None]
    given: tuple[str, ...] = ()


def _text(text: str) -> str:
    return dedent(text).strip()


EXERCISES = (
    Exercise(
        number=1,
        name="neuron",
        title="A scalar neuron's backward",
        file="step1_neuron.py",
        module="nnscratch.scalar.neuron",
        targets=("Neuron.backward",),
        task=_text("""
            Given grad_a = d loss / d a, compute dz = grad_a * f'(z) (the activation's slope is
            self.activation.slope(self.z)), store it in self.dz, ADD dz * x_i to each
            self.grad_weights[i] and dz to self.grad_bias (gradients accumulate over samples), and
            return dx_i = dz * w_i, or None when input_grad is False.
        """),
        shapes="inputs: num_inputs floats (forward saved them, self.inputs); grad_a: float; returns num_inputs floats",
        hint="z = sum_i w_i x_i + b, so dz/dw_i = x_i, dz/db = 1 and dz/dx_i = w_i.",
        check=check_neuron,
    ),
    Exercise(
        number=2,
        name="cross-entropy",
        title="Softmax and cross-entropy's gradient",
        file="step2_loss.py",
        module="nnscratch.common.cross_entropy",
        targets=("CrossEntropyLoss.backward",),
        task=_text("""
            Return d loss / d logits = softmax(logits) - t, where t is the target distribution:
            one-hot rows for class indices, the given rows for probability targets, and with label
            smoothing eps, t = (1 - eps) * t + eps / C. Divide by N for reduction "mean"; multiply
            by grad_loss when it is given.
        """),
        shapes="logits: (N, C); targets: (N,) class indices or (N, C) rows; returns (N, C)",
        hint="forward saved self._cache = (logits, class_index, target_probs): class_index is None for "
        "probability targets, target_probs is None for class indices. softmax is imported above.",
        check=check_cross_entropy,
    ),
    Exercise(
        number=3,
        name="linear",
        title="Linear.backward",
        file="step3_layers.py",
        module="nnscratch.vectorized.modules",
        targets=("Linear.backward",),
        task=_text("""
            y = x W^T + b. Add dL/dW and dL/db into self.weight.grad and self.bias.grad (the bias
            may be None), and return dL/dx (None when self.needs_input_grad is False).
        """),
        shapes="x: (N, in) from self._saved(); grad_out: (N, out); weight: (out, in); returns (N, in)",
        hint="Each gradient has the shape of what it differentiates: match the shapes to find the transposes.",
        check=check_linear,
    ),
    Exercise(
        number=4,
        name="activations",
        title="ReLU and GELU backward",
        file="step3_layers.py",
        module="nnscratch.vectorized.activations",
        targets=("ReLU.backward", "GELU.backward"),
        task=_text("""
            Return grad_out * f'(x). ReLU: f'(x) = 1 where x > 0, else 0. GELU: f(x) = x Phi(x), so
            f'(x) = Phi(x) + x phi(x) exactly; with approximate="tanh", differentiate
            0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) instead.
        """),
        shapes="grad_out: any shape, that of forward's x; returns the same shape",
        hint="ReLU's forward saved the mask x > 0; GELU's saved (x, Phi(x)) exactly or (x, t) for tanh, where "
        "t is the tanh. The constants _SQRT_2_OVER_PI, _TANH_CUBIC, _ONE_OVER_SQRT_2PI are imported above.",
        check=check_activations,
    ),
    Exercise(
        number=5,
        name="dropout",
        title="Dropout",
        file="step3_layers.py",
        module="nnscratch.vectorized.modules",
        targets=("Dropout.forward", "Dropout.backward"),
        task=_text("""
            Inverted dropout. forward: in training (and p > 0) zero each element with probability p
            and scale the rest by 1 / (1 - p), drawing a new mask each call; save the mask for
            backward. In eval mode, or with p = 0, return x. backward: the same mask times grad_out.
        """),
        shapes="x and grad_out: any shape; masks have the shape of x",
        hint="self._generator(xp).random(x.shape, dtype=x.dtype) >= self.p keeps each element with "
        "probability 1 - p; xp = get_array_module(x). Save None when there is no mask.",
        check=check_dropout,
    ),
    Exercise(
        number=6,
        name="batchnorm",
        title="BatchNorm1D backward",
        file="step3_layers.py",
        module="nnscratch.vectorized.batchnorm",
        targets=("BatchNorm1D.backward",),
        task=_text("""
            Add dL/dweight = sum(g * x_hat) and dL/dbias = sum(g) per channel, and return dL/dx. In
            training the mean and variance depend on every x of the channel: the three paths
            collapse to weight / sqrt(var + eps) * (g - mean(g) - x_hat * mean(g * x_hat)). In eval
            mode (running statistics) it is g * weight / sqrt(running_var + eps).
        """),
        shapes="grad_out: (N, C) or (N, C, L); weight, bias: (C,); returns the shape of grad_out",
        hint="forward saved (centered, inv_std, used_batch_stats): centered = x - mean in training, x itself in "
        "eval mode; x_hat = centered * inv_std. self._channel_sum(a) sums over every axis but 1; "
        "per_channel(v, shape) lines a (C,) vector up with the data.",
        check=check_batchnorm,
    ),
    Exercise(
        number=7,
        name="sgd",
        title="SGD with momentum and Nesterov",
        file="step4_optim.py",
        module="nnscratch.vectorized.optim",
        targets=("SGD._update",),
        task=_text("""
            Update one parameter in place, as torch.optim.SGD: g = grad + weight_decay * p; with
            momentum, buf = g at the first step and momentum * buf + (1 - dampening) * g after, kept
            in state["momentum_buffer"]; step along g + momentum * buf (Nesterov) or buf;
            p -= lr * step.
        """),
        shapes="parameter.data and parameter.grad: any shape; state: this parameter's dict, empty at first",
        hint="Never change parameter.grad itself (g = grad + ... makes a new array). Write into "
        "parameter.data in place (-=), so everything holding it sees the update.",
        check=check_sgd,
    ),
    Exercise(
        number=8,
        name="adam",
        title="Adam",
        file="step4_optim.py",
        module="nnscratch.vectorized.optim",
        targets=("Adam._update",),
        task=_text("""
            Update one parameter in place, as torch.optim.Adam (and AdamW when
            self.decoupled_weight_decay): m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2,
            p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps), with t = self.step_count.
            L2 weight decay adds weight_decay * p to g; decoupled decay multiplies p by
            (1 - lr * weight_decay) first instead.
        """),
        shapes="parameter.data, parameter.grad: any shape; state holds exp_avg (m) and exp_avg_sq (v), "
        "created on the first step",
        hint="Start m and v at zeros the shape of the parameter (xp.zeros_like). The bias corrections undo "
        "the zero start: without them the first steps are far too small.",
        check=check_adam,
    ),
    Exercise(
        number=9,
        name="im2col",
        title="im2col",
        file="step5_conv.py",
        module="nnscratch.convolutional.modules",
        targets=("im2col",),
        task=_text("""
            Lay every kh x kw window of the padded batch out as a column:
            cols[(c, i, j), (n, h, w)] = padded[n, c, sh*h + dh*i, sw*w + dw*j], rows ordered c,
            then i, then j, columns n, then h, then w. The dilation (dh, dw) spreads the kernel's
            taps apart; it is (1, 1) unless given, and the checks use that.
        """),
        shapes="padded: (N, C, Hp, Wp) -> cols: (C*kh*kw, N*H'*W'), H' = (Hp - dh*(kh - 1) - 1) // sh + 1",
        hint="sliding_windows(padded, kernel_size, stride, dilation) is every window as a view "
        "(N, C, H', W', kh, kw): transpose its axes into the order of the rows and columns, then reshape.",
        check=check_im2col,
    ),
    Exercise(
        number=10,
        name="col2im",
        title="col2im",
        file="step5_conv.py",
        module="nnscratch.convolutional.modules",
        targets=("col2im",),
        task=_text("""
            The adjoint of im2col: add each column back onto the pixels its window came from,
            out[n, c, sh*h + dh*i, sw*w + dw*j] += cols[(c, i, j), (n, h, w)]. Windows overlap when
            the stride is smaller than the kernel: those pixels collect several terms.
        """),
        shapes="cols: (C*kh*kw, N*H'*W') -> (N, C, Hp, Wp) = padded_shape",
        hint="Loop over the kh*kw kernel positions (kernel_positions), not over pixels: "
        "out[kernel_offset(i, j, stride, (H', W'), dilation)] is every pixel under position (i, j), "
        "(N, C, H', W'); kernel_extent(kernel_size, dilation) is the rows and columns one window spans.",
        check=check_col2im,
    ),
    Exercise(
        number=11,
        name="conv2d",
        title="Conv2D.backward (the reference route)",
        file="step5_conv.py",
        module="nnscratch.convolutional.modules",
        targets=("Conv2D.col2im_backward",),
        task=_text("""
            The backward of im2col_forward (given above it): with dY laid out like the product,
            (F, N*H'*W'), add dL/dW = dY @ cols^T into self.weight.grad, then return dL/dx =
            col2im(W^T @ dY) with the padding cropped off (None when self.needs_input_grad is False).
            Conv2D.backward adds the bias gradient itself before calling this. With groups, each
            product is one per group: by_group(matrix, self.groups) splits the rows into groups.
        """),
        shapes="saved = (cols (C*kh*kw, N*H'*W'), padded_shape); grad_out: (N, F, H', W'); returns (N, C, H, W)",
        hint="grad_out.transpose(1, 0, 2, 3) puts F first; unpad_images(a, self.padding) crops. Your col2im "
        "above is the one called (while this exercise is checked, the library's stands in for it).",
        check=check_conv2d,
        given=("Conv2D.im2col_forward",),
    ),
    Exercise(
        number=12,
        name="maxpool",
        title="MaxPool2D.backward",
        file="step5_conv.py",
        module="nnscratch.convolutional.pooling",
        targets=("MaxPool2D.backward",),
        task=_text("""
            Send each output's gradient to the one input that was its window's maximum (the first on
            a tie); inputs that won several overlapping windows collect each share. Return dL/dx with
            the padding cropped off.
        """),
        shapes="grad_out: (N, C, H', W'); returns (N, C, H, W)",
        hint='On the reference route forward saved ("windows", (argmax, padded_shape, out_size)): argmax holds, '
        "per output, the index into kernel_positions(self.kernel_size) of the winner. Loop over those "
        "positions with kernel_offset, as col2im does.",
        check=check_maxpool,
    ),
)


def select(names: Sequence[str]) -> list[Exercise]:
    """The exercises named (by name or number), in course order; all of them when ``names`` is empty.

    An unknown name is a ValueError listing the known ones.
    """
    if not names:
        return list(EXERCISES)
    known = {exercise.name: exercise for exercise in EXERCISES} | {str(e.number): e for e in EXERCISES}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"unknown exercise(s) {', '.join(unknown)}; choose from: {', '.join(e.name for e in EXERCISES)} (or 1-12)"
        )
    chosen = {known[name].number for name in names}
    return [exercise for exercise in EXERCISES if exercise.number in chosen]
