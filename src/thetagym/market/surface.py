"""The implied-volatility surface under the pricing measure, derived from the variance state.

At-the-money implied variance for maturity ``tau`` is the expected average risk-neutral variance
over ``[0, tau]`` of a mean-reverting variance (Heston-style), plus the variance jumps add:

    w(tau) = long + (spot - long) * (1 - exp(-kappa tau)) / (kappa tau) + jump_variance

Away from the money the smile is a quadratic in standardised moneyness
``z = log(K / F) / (atm * sqrt(tau))``:

    sigma(z, tau) = atm(tau) * (1 - s(tau) z + curvature z^2),  clipped to [0.5, 3] * atm

with ``s(tau) = skew * (tau / 1 month) ** p`` where ``p = 0.5`` below one month and ``0.1`` above:
against log-strike the at-the-money slope ``-s(tau) / sqrt(tau)`` is flat below a month and falls
as a power law beyond it, and against standardised moneyness the smirk steepens with maturity
(Foresi & Wu 2005). A skew of 0.3 gives a one-month 25-delta risk reversal of about 6 vol points
at 15% at-the-money volatility.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thetagym.market.kernels import (
    MIN_TIME_TO_EXPIRY,
    ONE_MONTH,
    atm_variance_scalar,
    implied_volatility_scalar,
)
from thetagym.pricing.kernels import as_ufunc

__all__ = ["MIN_TIME_TO_EXPIRY", "ONE_MONTH", "SurfaceState", "atm_variance", "implied_volatility"]


@dataclass(frozen=True)
class SurfaceState:
    """The surface at one bar; every field is an array that broadcasts with the option arrays.

    ``spot_variance`` is the instantaneous risk-neutral diffusive variance, ``long_variance`` its
    long-run level and ``mean_reversion`` its speed (per year); ``jump_variance`` is the variance
    per year that jumps contribute (intensity times mean squared log-jump); ``skew`` and
    ``curvature`` shape the smile in standardised moneyness.
    """

    spot_variance: np.ndarray
    long_variance: np.ndarray
    mean_reversion: np.ndarray
    jump_variance: np.ndarray
    skew: np.ndarray
    curvature: np.ndarray


# The formulas are the scalar kernels of thetagym.market.kernels, applied element by element.
@as_ufunc([f"float64({', '.join(['float64'] * 5)})"])
def _atm_variance_ufunc(
    spot_variance: float, long_variance: float, mean_reversion: float, jump_variance: float, tau: float
) -> float:
    return atm_variance_scalar(spot_variance, long_variance, mean_reversion, jump_variance, tau)


@as_ufunc([f"float64({', '.join(['float64'] * 8)})"])
def _implied_volatility_ufunc(
    spot_variance: float,
    long_variance: float,
    mean_reversion: float,
    jump_variance: float,
    skew: float,
    curvature: float,
    log_moneyness: float,
    tau: float,
) -> float:
    return implied_volatility_scalar(
        spot_variance, long_variance, mean_reversion, jump_variance, skew, curvature, log_moneyness, tau
    )


def _variance_state(surface: SurfaceState) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return surface.spot_variance, surface.long_variance, surface.mean_reversion, surface.jump_variance


def atm_variance(surface: SurfaceState, time_to_expiry: np.ndarray) -> np.ndarray:
    """At-the-money implied variance (per year) for maturities ``time_to_expiry`` (years).

    >>> state = SurfaceState(*map(np.asarray, (0.04, 0.04, 2.0, 0.0, 0.3, 0.05)))
    >>> float(atm_variance(state, np.asarray(0.5)))
    0.04
    """
    return np.asarray(_atm_variance_ufunc(*_variance_state(surface), time_to_expiry))


def implied_volatility(
    surface: SurfaceState, log_moneyness: np.ndarray, time_to_expiry: np.ndarray
) -> np.ndarray:
    """Implied volatility (per year, decimal) at ``log(strike / forward)`` and maturity (years).

    >>> state = SurfaceState(*map(np.asarray, (0.0225, 0.0225, 2.0, 0.0, 0.3, 0.05)))
    >>> vols = implied_volatility(state, np.array([-0.05, 0.0, 0.05]), np.full(3, 1 / 12))
    >>> np.round(vols, 4).tolist()
    [0.212, 0.15, 0.108]
    """
    return np.asarray(
        _implied_volatility_ufunc(
            *_variance_state(surface), surface.skew, surface.curvature, log_moneyness, time_to_expiry
        )
    )
