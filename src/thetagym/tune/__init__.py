"""Tuning rule configs: an Optuna study over a rule config's thresholds, trials scored on training
seeds by the evaluation summary, the winner judged on held-out seeds against the untuned config.

Modules: ``config`` (the tune config), ``trial`` (one trial, wherever it runs: local processes or
Ray tasks of :mod:`thetagym.engines`), ``study`` (proposing, recording, choosing), ``outputs`` (tables, figures,
the commented tuned rule config) and ``runner`` (a whole run). Optuna and Ray come with the ``ray``
extra.
"""
