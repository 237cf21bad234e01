"""The error function erf, which NumPy lacks and the exact GELU needs.

    erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt

We evaluate W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev
approximations for the error function", Math. Comp. 23, 1969, pp. 631-638), the method of
netlib's specfun CALERF and of many C libraries, accurate to float64 round-off. Three
ranges of |x| use three ratios of polynomials:

    |x| <= 0.46875      erf(x)  = x * A(x^2) / B(x^2)
    0.46875 < |x| <= 4  erfc(y) = exp(-y^2) * C(y) / D(y)
    |x| > 4             erfc(y) = exp(-y^2) / y * (1/sqrt(pi) - z * P(z) / Q(z)),  z = 1/y^2

and erf(x) = sign(x) * (1 - erfc(|x|)) outside the first range. Written with ``xp`` so it
runs on NumPy and CuPy, element-wise, in the input's dtype.
"""

from __future__ import annotations

from typing import Any

from .backend import get_array_module

# Cody's coefficients, lowest degree first: numerator and denominator of each range.
_SMALL_NUM = (3209.37758913846947, 377.485237685302021, 113.864154151050156, 3.1611237438705656, 0.185777706184603153)
_SMALL_DEN = (2844.23683343917062, 1282.61652607737228, 244.024637934444173, 23.6012909523441209, 1.0)
_MID_NUM = (
    1230.33935479799725,
    2051.07837782607147,
    1712.04761263407058,
    881.95222124176909,
    298.635138197400131,
    66.1191906371416295,
    8.88314979438837594,
    0.564188496988670089,
    2.15311535474403846e-8,
)
_MID_DEN = (
    1230.33935480374942,
    3439.36767414372164,
    4362.61909014324716,
    3290.79923573345963,
    1621.38957456669019,
    537.181101862009858,
    117.693950891312499,
    15.7449261107098347,
    1.0,
)
_LARGE_NUM = (
    6.58749161529837803e-4,
    0.0160837851487422766,
    0.125781726111229246,
    0.360344899949804439,
    0.305326634961232344,
    0.0163153871373020978,
)
_LARGE_DEN = (
    0.00233520497626869185,
    0.0605183413124413191,
    0.527905102951428412,
    1.87295284992346047,
    2.56852019228982242,
    1.0,
)
_ONE_OVER_SQRT_PI = 0.56418958354775628695
_SMALL_LIMIT = 0.46875
_SATURATED = 27.0


def _polynomial(coefficients: tuple[float, ...], t: Any) -> Any:
    """c0 + c1 t + c2 t^2 + ... by Horner's rule."""
    result = coefficients[-1] * t + coefficients[-2]
    for c in reversed(coefficients[:-2]):
        result = result * t + c
    return result


def erf(x: Any) -> Any:
    """The error function of every element of ``x``; same shape and dtype (float64 to round-off)."""
    xp = get_array_module(x)
    # erfc(|x|) is below the smallest float64 beyond 27: capping there keeps y * y finite (no
    # overflow for huge or infinite x) and changes no result
    y = xp.minimum(xp.abs(x), _SATURATED)
    # Each range is evaluated on arguments clipped into it, so no range ever sees a value that
    # makes it divide inf by inf; xp.where then picks the right range for each element.
    x_small = xp.clip(x, -_SMALL_LIMIT, _SMALL_LIMIT)
    small = x_small * _polynomial(_SMALL_NUM, x_small * x_small) / _polynomial(_SMALL_DEN, x_small * x_small)
    y_mid = xp.minimum(y, 4.0)
    ratio_mid = _polynomial(_MID_NUM, y_mid) / _polynomial(_MID_DEN, y_mid)
    y_large = xp.maximum(y, 4.0)
    z = 1.0 / (y_large * y_large)
    ratio_large = (_ONE_OVER_SQRT_PI - z * _polynomial(_LARGE_NUM, z) / _polynomial(_LARGE_DEN, z)) / y_large
    erfc_y = xp.exp(-y * y) * xp.where(y <= 4.0, ratio_mid, ratio_large)
    return xp.where(y <= _SMALL_LIMIT, small, xp.sign(x) * (1.0 - erfc_y))
