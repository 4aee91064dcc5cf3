"""Book layer: positions as arrays over ``(num_envs, max_legs)``, accounting, margin, the guard.

>>> from thetagym.book import Book, BookConfig, LayerAction
>>> int(LayerAction.OPEN)
5
"""

from thetagym.book.actions import BalancerAction, LayerAction
from thetagym.book.attribution import ATTRIBUTION
from thetagym.book.config import BookConfig, GuardConfig, LayerConfig, MarginConfig
from thetagym.book.engine import Book, StepResult
from thetagym.book.view import BookView

__all__ = [
    "ATTRIBUTION",
    "BalancerAction",
    "Book",
    "BookConfig",
    "BookView",
    "GuardConfig",
    "LayerAction",
    "LayerConfig",
    "MarginConfig",
    "StepResult",
]
