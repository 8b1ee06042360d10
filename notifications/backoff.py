"""Retry delays: exponential backoff with full jitter (AWS Architecture Blog, 2015).

Full jitter spreads the retries of many notices deferred at the same moment
(a relay that said ``451`` to all of them) over the whole window, instead of
bringing them back together.
"""

from __future__ import annotations

import random

_RNG = random.Random()
_MAX_EXPONENT = 1000  # 2.0 ** 1024 overflows; far past any cap anyway


def backoff_delay(
    attempt: int, *, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number ``attempt`` (``>= 1``).

    Uniform in ``[0, min(cap, base * 2 ** (attempt - 1))]``: up to 1 s, 2 s,
    4 s... with the defaults, never above 5 minutes. Pass a seeded ``rng``
    for reproducible delays.
    """
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, not {attempt}")
    if not (base >= 0 and cap >= 0):
        raise ValueError(f"base and cap must be >= 0, not {base} and {cap}")
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, _MAX_EXPONENT))
    return (rng if rng is not None else _RNG).uniform(0.0, ceiling)
