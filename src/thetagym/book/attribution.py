"""P&L attribution of one step, per layer: theta, delta, gamma, vega, costs, assignment, residual
and interest.

Greeks are taken at the start of the step (after its trades) and applied to the change of each
leg's own underlying ``dF`` and implied volatility ``dsigma`` over the step:
``theta * dt``, ``delta * dF``, ``gamma * dF^2 / 2``, ``vega * dsigma``. ``interest`` is what the
book's cash earned in the step (credited at each day's close, the whole book's, booked on the first
layer). The residual is what the second-order expansion misses, so the columns add up to the P&L
exactly.
"""

from __future__ import annotations

ATTRIBUTION = ("theta", "delta", "gamma", "vega", "costs", "assignment", "residual", "interest")
THETA, DELTA, GAMMA, VEGA, COSTS, ASSIGNMENT, RESIDUAL, INTEREST = range(len(ATTRIBUTION))
