"""Advice on a real book: today's positions and market in, the agent's guard-checked actions and a
risk report out (``thetagym advise``).

A :class:`BrokerAdapter` hands over the positions and the market snapshot (:class:`CsvBroker`
reads CSV files); an :class:`Advisor` places them in a book of an env config, marks it with the
book's own code and asks the agent what to do, rule by rule through the guard. Modules:
``inputs`` (the records and the adapter interface), ``csv_adapter``, ``snapshot`` (the snapshot
as a market path), ``quotes`` (option quotes calibrate the surface), ``placement`` (positions
into leg slots), ``verdicts`` (the guard's rule behind every refusal), ``stress``, ``advisor``,
``render`` (terminal table, JSON, HTML) and ``benchmark``.
"""

from thetagym.advise.advisor import Advice, Advisor
from thetagym.advise.csv_adapter import CsvBroker
from thetagym.advise.inputs import BrokerAdapter, InputError, MarketSnapshot, OptionQuote, Position

__all__ = [
    "Advice",
    "Advisor",
    "BrokerAdapter",
    "CsvBroker",
    "InputError",
    "MarketSnapshot",
    "OptionQuote",
    "Position",
]
