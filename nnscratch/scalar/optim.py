"""SGD and Adam over scalar parameters, one number at a time.

A parameter is any object with a float ``value`` (read and written) and a float ``grad``
(read): the ``Weight`` and ``Bias`` objects of ``Network.parameters()``. The update rules,
defaults and argument checks are those of ``torch.optim.SGD`` and ``torch.optim.Adam``, so the
same gradients give the same weights (to rounding) here, in the vectorized tier and in
PyTorch. Gradients are taken as they are: the 1/N of a mean loss is already in them.
Zeroing them between steps is ``network.zero_grad()``. ``state_dict()`` gives the learning
rate and the per-parameter buffers as plain lists, for checkpoints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Protocol


class ScalarParameter(Protocol):
    """One trainable number: ``value`` and the gradient ``grad`` of the loss with respect to it."""

    value: float

    @property
    def grad(self) -> float: ...


def _parameter_list(optimizer: str, parameters: Iterable[ScalarParameter]) -> list[ScalarParameter]:
    parameters = list(parameters)
    if not parameters:
        raise ValueError(f"{optimizer}: got an empty parameter list")
    return parameters


def _check_state(optimizer: str, state: dict, lists: dict[str, int | None]) -> None:
    """A ValueError unless ``state`` is this optimizer's and each named list has the given length
    (None: the list may also be None, as momentum buffers before the first step)."""
    if state.get("type") != optimizer:
        raise ValueError(f"{optimizer}.load_state_dict: the state is for {state.get('type')!r}, not {optimizer!r}")
    for name, length in lists.items():
        values = state[name]
        if values is None and name == "momentum_buffers":
            continue
        if not isinstance(values, list) or len(values) != length:
            found = f"{len(values)} values" if isinstance(values, list) else repr(values)
            raise ValueError(
                f"{optimizer}.load_state_dict: {name} must hold {length} values (one per parameter), got {found}"
            )


def _check_non_negative(optimizer: str, **values: float) -> None:
    for name, value in values.items():
        if not value >= 0:  # written so that NaN fails too
            raise ValueError(f"{optimizer}: {name} must be >= 0, got {value!r}")


class SGD:
    """Stochastic gradient descent with momentum, Nesterov momentum and weight decay, as torch.optim.SGD.

    For each parameter p with gradient grad, at every ``step()``::

        g = grad + weight_decay * p                     (L2 penalty weight_decay/2 * p^2)
        if momentum:
            b = g on the first step, else b = momentum * b + (1 - dampening) * g
            g = g + momentum * b  if nesterov  else  b
        p = p - lr * g

    Momentum: Polyak 1964; the Nesterov form is Sutskever et al. 2013's, as PyTorch has it.
    """

    def __init__(
        self,
        parameters: Iterable[ScalarParameter],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        self.parameters = _parameter_list("SGD", parameters)
        _check_non_negative("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "SGD: nesterov=True needs momentum > 0 and dampening = 0, "
                f"got momentum={momentum}, dampening={dampening}"
            )
        self.lr = lr
        self.momentum = momentum
        self.dampening = dampening
        self.weight_decay = weight_decay
        self.nesterov = nesterov
        self.momentum_buffers: list[float] | None = None  # b for each parameter, from the first step on

    def step(self) -> None:
        """Update every parameter from its current gradient."""
        first_step = self.momentum_buffers is None
        if self.momentum and first_step:
            self.momentum_buffers = [0.0] * len(self.parameters)
        for i, p in enumerate(self.parameters):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.value
            if self.momentum:
                if first_step:
                    b = g
                else:
                    b = self.momentum * self.momentum_buffers[i] + (1.0 - self.dampening) * g
                self.momentum_buffers[i] = b
                g = g + self.momentum * b if self.nesterov else b
            p.value = p.value - self.lr * g

    def state_dict(self) -> dict:
        """``{"type": "SGD", "lr", "momentum_buffers": [b per parameter] or None}``: plain numbers, live lists."""
        return {"type": "SGD", "lr": self.lr, "momentum_buffers": self.momentum_buffers}

    def load_state_dict(self, state: dict) -> None:
        """Restore a ``state_dict()`` (checked first: a ValueError changes nothing)."""
        _check_state("SGD", state, {"momentum_buffers": len(self.parameters)})
        buffers = state["momentum_buffers"]
        self.lr, self.momentum_buffers = float(state["lr"]), None if buffers is None else [float(b) for b in buffers]


class Adam:
    """Adam (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization"), as torch.optim.Adam.

    For each parameter p with gradient grad, at step t = 1, 2, ...::

        g = grad + weight_decay * p                     (L2 penalty, not AdamW's decoupled decay)
        m = beta1 * m + (1 - beta1) * g                 (running mean of g; m starts at 0)
        v = beta2 * v + (1 - beta2) * g^2               (running mean of g^2; v starts at 0)
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)   (undo the pull towards 0 of the start)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(
        self,
        parameters: Iterable[ScalarParameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        self.parameters = _parameter_list("Adam", parameters)
        _check_non_negative("Adam", lr=lr, eps=eps, weight_decay=weight_decay)
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Adam: betas[{index}] must be in [0, 1), got {beta!r}")
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.steps = 0
        self.m = [0.0] * len(self.parameters)
        self.v = [0.0] * len(self.parameters)

    def step(self) -> None:
        """Update every parameter from its current gradient."""
        self.steps += 1
        bias_correction1 = 1.0 - self.beta1**self.steps
        bias_correction2 = 1.0 - self.beta2**self.steps
        for i, p in enumerate(self.parameters):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.value
            self.m[i] = self.beta1 * self.m[i] + (1.0 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1.0 - self.beta2) * g * g
            m_hat = self.m[i] / bias_correction1
            v_hat = self.v[i] / bias_correction2
            p.value = p.value - self.lr * m_hat / (math.sqrt(v_hat) + self.eps)

    def state_dict(self) -> dict:
        """``{"type": "Adam", "lr", "steps", "m": [...], "v": [...]}``: plain numbers, live lists."""
        return {"type": "Adam", "lr": self.lr, "steps": self.steps, "m": self.m, "v": self.v}

    def load_state_dict(self, state: dict) -> None:
        """Restore a ``state_dict()`` (checked first: a ValueError changes nothing)."""
        count = len(self.parameters)
        _check_state("Adam", state, {"m": count, "v": count})
        lr, steps = float(state["lr"]), int(state["steps"])
        self.m, self.v = [float(m) for m in state["m"]], [float(v) for v in state["v"]]
        self.lr, self.steps = lr, steps
