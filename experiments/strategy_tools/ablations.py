"""Write the ablations of the tuned dynamic_exposure into ablations/: one strategy tool switched off
(or the call wing switched on) at a time, every other threshold as tuned.

    python experiments/strategy_tools/ablations.py
"""

from __future__ import annotations

from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TUNED = HERE.parents[1] / "configs/rules/tuned/dynamic_exposure.yaml"

NEVER = {
    "no_counter_trades": {"counter_trigger": 0.5, "counter_revert": 0.1},  # a 50% move against the bias
    "no_assignment": {"assignment_delta": 1.0, "assignment_spread": 1.0},  # never deep and wide enough
    "no_balancer": {"balance_band": 100.0},  # an imbalance no book reaches
    "no_idle_roll": {"imbalance": 100.0},
}
"""Threshold changes that switch one tool off, in every VIX regime."""
LAYERS = {
    "with_call_wing": ["vix_etp"],  # the short strangle: calls against puts
    "put_wing_only": ["call_wing", "futures", "vix_etp", "hedge"],
}
"""Flat-layer lists that change which layers the rule works."""


def ablation(name: str) -> dict:
    config = yaml.safe_load(TUNED.read_text())
    config["name"] = f"dynamic_exposure_tuned_{name}"
    for thresholds in [config["thresholds"], *(regime["thresholds"] for regime in config["regimes"])]:
        thresholds.update(NEVER.get(name, {}))
    if name in LAYERS:
        config["flat_layers"] = LAYERS[name]
    return config


def main() -> None:
    folder = HERE / "ablations"
    folder.mkdir(exist_ok=True)
    for name in [*NEVER, *LAYERS]:
        text = f"# {TUNED.name} (tuned) with one change: {name}; written by ablations.py\n"
        (folder / f"{name}.yaml").write_text(text + yaml.safe_dump(ablation(name), sort_keys=False))


if __name__ == "__main__":
    main()
