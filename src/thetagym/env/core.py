"""The batched core shared by the single env and the vector env: ``num_envs`` books on
``num_envs`` market paths, stepped together with no Python loop over envs.

Each env ``i`` owns a path (row ``i`` of a :class:`~thetagym.market.path.MarketPath` buffer), a bar
counter, a ``np.random.Generator`` that draws the seed of each new path, its rows of the
:class:`~thetagym.book.Book` and of the :class:`~thetagym.measures.EpisodeTracker`. An episode
starts at bar 0 of a fresh path; each step trades at the current bar and marks the book at the
next one. It terminates on a margin call or ruin (equity at or below ``ruin_fraction`` of capital)
and truncates after ``horizon`` bars.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from gymnasium.utils import seeding

from thetagym.book.actions import out_of_range
from thetagym.book.engine import flat_masks, step_result
from thetagym.env import kernels
from thetagym.env.kernels import INFO_FIELDS
from thetagym.env.observation import ObservationBuilder, market_features
from thetagym.env.reward import RewardConfig
from thetagym.market.path import MarketPath
from thetagym.measures import EpisodeTracker

if TYPE_CHECKING:
    from thetagym.book import Book, BookView, StepResult

PathSource = Callable[[np.ndarray], MarketPath]
"""Makes one market path per seed (an int array); all paths have the same length."""

MAX_SEED = 2**31 - 1
PATHS_AHEAD = 16
"""Paths simulated together per batch of resets: an env of a batch smaller than this simulates
the paths of its next ``PATHS_AHEAD // num_envs`` episodes at once (a one-path simulation costs
about as much as 8)."""
_NO_ROWS = np.zeros(0, dtype=np.int64)
_NO_ROWS.setflags(write=False)
_NOT_STARTED = "call reset() before step() or action_masks()"


@dataclass
class StepOutput:
    """Result of :meth:`BatchedCore.step`, arrays over envs.

    The info is kept as the compiled step wrote it: ``info_rows`` (:data:`INFO_FIELDS` but the last)
    and ``blocked`` (the last); :attr:`info` and :meth:`env_info` present it. With autoreset, ``observation``
    and the info of the finished envs (``done_rows``) are those of their new episodes;
    ``final_observation``, ``final_info`` and ``summary`` (rows in ``done_rows`` order) describe the
    episodes that ended.
    """

    observation: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    info_rows: np.ndarray
    blocked: np.ndarray
    done_rows: np.ndarray
    final_observation: np.ndarray
    final_info: dict[str, np.ndarray]
    summary: dict[str, np.ndarray]

    @property
    def info(self) -> dict[str, np.ndarray]:
        """The info of every env, :data:`INFO_FIELDS` to arrays over envs."""
        return info_dict(self.info_rows, self.blocked)

    def env_info(self, row: int) -> dict[str, Any]:
        """The info of env ``row``, :data:`INFO_FIELDS` to Python scalars."""
        return dict(zip(INFO_FIELDS, [*self.info_rows[:, row].tolist(), int(self.blocked[row])], strict=True))


def info_dict(rows: np.ndarray, blocked: np.ndarray) -> dict[str, np.ndarray]:
    """The info, :data:`INFO_FIELDS` to arrays over envs: the float ``rows`` the compiled step
    wrote, then the ``blocked`` counts."""
    return dict(zip(INFO_FIELDS, [*rows, blocked], strict=True))


class BatchedCore:
    """``num_envs`` envs over one book and one path buffer.

    Arguments: ``book`` (a :class:`~thetagym.book.Book` of ``num_envs`` rows), ``paths`` (a
    :data:`PathSource`), ``horizon`` (bars per episode; paths must be longer), ``reward_config``,
    ``ruin_fraction`` (of capital), ``clip`` (observation bound), ``autoreset`` (reset finished envs
    inside :meth:`step`, as the vector env does).

    A step is one compiled call (:func:`thetagym.env.kernels.run`) that writes the book's step
    result and aggregates into buffers the core keeps. For callers that record more than the info
    (evaluation traces, P&L attribution), two read-only attributes describe the latest step, made
    from copies of those buffers when first read; both are None before the first step:

    - ``last_result``: the book's :class:`~thetagym.book.StepResult` of that step (attribution,
      executed actions, rolls, ...), rows over envs.
    - ``view_before_reset``: the :class:`~thetagym.book.BookView` the step observed, right after the
      book stepped and before any autoreset, so finished envs still show their episode's last bar.
      Its leg arrays (``strike``, ``expiry_bar``, ``quantity``, ``entry_price``) are read-only views
      of the live book, copied only on a step that autoresets, and change with the book's next step
      or reset.
    """

    def __init__(
        self,
        book: Book,
        paths: PathSource,
        horizon: int,
        reward_config: RewardConfig,
        ruin_fraction: float,
        clip: float,
        autoreset: bool,
    ) -> None:
        self.book = book
        self.num_envs = book.num_envs
        self.paths = paths
        self.horizon = horizon
        self.reward_config = reward_config
        self.capital = float(book.config.capital)
        self.ruin_equity = ruin_fraction * self.capital
        self.autoreset = autoreset
        self.action_nvec = np.asarray(book.action_nvec)
        layer_caps = [layer.max_contracts for layer in book.config.layers]
        self.observations = ObservationBuilder(layer_caps, self.capital, clip)
        self._no_observations = np.zeros((0, self.observations.size), dtype=np.float32)
        self._no_observations.setflags(write=False)
        # Writable empty stand-ins for the outputs an operation does not write: every call of the
        # compiled run passes the same types (one compilation).
        self._no_rows = np.zeros(0, dtype=np.int64)
        self._no_info = np.zeros((kernels.N_INFO_ROWS, 0))
        self._no_observation_buffer = np.zeros((0, self.observations.size), dtype=np.float32)
        self.generators = [np.random.default_rng() for _ in range(self.num_envs)]
        self._paths_ahead: list[deque[tuple[MarketPath, np.ndarray, int]]] = [
            deque() for _ in range(self.num_envs)
        ]
        self._paths_ahead_generator: list[np.random.Generator | None] = [None] * self.num_envs
        self.bars = np.zeros(self.num_envs, dtype=np.int64)
        self.rows = np.arange(self.num_envs)
        self.market: MarketPath | None = None
        self._market_table = np.zeros((0, 0, 0), dtype=np.float32)
        self.tracker = EpisodeTracker(self.num_envs, self.capital, bars_per_day=1)
        # What the info of a reset reads of the latest step: margin use, gross contracts, blocked.
        self._margin_use = np.zeros(self.num_envs)
        self._gross = np.zeros(self.num_envs)
        self._blocked = np.zeros(self.num_envs, dtype=np.int64)
        self._latest = kernels.Latest(self._margin_use, self._gross, self._blocked)
        self._observing: tuple[Any, ...] = ()
        self._legal = book.new_legal()
        self._no_actions = np.zeros((self.num_envs, len(self.action_nvec)), dtype=np.int64)
        self._limits = np.array([float(horizon), 1.0])
        self._needs_reset = np.ones(self.num_envs, dtype=bool)
        self._any_needs_reset = True
        parameters = kernels.step_parameters(reward_config, self.capital, self.ruin_equity)
        tracker = self.tracker
        self._episode = kernels.Episode(tracker.values, tracker.count_values, tracker.margin_call, parameters)
        self._step_outputs = book.new_step_outputs()
        self._aggregates = book.new_aggregates()
        # A reset aggregates into buffers of its own: the step's stay for view_before_reset.
        self._reset_aggregates = book.new_aggregates()
        step_aggregates, reset_aggregates = tuple(self._aggregates), tuple(self._reset_aggregates)
        self._plain_outputs = tuple(self._step_outputs)
        self._plain_episode, self._plain_latest = tuple(self._episode), tuple(self._latest)
        self._plain_aggregates = {
            kernels.RESET: reset_aggregates,
            kernels.OBSERVE: reset_aggregates,
            kernels.MASKS: step_aggregates,
            kernels.STEP: step_aggregates,
        }
        self._stepped = False
        self._detached_legs: dict[str, np.ndarray] | None = None
        self._last_result: StepResult | None = None
        self._view_before_reset: BookView | None = None

    @property
    def last_result(self) -> StepResult | None:
        """The book's result of the latest :meth:`step` (None before the first)."""
        if self._last_result is None and self._stepped:
            self._last_result = step_result(
                type(self._step_outputs)(*(np.array(a) for a in self._step_outputs))
            )
        return self._last_result

    @property
    def view_before_reset(self) -> BookView | None:
        """The book's view right after the latest :meth:`step`, before any autoreset."""
        if self._view_before_reset is None and self._stepped:
            aggregates = type(self._aggregates)(*(np.array(array) for array in self._aggregates))
            self._view_before_reset = self.book.view_of(aggregates, self._detached_legs)
        return self._view_before_reset

    @property
    def observation_size(self) -> int:
        return self.observations.size

    def seed(self, rows: Sequence[int] | np.ndarray, seeds: Sequence[int | None]) -> None:
        """Give env ``rows[k]`` a generator seeded with ``seeds[k]`` (None: fresh entropy)."""
        for row, seed in zip(rows, seeds, strict=True):
            self.generators[row] = seeding.np_random(seed)[0]

    def reset(self, rows: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Start new episodes in ``rows`` (indices) on fresh paths, one seed drawn from each env's
        generator; return the observations and info of all envs."""
        observation, rows_of_info, blocked = self._reset(rows)
        return observation, info_dict(rows_of_info, blocked)

    def _reset(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`reset`, the info as its float rows and ``blocked`` (see :func:`info_dict`)."""
        rows = np.asarray(rows, dtype=np.int64)
        fresh, features = self._fresh_paths(rows)
        if self.market is None:
            if len(rows) != self.num_envs:
                raise RuntimeError("reset all envs once before resetting some of them")
            if fresh.n_bars <= self.horizon:
                raise ValueError(
                    f"paths of {fresh.n_bars} bars are too short for an episode of {self.horizon} bars"
                )
            order = np.argsort(rows)
            self.market = fresh.take(order)
            self._market_table = features[order]
            self.tracker.bars_per_day = self.market.bars_per_day
        else:
            self.market.assign(rows, fresh)
            self._market_table[rows] = features
        self.bars[rows] = 0
        self.tracker.bars_per_day = self.market.bars_per_day
        self._limits[1] = float(self.market.bars_per_day)
        self._observing = (self.market.index, self._market_table, *self.observations.scales)
        self.book.refresh_market(rows, self.market)
        self._run(kernels.RESET, rows=rows)  # the book's reset, then every env's aggregates
        view = self.book.view_of(type(self._aggregates)(*(np.array(a) for a in self._reset_aggregates)))
        self._gross[rows] = np.asarray(view.contracts).sum(axis=1)[rows]
        self._margin_use[rows] = self._margin(view.margin_requirement, view.equity)[rows]
        self._blocked[rows] = 0
        self.tracker.reset(rows, np.asarray(view.equity)[rows], self._gross[rows])
        self._needs_reset[rows] = False
        self._any_needs_reset = bool(self._needs_reset.any())
        info_rows = np.empty((kernels.N_INFO_ROWS, self.num_envs))
        observation = np.empty((self.num_envs, self.observations.size), dtype=np.float32)
        self._run(kernels.OBSERVE, info=info_rows, observation=observation)
        return observation, info_rows, self._blocked.copy()

    def _run(
        self,
        operation: int,
        rows: np.ndarray | None = None,
        actions: np.ndarray | None = None,
        info: np.ndarray | None = None,
        observation: np.ndarray | None = None,
        ends: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> int:
        """One call of the env's compiled :func:`~thetagym.env.kernels.run` (on numba's threads
        for a large batch); returns what it returns."""
        market = self.market
        assert market is not None
        if ends is None:
            rewards = np.empty(0)
            terminated = truncated = np.empty(0, dtype=bool)
        else:
            rewards, terminated, truncated = ends
        results = (
            rewards,
            terminated,
            truncated,
            self._no_info if info is None else info,
            self._no_observation_buffer if observation is None else observation,
        )
        envs = (
            self._no_rows if rows is None else np.array(rows, dtype=np.int64),
            self.bars,
            self._no_actions if actions is None else actions,
            self._legal,
            self._limits,
        )
        call = kernels.Call(
            self.book.packed(market),
            self._plain_outputs,
            self._plain_aggregates[operation],
            self._plain_episode,
            self._observing,
            self._plain_latest,
            results,
            envs,
        )
        chunks = self.book.parallel_chunks()
        if chunks > 1:
            return int(kernels.run_parallel(operation, tuple(call), chunks))
        return int(kernels.run(operation, tuple(call), 0, self.num_envs))

    def _fresh_paths(self, rows: np.ndarray) -> tuple[MarketPath, np.ndarray]:
        """New paths for ``rows`` and their :func:`market_features`, one path seed drawn from each
        env's generator, simulated in one call. With fewer than :data:`PATHS_AHEAD` envs, an env
        that runs out after its first episode of a seed draws the seeds of its next ``PATHS_AHEAD
        // num_envs`` episodes at once (a path depends only on its seed, so episodes are the same as
        when drawn one by one, unless something else draws from the env's generator in between)."""
        ahead = max(1, PATHS_AHEAD // self.num_envs)
        if ahead == 1:
            fresh = self.paths(
                np.array([self.generators[row].integers(MAX_SEED) for row in rows], dtype=np.int64)
            )
            return fresh, market_features(fresh)
        refills: list[tuple[int, int]] = []  # (row, paths), in the order of the drawn seeds
        seeds: list[int] = []
        for row in rows:
            generator, queue = self.generators[row], self._paths_ahead[row]
            count = ahead
            if self._paths_ahead_generator[row] is not generator:
                # Reseeded: drop the old draws; the first episode of a seed gets its path alone
                # (evaluations reseed every episode).
                queue.clear()
                self._paths_ahead_generator[row] = generator
                count = 1
            if not queue:
                seeds.extend(int(generator.integers(MAX_SEED)) for _ in range(count))
                refills.append((int(row), count))
        if refills:  # every env that ran out, in one simulation
            batch = self.paths(np.array(seeds, dtype=np.int64))
            features = market_features(batch)
            first = 0
            for row, count in refills:
                self._paths_ahead[row].extend((batch, features, k) for k in range(first, first + count))
                first += count
        picked = [self._paths_ahead[row].popleft() for row in rows]
        batch, features, k = picked[0]
        fresh = batch.take(np.full(len(rows), k))
        table = np.repeat(features[k : k + 1], len(rows), axis=0)
        for position, (batch, features, k) in enumerate(picked[1:], start=1):
            fresh.assign(np.array([position]), batch.take(np.array([k])))
            table[position] = features[k]
        return fresh, table

    def action_masks(self) -> np.ndarray:
        """Legal choices, ``(num_envs, sum(action_nvec))`` bool; HOLD is always legal."""
        self._check_started()
        self._run(kernels.MASKS)
        return flat_masks(self._legal)

    def step(self, actions: np.ndarray) -> StepOutput:
        """Trade ``actions`` (``(num_envs, len(action_nvec))`` ints) at the current bars, mark at the
        next ones, and (with autoreset) start new episodes in the envs that finished."""
        market = self.market
        if market is None:
            raise RuntimeError(_NOT_STARTED)
        if self._any_needs_reset and not self.autoreset:
            raise RuntimeError("the episode has ended: call reset() before step()")
        n = self.num_envs
        # An owned int64 copy: the compiled step has one signature.
        actions = np.array(actions, dtype=np.int64).reshape(n, len(self.action_nvec))
        values = np.empty((1 + kernels.N_INFO_ROWS, n))  # the rewards, then the info
        ends = np.empty((2, n), dtype=bool)  # terminated, truncated
        observation = np.empty((n, self.observations.size), dtype=np.float32)
        rewards, info_rows, terminated, truncated = values[0], values[1:], ends[0], ends[1]
        ended = self._run(
            kernels.STEP,
            actions=actions,
            info=info_rows,
            observation=observation,
            ends=(rewards, terminated, truncated),
        )
        if ended < 0:
            raise out_of_range(actions, self.action_nvec)
        self._stepped = True
        self._last_result = self._view_before_reset = self._detached_legs = None
        blocked = self._blocked.copy()
        done_rows, final_observation = _NO_ROWS, self._no_observations
        final_info: dict[str, np.ndarray] = {}
        summary: dict[str, np.ndarray] = {}
        if ended:
            done = terminated | truncated
            done_rows = np.flatnonzero(done)
            summary = self.tracker.summary(done_rows)
            if self.autoreset:
                self._detached_legs = self.book.detached_legs()
                final_observation = observation[done_rows]
                final_info = {key: value[done_rows] for key, value in info_dict(info_rows, blocked).items()}
                observation, info_rows, blocked = self._reset(done_rows)
            else:
                self._needs_reset |= done
                self._any_needs_reset = True
        return StepOutput(
            observation,
            rewards,
            terminated,
            truncated,
            info_rows,
            blocked,
            done_rows,
            final_observation,
            final_info,
            summary,
        )

    @staticmethod
    def _margin(requirement: Any, equity: Any) -> np.ndarray:
        return np.asarray(requirement, dtype=float) / np.maximum(np.asarray(equity, dtype=float), 1.0)

    def _check_started(self) -> None:
        if self.market is None:
            raise RuntimeError(_NOT_STARTED)
