"""Export what a policy does into a rule config a person can read, edit and run.

Modules, each with one job: ``record`` (roll a policy out and keep what it met and decided),
``replay`` (score recorded states through a rule agent in one batch), ``grids`` (the values each
threshold is searched over), ``fit`` (coordinate descent, VIX regimes), ``fidelity`` (decision
agreement per action part and value), ``write`` (the commented YAML file), ``value`` (evaluation
of policy, exported and original rules), ``run`` (:func:`export_thresholds`, tying them together).
"""

from thetagym.export.fit import FitResult, FitSettings
from thetagym.export.grids import FITTABLE_AGENTS, THRESHOLD_GRIDS
from thetagym.export.run import ExportResult, export_thresholds
from thetagym.export.value import ValueResult, evaluate_value, evaluation_folder
from thetagym.export.write import header, write_rule_config

__all__ = [
    "FITTABLE_AGENTS",
    "THRESHOLD_GRIDS",
    "ExportResult",
    "FitResult",
    "FitSettings",
    "ValueResult",
    "evaluate_value",
    "evaluation_folder",
    "export_thresholds",
    "header",
    "write_rule_config",
]
