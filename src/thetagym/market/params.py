"""Parameters of the synthetic market: one frozen, typed config object loaded from YAML.

The index follows a Bates-style model under the real-world measure P (Heston variance with
leverage correlation, log-normal jumps at a Poisson rate, and variance that jumps up with a down
jump of the index). Options, VIX and VIX futures are priced under the pricing measure Q, whose
instantaneous variance is ``variance_multiplier`` times the P variance (the variance risk
premium), mean-reverting under Q at its own speed to its own, higher, long-run level, with more
and larger negative jumps than under P.

Sources of the defaults (``docs/market.md#sources-of-the-default-parameters``): mean reversion and vol-of-variance between the
Bakshi-Cao-Chen (1997) and Gatheral fits, P jump rate about one every other year (Eraker 2004),
Q jumps as in the Duffie-Pan-Singleton / Gatheral fits (mean log-jump -0.10 to -0.12), and the
Q-over-P variance ratio and Q long-run level tuned so that VIX, its percentiles, VIX/VIX3M and the
variance risk premium (VIX minus next-month realised volatility) match the 1990-2023 figures.

Rate and dividend yield are constant in a simulation. ``rate`` (continuously compounded, per year)
discounts option prices and is what the book's cash earns (``rate / 252`` a trading day);
``dividend_yield`` lowers the ES forward, ``F = S exp((rate - dividend_yield) T)``, and the index's
price drift. The default yield, 1.5%, is the S&P 500's dividend yield of the 2020s, the decade the
default market starts in: 1.4-1.5% from 2020 on, after averages of 1.90% over 1991-2007 and 1.97%
over 2009-2019 (Investopedia, "A History of the S&P 500 Dividend Yield", from A. Damodaran's
yearly S&P 500 dividend yields, NYU Stern, pages.stern.nyu.edu/~adamodar, datafile spearn). The
default rate, 4%, is below the 3-month T-bill rate of 2023-2024 (FRED TB3MS monthly: 4.3-5.3%).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from thetagym.config import ConfigError, load, nested, setting
from thetagym.measures import TRADING_DAYS_PER_YEAR

# Ranges of the settings, wide around every published fit and every market since 1928; values
# outside them overflow the simulator or describe no equity index.
MIN_INDEX, MAX_INDEX = 100.0, 100_000.0
"""Index level, points: the S&P 500 has traded between about 100 (1982) and 7,000 (2025)."""
MIN_VIX, MAX_VIX = 5.0, 150.0
"""VIX, points: it has closed between 9.1 and 82.7 since 1990 (intraday high 89.5 in 2008)."""
MAX_VARIANCE = 4.0
"""Long-run variance, per year: 4.0 is 200% volatility, twice the peak of 1987 and 2008."""
MAX_MEAN_REVERSION = 50.0
"""Variance mean reversion, per year: 50 is a half-life of 3.5 trading days."""
MAX_VOL_OF_VARIANCE = 5.0
"""Vol-of-variance, per sqrt(year): published Heston and Bates fits lie between 0.3 and 1.5."""
MAX_JUMP_INTENSITY = 50.0
"""Jumps per year: 50 is about one a week; fits give 0.1 to 2 (under Q up to 5)."""


@dataclass(frozen=True)
class VarianceConfig:
    """Instantaneous variance of the index under P: ``dv = kappa (theta - v) dt + xi sqrt(v) dW``."""

    mean_reversion: float = setting(
        4.0, gt=0.0, le=MAX_MEAN_REVERSION, doc="kappa, per year (log VIX mean-reverts ~4.7/yr)"
    )
    long_variance: float = setting(
        0.027, gt=0.0, le=MAX_VARIANCE, doc="theta, per year (0.027 = 16.4% volatility)"
    )
    vol_of_variance: float = setting(0.42, ge=0.0, le=MAX_VOL_OF_VARIANCE, doc="xi, per sqrt(year)")
    correlation: float = setting(-0.85, ge=-1.0, le=1.0, doc="rho between index and variance shocks")


@dataclass(frozen=True)
class JumpConfig:
    """Index jumps under P: log-jump ``N(mean, std^2)`` at ``intensity`` per year."""

    intensity: float = setting(
        0.5, ge=0.0, le=MAX_JUMP_INTENSITY, doc="jumps per year under P (Eraker 2004: about 0.5)"
    )
    mean: float = setting(-0.02, ge=-1.0, le=1.0, doc="mean log-jump")
    std: float = setting(0.05, ge=0.0, le=1.0, doc="standard deviation of the log-jump")
    variance_loading: float = setting(
        6.0, ge=0.0, le=100.0, doc="variance added per squared down-jump (a -7% jump adds 6 * 0.0049 = 0.029)"
    )


@dataclass(frozen=True)
class PricingMeasureConfig:
    """The pricing measure Q: surface constants, the variance risk premium and the skew."""

    variance_multiplier: float = setting(
        1.2, gt=0.0, le=10.0, doc="Q instantaneous variance over P variance (the variance risk premium)"
    )
    mean_reversion: float = setting(1.5, gt=0.0, le=MAX_MEAN_REVERSION, doc="kappa under Q, per year")
    long_variance: float = setting(
        0.085, gt=0.0, le=MAX_VARIANCE, doc="long-run diffusive variance under Q, per year"
    )
    vol_of_variance: float = setting(
        0.45, ge=0.0, le=MAX_VOL_OF_VARIANCE, doc="xi under Q (VIX futures convexity, VIX options)"
    )
    jump_intensity: float = setting(0.35, ge=0.0, le=MAX_JUMP_INTENSITY, doc="jumps per year under Q")
    jump_mean: float = setting(-0.10, ge=-1.0, le=1.0, doc="mean log-jump under Q")
    jump_std: float = setting(0.06, ge=0.0, le=1.0, doc="standard deviation of the log-jump under Q")
    skew: float = setting(0.27, ge=0.0, le=2.0, doc="smile skew at VIX = skew_reference_vix")
    skew_stress: float = setting(0.004, ge=0.0, le=0.1, doc="skew added per VIX point above the reference")
    skew_reference_vix: float = setting(
        18.0, ge=MIN_VIX, le=MAX_VIX, doc="VIX (points) at which skew is `skew`"
    )
    skew_bounds: tuple[float, float] = setting((0.15, 0.45), doc="skew is clipped to these")
    curvature: float = setting(0.05, ge=0.0, le=1.0, doc="smile curvature in standardised moneyness")

    def __post_init__(self) -> None:
        low, high = self.skew_bounds
        if not 0.0 <= low <= high <= 2.0:
            raise ConfigError(f"skew_bounds must satisfy 0 <= low <= high <= 2, got {self.skew_bounds}")

    @property
    def jump_variance(self) -> float:
        """Variance per year that Q jumps add: intensity times mean squared log-jump."""
        return self.jump_intensity * (self.jump_mean**2 + self.jump_std**2)


@dataclass(frozen=True)
class VixConfig:
    """VIX futures ETPs."""

    vxx_initial_price: float = setting(25.0, gt=0.0, le=1e6, doc="VXX-like ETP price at bar 0, USD")
    inverse_initial_price: float = setting(100.0, gt=0.0, le=1e6, doc="inverse VIX ETP price at bar 0, USD")
    inverse_floor: float = setting(
        0.02, gt=0.0, lt=1.0, doc="the inverse ETP keeps at least this share of its value in a day"
    )


@dataclass(frozen=True)
class MarketConfig:
    """The full market: clock, starting point, carry, P dynamics, Q surface and VIX products."""

    bars_per_day: int = setting(4, ge=1, le=390, doc="bars per trading day")
    overnight_variance_share: float = setting(
        0.25, ge=0.0, lt=1.0, doc="share of a day's variance in its first bar (the overnight gap)"
    )
    start_date: str = setting("2024-01-02", doc="first trading day of simulated paths (ISO)")
    initial_index: float = setting(4800.0, ge=MIN_INDEX, le=MAX_INDEX, doc="index level at bar 0, points")
    initial_vix: float = setting(
        16.0, ge=MIN_VIX, le=MAX_VIX, doc="VIX at bar 0 (sets the initial variance), points"
    )
    initial_vix_dispersion: float = setting(
        0.3, ge=0.0, le=2.0, doc="log standard deviation of the initial VIX across paths (0: all equal)"
    )
    rate: float = setting(
        0.04, ge=-0.1, le=0.5, doc="risk-free rate, per year: discounts option prices, credited on cash"
    )
    dividend_yield: float = setting(
        0.015, ge=0.0, le=0.5, doc="index dividend yield, per year: lowers the ES forward (2020s S&P 500)"
    )
    equity_premium: float = setting(0.05, ge=-2.0, le=2.0, doc="expected excess return under P, per year")
    variance: VarianceConfig = nested(VarianceConfig, doc="P variance")
    jumps: JumpConfig = nested(JumpConfig, doc="P jumps")
    pricing: PricingMeasureConfig = nested(PricingMeasureConfig, doc="Q measure and surface")
    vix: VixConfig = nested(VixConfig, doc="VIX ETPs")

    def __post_init__(self) -> None:
        try:
            np.datetime64(self.start_date, "D")
        except ValueError:
            raise ConfigError(f"start_date {self.start_date!r} is not an ISO date like 2024-01-02") from None
        floor = vix_floor(self.pricing)
        if self.initial_vix <= floor:
            raise ConfigError(
                f"initial_vix {self.initial_vix} is at or below {floor:.2f}, the VIX of zero spot variance "
                "under these pricing-measure settings; raise initial_vix or lower pricing.long_variance"
            )

    @property
    def carry(self) -> float:
        """Cost of carry of the index (rate minus dividend yield), per year."""
        return self.rate - self.dividend_yield


VIX_HORIZON = 21.0 / TRADING_DAYS_PER_YEAR
"""The VIX's 30 calendar days as trading time, in years."""
VIX3M_HORIZON = 63.0 / TRADING_DAYS_PER_YEAR
"""VIX3M's 93 calendar days as trading time, in years."""


def average_weight(mean_reversion: float | np.ndarray, horizon: float) -> np.ndarray:
    """``(1 - exp(-kappa T)) / (kappa T)``: weight of the spot variance in the expected average."""
    # Imported here: thetagym.market.kernels reads VIX_HORIZON from this module.
    from thetagym.market.kernels import average_weight_ufunc

    return np.asarray(average_weight_ufunc(mean_reversion, horizon))


def vix_floor(pricing: PricingMeasureConfig) -> float:
    """VIX (points) when the spot variance is zero: the long-run and jump parts alone."""
    weight = float(average_weight(pricing.mean_reversion, VIX_HORIZON))
    return 100.0 * math.sqrt(pricing.long_variance * (1.0 - weight) + pricing.jump_variance)


def load_market_config(path: str) -> MarketConfig:
    """Load a :class:`MarketConfig` from YAML (unknown keys and bad values raise ConfigError)."""
    return load(MarketConfig, path)
