"""Optimizers: how a gradient becomes a change of the weights (SGD, Adam, AdamW, RMSprop, Adagrad).

Every optimizer here follows torch.optim's update rules and defaults exactly, so the same
parameters and gradients give the same numbers. With g = dL/dp (the 1/N of the batch mean
is already in it: see ``CrossEntropyLoss``) and weight decay wd:

SGD (with momentum mu, dampening tau; Sutskever et al. 2013 for the Nesterov form)::

    g   = g + wd * p                                    (L2 penalty as a gradient term)
    buf = g  at the first step,  mu * buf + (1 - tau) * g  after
    g   = g + mu * buf  (Nesterov)   or   buf           (classic momentum)
    p   = p - lr * g

Adam (Kingma & Ba 2015), step t = 1, 2, ...::

    g = g + wd * p                                      (Adam's L2 form)
    m = beta1 * m + (1 - beta1) * g                     (first moment: a running mean)
    v = beta2 * v + (1 - beta2) * g^2                   (second moment: a running mean square)
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

The divisions by 1 - beta^t undo the bias of m and v towards their zero start.

AdamW (Loshchilov & Hutter 2019) decays the weights directly, ``p = p * (1 - lr * wd)``,
then takes the Adam step without the L2 term, so the decay is not rescaled by sqrt(v).

RMSprop (Tieleman & Hinton 2012, lecture 6.5; torch.optim's form) divides each gradient by a
running root mean square of its recent values, so every weight takes steps of a similar size::

    g   = g + wd * p
    v   = alpha * v + (1 - alpha) * g^2                 (square_avg: a running mean square)
    d   = sqrt(v) + eps,   or   sqrt(v - gbar^2) + eps  (centered: gbar = alpha * gbar + (1 - alpha) * g,
                                                         so d estimates the standard deviation)
    buf = mu * buf + g / d;  p = p - lr * buf           (momentum mu > 0; buf starts at 0)
    p   = p - lr * g / d                                (mu = 0)

It is Adam without the first moment (beta1 = 0) and without the bias correction: alpha is
Adam's beta2, and in the first steps v is still close to its zero start, so the steps are
larger than later. Like torch, eps is added outside the square root.

Adagrad (Duchi et al. 2011) divides by the root of the *sum* of every squared gradient so far,
so the steps shrink for good along directions that have moved a lot::

    lr_t = lr / (1 + (t - 1) * lr_decay)
    g    = g + wd * p
    s    = s + g^2                                      (sum, starting at initial_accumulator_value)
    p    = p - lr_t * g / (sqrt(s) + eps)

RMSprop replaces Adagrad's sum by a running mean, so that old gradients are forgotten and the
steps do not shrink towards zero.

Lookahead (Zhang et al. 2019) wraps any of them: every k steps the slow weights move a
fraction alpha towards the fast ones, and the fast ones restart from there.

Usage, as in PyTorch::

    optimizer = Adam(model.parameters(), lr=1e-3)
    optimizer.zero_grad(); model.backward(loss.backward()); optimizer.step()

Parameters are updated in place (``p.data -= ...``): the arrays keep their identity, so
anything holding them (a state_dict, the other tier's view) sees the new values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..common.backend import get_array_module, to_device
from ..common.checks import check_int, check_number
from .module import Module, Parameter


def _parameter_list(owner: str, params: Iterable[Parameter]) -> list[Parameter]:
    if isinstance(params, Module):
        raise TypeError(f"{owner}: pass model.parameters(), not the model itself")
    params = list(params)
    if not params:
        raise ValueError(f"{owner}: got an empty parameter list")
    for index, parameter in enumerate(params):
        if not isinstance(parameter, Parameter):
            raise TypeError(f"{owner}: item {index} of params is a {type(parameter).__name__}, not a Parameter")
    return params


def _l2_gradient(parameter: Parameter, weight_decay: float) -> Any:
    """g + wd * p: weight decay as the gradient of an L2 penalty (wd/2) |p|^2. A new array when
    wd > 0, so that ``.grad`` itself stays dL/dp; ``.grad`` as it is when wd = 0."""
    if not weight_decay:
        return parameter.grad
    return parameter.grad + weight_decay * parameter.data


class Optimizer:
    """The shared machinery: a parameter list, the learning rate, per-parameter state.

    Subclasses write ``_update(parameter, state)``: the rule for one parameter, where
    ``state`` is that parameter's dict of arrays (momentum buffer, moments), created on
    first use, and ``self.step_count`` is the number of the step being taken (1, 2, ...).
    ``state_keys`` names the arrays that dict holds once created.
    """

    state_keys: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        name = type(self).__name__
        self.params = _parameter_list(name, params)
        self.lr = check_number(name, "lr", lr, 0.0)
        self.step_count = 0
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (backward adds into it)."""
        for parameter in self.params:
            parameter.zero_grad()

    def step(self) -> None:
        """Update every parameter once from its ``.grad``."""
        self.step_count += 1
        for parameter, state in zip(self.params, self.state, strict=True):
            self._update(parameter, state)

    def _update(self, parameter: Parameter, state: dict[str, Any]) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        """What changes while training: ``{"type", "lr", "step", "state": [{name: array}, ...]}``.

        Only arrays, numbers and strings, so it can be saved without pickle. The arrays are
        the live ones (no copy). Hyperparameters such as momentum come from the constructor.
        """
        return {"type": type(self).__name__, "lr": self.lr, "step": self.step_count, "state": self.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict()``: checks everything first, then copies the arrays onto the active backend."""
        name = type(self).__name__
        if state.get("type") != name:
            raise ValueError(f"{name}.load_state_dict: the state is for {state.get('type')!r}, not {name!r}")
        per_parameter = state["state"]
        if len(per_parameter) != len(self.params):
            raise ValueError(
                f"{name}.load_state_dict: the state has {len(per_parameter)} parameters, this optimizer "
                f"has {len(self.params)}"
            )
        for index, (parameter, saved) in enumerate(zip(self.params, per_parameter, strict=True)):
            if saved and set(saved) != set(self.state_keys):
                raise ValueError(
                    f"{name}.load_state_dict: state[{index}] holds {sorted(saved)}, expected {list(self.state_keys)}"
                )
            for key, array in saved.items():
                if tuple(array.shape) != parameter.shape:
                    raise ValueError(
                        f"{name}.load_state_dict: state[{index}][{key!r}] has shape {tuple(array.shape)}, "
                        f"its parameter has shape {parameter.shape}"
                    )
        self.lr = float(state["lr"])
        self.step_count = int(state["step"])
        self.state = [
            {key: to_device(array, parameter.dtype).copy() for key, array in saved.items()}
            for parameter, saved in zip(self.params, per_parameter, strict=True)
        ]


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay; see the module docstring."""

    state_keys = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = check_number("SGD", "momentum", momentum, 0.0)
        self.dampening = check_number("SGD", "dampening", dampening, 0.0, 1.0)
        self.weight_decay = check_number("SGD", "weight_decay", weight_decay, 0.0)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum}, "
                f"dampening={dampening}"
            )
        self.nesterov = bool(nesterov)

    def _update(self, parameter: Parameter, state: dict[str, Any]) -> None:
        grad = _l2_gradient(parameter, self.weight_decay)
        if self.momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                # the buffer starts as the first gradient (not as 0), as in torch.optim.SGD
                buffer = state["momentum_buffer"] = grad.copy()
            else:
                buffer *= self.momentum
                buffer += grad if self.dampening == 0 else (1.0 - self.dampening) * grad
            grad = grad + self.momentum * buffer if self.nesterov else buffer
        parameter.data -= self.lr * grad


class Adam(Optimizer):
    """Adam, and AdamW with ``decoupled_weight_decay=True``; see the module docstring."""

    state_keys = ("exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
    ) -> None:
        super().__init__(params, lr)
        name = type(self).__name__
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            check_number(name, "betas[0]", betas[0], 0.0, 1.0, high_open=True),
            check_number(name, "betas[1]", betas[1], 0.0, 1.0, high_open=True),
        )
        self.eps = check_number(name, "eps", eps, 0.0)
        self.weight_decay = check_number(name, "weight_decay", weight_decay, 0.0)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

    def _update(self, parameter: Parameter, state: dict[str, Any]) -> None:
        beta1, beta2 = self.betas
        grad, weights = parameter.grad, parameter.data
        if not self.decoupled_weight_decay:
            grad = _l2_gradient(parameter, self.weight_decay)
        elif self.weight_decay:
            weights *= 1.0 - self.lr * self.weight_decay
        xp = get_array_module(weights)
        if not state:
            state["exp_avg"], state["exp_avg_sq"] = xp.zeros_like(weights), xp.zeros_like(weights)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        # Every line is one pass over the parameter; all but the first write into ``scratch``
        # or the state, so a step allocates one array instead of one per operation.
        scratch = xp.subtract(grad, exp_avg)
        scratch *= 1.0 - beta1
        exp_avg += scratch  # m + (1 - beta1) * (g - m) = beta1 * m + (1 - beta1) * g
        exp_avg_sq *= beta2
        xp.multiply(grad, grad, out=scratch)
        scratch *= 1.0 - beta2
        exp_avg_sq += scratch  # beta2 * v + (1 - beta2) * g^2
        # lr/c1 * m / (sqrt(v)/sqrt(c2) + eps) with c = 1 - beta^t, rearranged as the Adam paper's end of
        # section 2 suggests: the bias corrections become two scalars, saving a pass over the array
        sqrt_c2 = math.sqrt(1.0 - beta2**self.step_count)
        step_size = self.lr * sqrt_c2 / (1.0 - beta1**self.step_count)
        xp.sqrt(exp_avg_sq, out=scratch)
        scratch += self.eps * sqrt_c2
        xp.divide(exp_avg, scratch, out=scratch)
        scratch *= step_size
        weights -= scratch


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019); torch's default weight_decay=1e-2."""

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, decoupled_weight_decay=True)


class RMSprop(Optimizer):
    """RMSprop with optional momentum, centering and L2 weight decay; see the module docstring.

    Defaults as torch.optim.RMSprop: lr=1e-2, alpha=0.99, eps=1e-8. The state holds
    ``square_avg``, plus ``momentum_buffer`` when momentum > 0 and ``grad_avg`` when centered.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.alpha = check_number("RMSprop", "alpha", alpha, 0.0, 1.0)
        self.eps = check_number("RMSprop", "eps", eps, 0.0)
        self.weight_decay = check_number("RMSprop", "weight_decay", weight_decay, 0.0)
        self.momentum = check_number("RMSprop", "momentum", momentum, 0.0)
        self.centered = bool(centered)
        # the arrays kept depend on the options, as in torch.optim.RMSprop
        self.state_keys = ("square_avg",) + ("momentum_buffer",) * (self.momentum > 0) + ("grad_avg",) * self.centered

    def _update(self, parameter: Parameter, state: dict[str, Any]) -> None:
        grad, weights = _l2_gradient(parameter, self.weight_decay), parameter.data
        xp = get_array_module(weights)
        if not state:
            state.update({key: xp.zeros_like(weights) for key in self.state_keys})
        square_avg = state["square_avg"]
        square_avg *= self.alpha
        square_avg += (1.0 - self.alpha) * grad * grad
        if self.centered:
            grad_avg = state["grad_avg"]
            grad_avg *= self.alpha
            grad_avg += (1.0 - self.alpha) * grad
            # E[g^2] - E[g]^2: the variance of the recent gradients rather than their mean square
            denominator = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            denominator = xp.sqrt(square_avg)
        denominator += self.eps
        if self.momentum:
            buffer = state["momentum_buffer"]
            buffer *= self.momentum
            buffer += grad / denominator
            weights -= self.lr * buffer
        else:
            weights -= self.lr * grad / denominator


class Adagrad(Optimizer):
    """Adagrad with learning-rate decay and L2 weight decay; see the module docstring.

    Defaults as torch.optim.Adagrad: lr=1e-2, lr_decay=0, initial_accumulator_value=0, eps=1e-10.
    The state holds ``sum``, the running sum of squared gradients.
    """

    state_keys = ("sum",)

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(params, lr)
        self.lr_decay = check_number("Adagrad", "lr_decay", lr_decay, 0.0)
        self.weight_decay = check_number("Adagrad", "weight_decay", weight_decay, 0.0)
        self.initial_accumulator_value = check_number(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value, 0.0
        )
        self.eps = check_number("Adagrad", "eps", eps, 0.0)

    def _update(self, parameter: Parameter, state: dict[str, Any]) -> None:
        grad, weights = _l2_gradient(parameter, self.weight_decay), parameter.data
        xp = get_array_module(weights)
        if not state:
            state["sum"] = xp.full_like(weights, self.initial_accumulator_value)
        squares = state["sum"]
        squares += grad * grad
        step_size = self.lr / (1.0 + (self.step_count - 1) * self.lr_decay)
        weights -= step_size * grad / (xp.sqrt(squares) + self.eps)


class Lookahead:
    """Lookahead (Zhang et al. 2019, "Lookahead Optimizer: k steps forward, 1 step back").

    The wrapped ``base`` optimizer moves the (fast) weights as usual; the slow weights phi
    start as the initial weights, and after every k base steps::

        phi = phi + alpha * (theta - phi)      theta = phi

    ``lr`` reads and sets the base optimizer's learning rate, so schedules work through it.
    """

    def __init__(self, base: Optimizer, k: int = 5, alpha: float = 0.5) -> None:
        if not isinstance(base, Optimizer):
            raise TypeError(f"Lookahead: base must be an optimizer such as SGD or Adam, got {type(base).__name__}")
        self.base = base
        self.k = check_int("Lookahead", "k", k)
        self.alpha = check_number("Lookahead", "alpha", alpha, 0.0, 1.0)
        self.step_count = 0
        self.slow = [parameter.data.copy() for parameter in base.params]

    @property
    def params(self) -> list[Parameter]:
        return self.base.params

    @property
    def lr(self) -> float:
        return self.base.lr

    @lr.setter
    def lr(self, value: float) -> None:
        self.base.lr = value

    def zero_grad(self) -> None:
        self.base.zero_grad()

    def step(self) -> None:
        self.base.step()
        self.step_count += 1
        if self.step_count % self.k == 0:
            for parameter, slow in zip(self.base.params, self.slow, strict=True):
                slow += self.alpha * (parameter.data - slow)
                parameter.data[...] = slow

    def state_dict(self) -> dict[str, Any]:
        """``{"type": "Lookahead", "step", "slow": [arrays], "base": base.state_dict()}``."""
        return {"type": "Lookahead", "step": self.step_count, "slow": self.slow, "base": self.base.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("type") != "Lookahead":
            raise ValueError(f"Lookahead.load_state_dict: the state is for {state.get('type')!r}, not 'Lookahead'")
        shapes = [tuple(slow.shape) for slow in state["slow"]]
        if shapes != [parameter.shape for parameter in self.params]:
            raise ValueError(
                f"Lookahead.load_state_dict: slow weights of shapes {shapes} do not match the parameters "
                f"{[parameter.shape for parameter in self.params]}"
            )
        self.base.load_state_dict(state["base"])
        self.step_count = int(state["step"])
        self.slow = [
            to_device(slow, parameter.dtype).copy() for slow, parameter in zip(state["slow"], self.params, strict=True)
        ]


def clip_grad_norm(params: Iterable[Parameter], max_norm: float) -> Any:
    """Rescale the gradients so that their joint L2 norm is at most ``max_norm``; return the norm before.

    norm = sqrt(sum over all parameters of sum(g^2)); when norm > max_norm every gradient is
    multiplied by max_norm / (norm + 1e-6), as ``torch.nn.utils.clip_grad_norm_`` does. The
    scale is min(that, 1) applied unconditionally, so no value is read back to the host.
    Returns the norm as a 0-d array on the active backend.
    """
    params = _parameter_list("clip_grad_norm", params)
    max_norm = check_number("clip_grad_norm", "max_norm", max_norm, 0.0)
    if max_norm == 0 or math.isinf(max_norm):
        raise ValueError(f"clip_grad_norm: max_norm must be a finite number > 0, got {max_norm}")
    xp = get_array_module(params[0].grad)
    # vdot flattens and sums g * g in one pass, without a temporary array
    total_norm = xp.sqrt(sum(xp.vdot(parameter.grad, parameter.grad) for parameter in params))
    scale = xp.minimum(max_norm / (total_norm + 1e-6), 1.0)
    for parameter in params:
        parameter.grad *= scale
    return total_norm


OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


def make_optimizer(
    name: str,
    params: Iterable[Parameter],
    lr: float,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    lookahead: bool = False,
) -> Optimizer | Lookahead:
    """An optimizer by name (one of ``OPTIMIZERS``), optionally wrapped in Lookahead(k=5, alpha=0.5).

    momentum and nesterov apply to SGD only (asking for Nesterov elsewhere is an error); the
    others take torch's defaults for everything but lr and weight_decay.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
    if nesterov and name != "sgd":
        raise ValueError(f"nesterov momentum applies to SGD only, not to {name!r}")
    if name == "sgd":
        optimizer = SGD(params, lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    else:
        optimizer = {"adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}[name](
            params, lr, weight_decay=weight_decay
        )
    return Lookahead(optimizer) if lookahead else optimizer
