"""thetagym: a Gymnasium environment for a multi-layer book of short S&P 500 options."""

__version__ = "0.1.0"
