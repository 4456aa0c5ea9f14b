"""Scenarios: an initial training set plus a timestamped stream of labelled events.

Every experiment of the course runs on a :class:`Scenario`. The first training is always
offline, on ``scenario.initial``; iterating the scenario then yields the events that reach
the deployed model, in time order, as ``(x: dict, y)`` pairs. All generators are offline
and seeded: the same seed gives the same data, and nothing is downloaded.

Defined in the Batch learning chapter (``book/batch.ipynb``).
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
import random
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._checks import plain, positive_int

__all__ = ["Scenario", "house_prices", "drifting_classification", "movie_catalogue"]


@dataclass
class Scenario:
    """An initial (offline) training set and a stream of labelled events in time order.

    Iterating over a scenario yields its stream's ``(x, y)`` events (``x`` a dict).

    Parameters
    ----------
    name
        What the scenario stands for.
    task
        ``"classification"`` or ``"regression"``.
    X_initial, y_initial
        The initial training set.
    X, y
        The stream's features and labels, in time order.
    times
        Each event's time (non-decreasing).
    drift_at
        Stream positions where the concept changes.
    description
        One sentence for a reader.
    info
        Anything else the scenario knows (units, poisoned range...).

    Examples
    --------
    >>> sc = house_prices(seed=0, n_initial=50, n_stream=20)
    >>> X0, y0 = sc.initial
    >>> X0.shape, len(sc)
    ((50, 4), 20)
    >>> x, y = next(iter(sc))
    >>> sorted(x)
    ['age_years', 'area_m2', 'distance_km', 'rooms']
    """

    name: str
    task: str
    X_initial: pd.DataFrame
    y_initial: np.ndarray
    X: pd.DataFrame
    y: np.ndarray
    times: np.ndarray
    drift_at: tuple[int, ...] = ()
    description: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if len(self.X) != len(self.y) or len(self.X) != len(self.times):
            raise ValueError("X, y and times must have one entry per event")
        if len(self.X_initial) != len(self.y_initial):
            raise ValueError("X_initial and y_initial must have the same length")
        if len(self.X) == 0:
            raise ValueError("the stream is empty: a scenario needs at least one event")
        if list(self.X.columns) != list(self.X_initial.columns):
            raise ValueError("X and X_initial must have the same feature columns")
        if np.any(np.diff(self.times) < 0):
            raise ValueError("times must be non-decreasing: the stream is not in time order")

    @property
    def initial(self) -> tuple[pd.DataFrame, np.ndarray]:
        """The data of the first, offline training, as ``(X, y)``."""
        return self.X_initial, self.y_initial

    @property
    def features(self) -> list[str]:
        """The names of the features, in column order."""
        return list(self.X.columns)

    def __len__(self) -> int:
        return len(self.y)

    def __iter__(self):
        columns = self.features
        y = self.y
        if type(y) is np.ndarray and y.dtype.kind in "biuf":
            targets = y.tolist()  # plain Python numbers, as plain() gives them one by one
        else:
            targets = map(plain, y)
        for row, target in zip(zip(*map(_values, self.X.items())), targets):
            yield dict(zip(columns, row)), target

    def head(self, n: int) -> Scenario:
        """The same scenario with only its first ``n`` stream events."""
        n = positive_int(n, "n")
        drift = tuple(d for d in self.drift_at if d < n)
        return Scenario(
            self.name,
            self.task,
            self.X_initial,
            self.y_initial,
            self.X.iloc[:n],
            self.y[:n],
            self.times[:n],
            drift,
            self.description,
            dict(self.info),
        )


def _values(column: tuple) -> list:
    """A column's values as ``itertuples`` gives them: a numpy column's as Python scalars, in one call."""
    _, series = column
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biufcO":
        return series.to_numpy().tolist()  # the scalars ndarray.item gives, as itertuples uses it
    return list(series)


def _split(name, task, X, y, times, n_initial, **kwargs) -> Scenario:
    return Scenario(
        name,
        task,
        X.iloc[:n_initial].reset_index(drop=True),
        y[:n_initial],
        X.iloc[n_initial:].reset_index(drop=True),
        y[n_initial:],
        times[n_initial:],
        **kwargs,
    )


def house_prices(
    seed: int = 0,
    n_initial: int = 1000,
    n_stream: int = 4000,
    inflation_per_year: float = 0.03,
    events_per_day: float = 5.0,
) -> Scenario:
    """Synthetic house sales: a regression whose prices change slowly (a stable problem).

    Price in thousands of euros from area, rooms, age and distance to the centre, with
    ``inflation_per_year`` of slow drift. ``times`` are days since deployment.

    Parameters
    ----------
    seed
        Seed of every random draw.
    n_initial, n_stream
        Sales in the initial training set and in the stream.
    inflation_per_year
        The slow drift of prices.
    events_per_day
        Sales per day (sets the times).

    Examples
    --------
    >>> sc = house_prices(seed=1, n_initial=10, n_stream=5)
    >>> round(float(sc.y_initial.mean()), 1) > 0
    True
    """
    n_initial, n_stream = positive_int(n_initial, "n_initial"), positive_int(n_stream, "n_stream")
    rng = np.random.default_rng(seed)
    n = n_initial + n_stream
    area = rng.lognormal(np.log(85), 0.35, n).clip(25, 400)
    rooms = np.maximum(1, np.round(area / 28 + rng.normal(0, 0.7, n)))
    age = rng.uniform(0, 80, n)
    distance = rng.gamma(2.0, 4.0, n).clip(0.3, 40)
    days = np.sort(rng.uniform(-n_initial, n_stream, n)) / events_per_day
    level = (1 + inflation_per_year) ** (days / 365)
    price = 3.2 * area * (1 - 0.003 * age) * np.exp(-0.025 * distance) + 8 * rooms
    price = price * level * rng.lognormal(0, 0.08, n)
    X = pd.DataFrame(
        {
            "area_m2": area.round(1),
            "rooms": rooms,
            "age_years": age.round(1),
            "distance_km": distance.round(2),
        }
    )
    return _split(
        "house prices",
        "regression",
        X,
        price.round(1),
        days,
        n_initial,
        description="Synthetic house sales, price in k EUR, slow inflation.",
        info={
            "inflation_per_year": inflation_per_year,
            "unit": "k EUR",
            "initial_days": days[:n_initial],
        },
    )


def drifting_classification(
    seed: int = 0,
    n_initial: int = 1000,
    n_stream: int = 4000,
    drift_at: int = 2000,
    width: int = 50,
    noise: float = 0.05,
) -> Scenario:
    """A binary classification stream whose concept changes at stream position ``drift_at``.

    Built from river's rotating-hyperplane generator: before the drift the label is one random
    hyperplane, after it another (over ``width`` events). A model trained before the drift goes
    stale after it.

    Parameters
    ----------
    seed
        Seed of the generator.
    n_initial, n_stream
        Events in the initial training set and in the stream.
    drift_at
        Stream position of the concept change.
    width
        Events over which the concept changes.
    noise
        Share of labels flipped at random.

    Examples
    --------
    >>> sc = drifting_classification(seed=0, n_initial=20, n_stream=30, drift_at=10)
    >>> sc.drift_at, sc.task
    ((10,), 'classification')
    """

    n_initial, n_stream = positive_int(n_initial, "n_initial"), positive_int(n_stream, "n_stream")
    drift_at, width = positive_int(drift_at, "drift_at"), positive_int(width, "width")
    if drift_at >= n_stream:
        raise ValueError(
            f"drift_at must be inside the stream (< n_stream={n_stream}), got {drift_at}"
        )
    percent = 100 * noise
    X, y = _hyperplane_rows(seed, n_initial + n_stream, n_initial + drift_at, max(width, 10), noise)
    times = np.arange(n_initial + n_stream, dtype=float) - n_initial
    return _split(
        "drifting classification",
        "classification",
        X.copy(),  # the cached rows stay as generated, whatever a caller does with its scenario
        y.copy(),
        times,
        n_initial,
        drift_at=(drift_at,),
        description=f"Rotating hyperplane, {percent:g}% label noise, concept change at event {drift_at}.",
        info={"width": width, "noise": noise},
    )


@functools.lru_cache(maxsize=32)
def _hyperplane_rows(seed: int, n: int, position: int, width: int, noise: float):
    """The rows of :func:`drifting_classification`, generated once per process for the same arguments.

    The chapters rebuild the same streams many times (one per line, per setting, per cell).
    """
    from river.datasets import synth

    stream = _concept_drift(
        synth.Hyperplane(seed=2 * seed + 1, n_features=4, noise_percentage=noise),
        synth.Hyperplane(seed=2 * seed + 2, n_features=4, noise_percentage=noise),
        position=position,
        width=width,
        seed=seed,
    )
    rows = list(itertools.islice(stream, n))
    X = pd.DataFrame([x for x, _ in rows]).rename(columns=lambda c: f"x{c}")
    return X, np.array([int(label) for _, label in rows])


def _concept_drift(stream, drift_stream, position: int, width: int, seed: int):
    """river's ConceptDriftStream, the same draws, without its overflow far from the drift."""
    rng = random.Random(seed)
    before, after = iter(stream), iter(drift_stream)
    for index in itertools.count(1):
        v = min(max(-4.0 * (index - position) / width, -700.0), 700.0)
        yield next(after if rng.random() <= 1.0 / (1.0 + math.exp(v)) else before)


def movie_catalogue(
    seed: int = 0,
    n_titles: int = 1000,
    n_new: int = 100,
    n_genres: int = 10,
    n_initial: int = 5000,
    n_stream: int = 10000,
    events_per_day: int = 250,
) -> Scenario:
    """A streaming service: ``n_titles`` titles at deploy time, ``n_new`` released afterwards.

    Each event is a user of a favourite ``genre`` watching a title on a given ``day``;
    ``y`` is the title's id. New titles (ids ``n_titles`` and up) are released during the
    first half of the stream and are popular for a few weeks after release, as new releases are.

    Parameters
    ----------
    seed
        Seed of every random draw.
    n_titles, n_new
        Titles at deploy time, and released afterwards.
    n_genres
        Genres of titles and users.
    n_initial, n_stream
        Events in the initial training set and in the stream.
    events_per_day
        Events per day (sets the ``day`` feature).

    Examples
    --------
    >>> sc = movie_catalogue(seed=0, n_titles=50, n_new=5, n_initial=200, n_stream=300)
    >>> sc.features, len(sc.info["new_titles"])
    (['day', 'genre'], 5)
    """
    for value, name in [
        (n_titles, "n_titles"),
        (n_new, "n_new"),
        (n_genres, "n_genres"),
        (n_initial, "n_initial"),
        (n_stream, "n_stream"),
        (events_per_day, "events_per_day"),
    ]:
        positive_int(value, name)
    rng = np.random.default_rng(seed)
    total = n_titles + n_new
    genre_of = rng.integers(0, n_genres, total)
    appeal = rng.pareto(1.2, total) + 1.0  # a Zipf-like long tail of popularity
    stream_days = n_stream / events_per_day
    release = np.concatenate(
        [
            rng.uniform(-365, -n_initial / events_per_day, n_titles),
            np.sort(rng.uniform(0, stream_days / 2, n_new)),
        ]
    )
    n = n_initial + n_stream
    days = (np.arange(n) - n_initial) / events_per_day
    user_genre = rng.integers(0, n_genres, n)
    titles = _watched_titles(rng, days, user_genre, release, appeal, genre_of)
    X = pd.DataFrame({"day": days.round(4), "genre": user_genre})
    return _split(
        "movie catalogue",
        "recommendation",
        X,
        titles,
        days,
        n_initial,
        description=f"{n_titles} titles at deploy time, {n_new} released after it.",
        info={
            "new_titles": np.arange(n_titles, total),
            "release_day": release,
            "title_genre": genre_of,
            "n_titles": n_titles,
        },
    )


def _watched_titles(rng, days, user_genre, release, appeal, genre_of, block=128):
    """The title each event watches: one weighted draw per event, a block of events at a time.

    Event ``i`` draws title ``j`` with a weight of ``appeal[j] * (1 + 30 * exp(-age / 10))`` once
    title ``j`` is released (``age`` = days since), 8 times more if it is of the user's genre.
    The draws are those of ``rng.choice(len(appeal), p=weight / weight.sum())`` called once per
    event, number for number: the same uniform numbers (one per event, in order), the same
    cumulative sums, the same search; only the Python loop over events is gone.
    """
    n = len(days)
    draws = rng.random(n)  # rng.choice(p=...) draws exactly one uniform number per call
    titles = np.empty(n, dtype=int)
    for start in range(0, n, block):
        stop = min(start + block, n)
        age = days[start:stop, None] - release[None, :]
        released = age >= 0
        weight = np.maximum(age, 0.0, out=age)
        weight /= -10  # -(age / 10): a sign is exact
        np.exp(weight, out=weight)
        weight *= 30
        weight += 1
        weight *= appeal
        weight *= released  # 0 before the release
        same_genre = genre_of[None, :] == user_genre[start:stop, None]
        np.multiply(weight, 8.0, out=weight, where=same_genre)  # the others times 1.0: as they are
        weight /= weight.sum(axis=1, keepdims=True)  # p, as the loop gave it to rng.choice
        cdf = np.cumsum(weight, axis=1, out=weight)  # then what rng.choice does with p
        titles[start:stop] = _searched(cdf, draws[start:stop])
    return titles


def _searched(cdf, draws):
    """Per row, how many of ``cdf / cdf[:, -1:]`` are at most the row's draw: ``rng.choice``'s search.

    Each row of ``cdf`` is a cumulative sum of numbers >= 0, so the quotients never decrease along
    it: a binary search over the row finds the count, dividing only the entries it looks at (the
    same quotients, number for number, as dividing the whole row).
    """
    rows = np.arange(len(cdf))
    last, width = cdf[:, -1], cdf.shape[1]
    low, high = np.zeros(len(cdf), dtype=int), np.full(len(cdf), width)
    while (searching := low < high).any():  # entries before low are <= the draw, from high on >
        middle = (low + high) // 2
        at_most = cdf[rows, np.minimum(middle, width - 1)] / last <= draws
        low = np.where(searching & at_most, middle + 1, low)
        high = np.where(searching & ~at_most, middle, high)
    return low


# -- scenarios of the Online learning chapter (``book/online.ipynb``) --------------------------------
__all__ += ["stock_prices", "poison_labels", "extreme_value"]

_PRICES = {
    "apple": ("Apple", "Close", "closing price of Apple stock, USD (split-adjusted)"),
    "bitcoin": ("Bitcoin", None, "Bitcoin price, USD"),
    "brent": ("BrentSpotPrice", None, "Brent crude oil spot price, USD per barrel"),
}


def stock_prices(
    name: str = "apple", lags: int = 5, n_initial: int = 450, step: int = 1
) -> Scenario:
    """Real daily prices shipped inside river: predict the next price from the last ``lags`` ones.

    ``name`` is ``"apple"`` (Apple stock 1996-2004), ``"bitcoin"`` or ``"brent"`` (crude oil
    1987-2019), all from ``river.drift.datasets`` (bundled in the wheel, no download). Features
    ``lag_1`` (the latest price) to ``lag_<lags>``; ``y`` is the price ``step`` trading days later;
    ``times`` are days since deployment. A teaching example, not trading advice.

    Parameters
    ----------
    name
        ``"apple"``, ``"bitcoin"`` or ``"brent"``.
    lags
        Earlier prices used as features.
    n_initial
        Prices in the initial training set.
    step
        Trading days between two events.

    Examples
    --------
    >>> sc = stock_prices("apple", lags=3, n_initial=100)
    >>> sc.features, sc.task, len(sc) > 1000
    (['lag_1', 'lag_2', 'lag_3'], 'regression', True)
    """
    from river.drift import datasets

    if name not in _PRICES:
        raise ValueError(f"name must be one of {sorted(_PRICES)}, got {name!r}")
    lags, n_initial, step = (
        positive_int(lags, "lags"),
        positive_int(n_initial, "n_initial"),
        positive_int(step, "step"),
    )
    cls, column, what = _PRICES[name]
    rows = list(getattr(datasets, cls)())[::step]
    dates = np.array([next(iter(x.values())) for x, _ in rows], dtype="datetime64[D]")
    price = np.array([y[column] if column else y for _, y in rows], dtype=float)
    if not lags + n_initial < len(price) - 1:
        raise ValueError(
            f"n_initial + lags must leave a stream: the series has {len(price)} prices"
        )
    X = pd.DataFrame({f"lag_{k}": price[lags - k : len(price) - k] for k in range(1, lags + 1)})
    y = price[lags:]
    days = (dates[lags:] - dates[lags + n_initial]).astype(float)
    return _split(
        f"{name} prices",
        "regression",
        X,
        y,
        days,
        n_initial,
        description=f"Real {what}; predict the next price from the last {lags}.",
        info={"unit": "USD", "dates": dates[lags:], "step": step},
    )


def poison_labels(scenario: Scenario, start: int, length: int, seed: int = 0) -> Scenario:
    """A copy of a classification ``scenario`` whose labels are wrong for ``length`` events from ``start``.

    Each poisoned label is replaced by another class, drawn at random (seeded): a burst of bad
    data, as a faulty labelling job or an attack would produce. ``info["poisoned"]`` is the range.

    Parameters
    ----------
    scenario
        A classification :class:`Scenario`.
    start, length
        The burst: stream positions ``start`` to ``start + length``.
    seed
        Seed of the wrong labels.

    Examples
    --------
    >>> sc = poison_labels(drifting_classification(n_initial=20, n_stream=100, drift_at=90), 10, 20)
    >>> clean = drifting_classification(n_initial=20, n_stream=100, drift_at=90)
    >>> sc.info["poisoned"], int((sc.y[10:30] != clean.y[10:30]).sum())
    ((10, 30), 20)
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    if scenario.task != "classification":
        raise ValueError(f"scenario must be a classification scenario, got task {scenario.task!r}")
    start, length = positive_int(start, "start"), positive_int(length, "length")
    stop = start + length
    if stop > len(scenario):
        raise ValueError(
            f"start + length must be inside the stream of {len(scenario)} events, got {stop}"
        )
    classes = np.unique(np.concatenate([scenario.y_initial, scenario.y]))
    rng = np.random.default_rng(seed)
    y = scenario.y.copy()
    for i in range(start, stop):
        others = classes[classes != y[i]]
        y[i] = others[rng.integers(len(others))]
    return Scenario(
        f"{scenario.name}, poisoned",
        scenario.task,
        scenario.X_initial,
        scenario.y_initial,
        scenario.X,
        y,
        scenario.times,
        scenario.drift_at,
        scenario.description + f" Labels wrong for events {start} to {stop - 1}.",
        {**scenario.info, "poisoned": (start, stop)},
    )


def extreme_value(scenario: Scenario, at: int, feature: str, value: float) -> Scenario:
    """A copy of ``scenario`` whose event ``at`` has ``feature = value``: one abnormal input (a
    sensor fault, a typo, an attack).

    ``info["extreme"]`` is ``(at, feature, value)``.

    Parameters
    ----------
    scenario
        A :class:`Scenario`.
    at
        The stream position of the abnormal event.
    feature
        The feature that gets the value.
    value
        The abnormal value (a number).

    Examples
    --------
    >>> sc = extreme_value(drifting_classification(n_initial=20, n_stream=100, drift_at=90), 10, "x0", 1e200)
    >>> float(sc.X["x0"].iloc[10]), sc.info["extreme"]
    (1e+200, (10, 'x0', 1e+200))
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    if isinstance(at, bool) or not isinstance(at, numbers.Integral) or not 0 <= at < len(scenario):
        raise ValueError(f"at must be a stream position (0 to {len(scenario) - 1}), got {at!r}")
    if feature not in scenario.features:
        raise ValueError(f"feature must be one of {scenario.features}, got {feature!r}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"value must be a number, got {type(value).__name__} {value!r}")
    X = scenario.X.copy()
    X[feature] = X[feature].astype(float)
    X.iloc[int(at), X.columns.get_loc(feature)] = float(value)
    return Scenario(
        f"{scenario.name}, one extreme value",
        scenario.task,
        scenario.X_initial,
        scenario.y_initial,
        X,
        scenario.y,
        scenario.times,
        scenario.drift_at,
        scenario.description + f" Event {at} has {feature} = {value:g}.",
        {**scenario.info, "extreme": (int(at), feature, float(value))},
    )
