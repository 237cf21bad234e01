"""The state of a Python ``random.Random`` as plain lists, so that checkpoints can store it.

``random.Random.getstate()`` is ``(version, (625 ints), gauss_next)``: the Mersenne Twister's
624 words plus its position, and a cached Gaussian (None when there is none). A checkpoint
keeps JSON, which has lists but no tuples, so the state travels as
``[version, [625 ints], gauss_next]`` and becomes tuples again on the way back.
"""

from __future__ import annotations

import random
from typing import Any


def random_state(rng: random.Random) -> list[Any]:
    """``[version, [625 ints], gauss_next]``: where ``rng`` is in its stream."""
    version, internal, gauss_next = rng.getstate()
    return [version, list(internal), gauss_next]


def restored_random(state: Any) -> random.Random:
    """A new ``random.Random`` at the position ``random_state`` recorded; a ValueError if it is malformed."""
    rng = random.Random()
    try:
        version, internal, gauss_next = state
        rng.setstate((version, tuple(internal), gauss_next))
    except (TypeError, ValueError) as error:
        raise ValueError(f"not the state of a random.Random ({error})") from None
    return rng
