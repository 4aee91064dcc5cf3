"""The evaluation report (one self-contained HTML file) and the figures of a ``simulate`` trace."""

from thetagym.report.figures import agent_colours, attribution_table, plot_simulation
from thetagym.report.html import FIGURE_IDS, agent_label, figure_svg, render_report

__all__ = [
    "FIGURE_IDS",
    "agent_colours",
    "agent_label",
    "attribution_table",
    "figure_svg",
    "plot_simulation",
    "render_report",
]
