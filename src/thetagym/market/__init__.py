"""Market layer: simulated and historical S&P 500, VIX and VIX ETP paths."""
