"""Column-wise building blocks the rules share: how ids compare, and a column's dates as one
numpy array, so that a rule over a million rows is a handful of array operations rather than a
Python loop per row.

>>> id_key(" ＬＥＡＤ-0001 ")
'lead-0001'
>>> id_keys(["A-1", None, " a-1", ""])
['a-1', None, 'a-1', None]
>>> from datetime import date, datetime
>>> moments([date(2026, 3, 2), None, datetime(2026, 3, 2, 9, 30)])
array(['2026-03-02T00:00:00.000000',                        'NaT',
       '2026-03-02T09:30:00.000000'], dtype='datetime64[us]')
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar, overload

import numpy as np
import pandas as pd

T = TypeVar("T")
_TEXT_CELLS = frozenset({str, type(None)})
# a cell of one of these types never equals a cell of another; numbers do (True == 1 == 1.0)
_APART = frozenset({str, type(None), date, datetime, time, timedelta})
_NUMBERS = frozenset({bool, int, float})

MOMENT = "datetime64[us]"
"""The dtype of `moments`: microseconds, as Python's datetime keeps them."""


def id_key(value: Any) -> str | None:
    """How ids compare: width, case and surrounding spaces aside, exactly; None for a blank."""
    if value is None:
        return None
    return unicodedata.normalize("NFKC", str(value)).strip().casefold() or None


def id_keys(values: Sequence[Any]) -> list[str | None]:
    """`id_key` of every value; each distinct value is normalised once.

    Ids are mostly distinct: a column of texts is told apart in one hash pass in C
    (`pd.factorize`) rather than by a dict built, then looked up, per value."""
    if not set(map(type, values)) <= _TEXT_CELLS:
        return each_once(values, id_key)
    codes, distinct = pd.factorize(objects(values))  # None: code -1
    keys = objects([*map(id_key, distinct.tolist()), None])  # -1 takes the last: None
    return keys.take(codes).tolist()


def each_distinct(values: Sequence[Any], work: Callable[[list[Any]], list[T]]) -> list[T]:
    """`work` of every cell, calling `work` once with the distinct cells in first-seen order.

    Cells of different types are told apart (True == 1 in Python, yet reads "TRUE", not "1").

    >>> each_distinct(["b", "a", "b", None], lambda cells: [f"<{c}>" for c in cells])
    ['<b>', '<a>', '<b>', '<None>']
    >>> each_distinct([1, True, 1.0, 1], lambda cells: [type(c).__name__ for c in cells])
    ['int', 'bool', 'float', 'int']
    """
    if _told_apart(set(map(type, values))):  # equal cells are of one type: the cells are keys
        distinct = list(dict.fromkeys(values))
        found = dict(zip(distinct, work(distinct), strict=True))
        return list(map(found.__getitem__, values))
    typed = list(zip(map(type, values), values, strict=True))
    distinct_typed = list(dict.fromkeys(typed))
    found_typed = dict(zip(distinct_typed, work([v for _, v in distinct_typed]), strict=True))
    return list(map(found_typed.__getitem__, typed))


def _told_apart(kinds: set[type]) -> bool:
    """Whether cells of these types equal one another only within a type: texts, blanks,
    dates, datetimes, times, durations and at most one kind of number (True == 1 == 1.0)."""
    others = kinds - _APART
    return len(others) <= 1 and others <= _NUMBERS


def each_once(values: Sequence[Any], work: Callable[[Any], T]) -> list[T]:
    """`work` of every value, worked out once per distinct value in order of first appearance
    (so that a register of names sees each name first where the table has it first).

    >>> each_once(["Li", "Han", "Li"], str.upper)
    ['LI', 'HAN', 'LI']
    """
    return each_distinct(values, lambda distinct: list(map(work, distinct)))


def objects(values: Sequence[Any]) -> np.ndarray:
    """Values as a 1-D object array, as they are (a tuple stays one value, nothing inferred)."""
    return np.fromiter(values, dtype=object, count=len(values))


def is_none(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Which values are None (only None: not NaN, not a blank text), as a boolean array."""
    found = values if isinstance(values, np.ndarray) else objects(values)
    return found == None  # noqa: E711 (numpy compares value by value)


def moments(values: Sequence[date | datetime | None]) -> np.ndarray:
    """Dates and datetimes as one datetime64[us] array (a date is its midnight; None is NaT)."""
    # without pandas' cache: on a column that repeats its dates, building and looking up the
    # cache costs twice what converting every cell does
    found = pd.to_datetime(objects(values), cache=False).to_numpy()
    return found.astype(MOMENT, copy=False)


def days(values: np.ndarray) -> np.ndarray:
    """The day of each moment (datetime64[D]; NaT stays NaT)."""
    return values.astype("datetime64[D]")


def is_midnight(values: np.ndarray) -> np.ndarray:
    """Which moments fall exactly on midnight: a date typed without a time (NaT: False)."""
    return ~np.isnat(values) & (values == values.astype("datetime64[D]"))


def as_datetime(value: date) -> datetime:
    """A date as its midnight; a datetime as it is."""
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


@overload
def day_of(value: date) -> date: ...
@overload
def day_of(value: None) -> None: ...
def day_of(value: date | None) -> date | None:
    """The day of a date or datetime (None stays None)."""
    return value.date() if isinstance(value, datetime) else value


class RowValues(Mapping[int, Any]):
    """An owned column's values by spreadsheet row, kept as the rows (ascending, each once) and
    their values side by side rather than as a dict: a rule sets a million at once, and the
    plan reads them back in row order (`spread`). A lookup by row builds the dict once.

    >>> column = RowValues([3, 5], ["达标", None])
    >>> dict(column), 5 in column, len(column)
    ({3: '达标', 5: None}, True, 2)
    >>> full, given = column.spread(2, 6)
    >>> full.tolist(), given.tolist()
    ([None, '达标', None, None, None], [False, True, False, True, False])
    """

    __slots__ = ("_by_row", "rows", "values_list")

    def __init__(self, rows: Sequence[int] | np.ndarray, values: Sequence[Any]) -> None:
        if len(rows) != len(values):
            raise ValueError(f"{len(rows)} rows but {len(values)} values")
        self.rows = np.asarray(rows, dtype=np.int64)
        if not self.ascending(self.rows):
            raise ValueError("rows must ascend, each once")
        self.values_list = list(values)
        self._by_row: dict[int, Any] | None = None

    @staticmethod
    def ascending(rows: np.ndarray) -> bool:
        """Whether `rows` ascend, each once, as a `RowValues`' rows must."""
        return bool((np.diff(rows) > 0).all())

    @classmethod
    def of(cls, values: Mapping[int, Any]) -> RowValues:
        """An owned column's values as `RowValues` (itself if it is one), its rows in order."""
        if isinstance(values, RowValues):
            return values
        rows = np.fromiter(values, np.int64, len(values))
        order = np.argsort(rows, kind="stable")
        listed = list(values.values())
        return cls(rows[order], list(map(listed.__getitem__, order.tolist())))

    def _dict(self) -> dict[int, Any]:
        if self._by_row is None:
            self._by_row = dict(zip(self.rows.tolist(), self.values_list, strict=True))
        return self._by_row

    def __getitem__(self, row: int) -> Any:
        return self._dict()[row]

    def __contains__(self, row: object) -> bool:
        return row in self._dict()

    def __iter__(self) -> Iterator[int]:
        return iter(self.rows.tolist())

    def __len__(self) -> int:
        return len(self.values_list)

    def spread(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows `first` to `last` in order: each one's value (None where it has none) and
        whether it has one. Rows outside are left out."""
        size = max(0, last - first + 1)
        full = np.full(size, None, dtype=object)
        given = np.zeros(size, dtype=bool)
        inside = (self.rows >= first) & (self.rows <= last)
        values = self.values_list
        if not inside.all():
            values = [v for v, keep in zip(values, inside.tolist(), strict=True) if keep]
        at = self.rows[inside] - first
        full[at] = objects(values)
        given[at] = True
        return full, given


def column_values(values: Mapping[int, Any]) -> list[Any]:
    """An owned column's values, in the order of its rows."""
    if isinstance(values, RowValues):
        return values.values_list
    return list(values.values())


def column_items(values: Mapping[int, Any]) -> Iterable[tuple[int, Any]]:
    """An owned column's (row, value) pairs, without building a dict of a `RowValues`."""
    if isinstance(values, RowValues):
        return zip(values.rows.tolist(), values.values_list, strict=True)
    return values.items()
