"""Next-step dates written in a follow-up's text ("1月5日再次拜访", "7/21 演示")."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

_PROMISE = re.compile(
    r"(?<![\d/.-])(?:"
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
    r"|(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]?"
    r"|(?P<m3>\d{1,2})/(?P<d3>\d{1,2})"
    r")(?![\d/])"
)


@lru_cache(maxsize=1 << 14)
def find_promised_date(text: str, after: date) -> date | None:
    """The first date written in a next-step text; a date without a year is the first such
    day on or after `after` (the follow-up's own day).

    >>> find_promised_date("1月5日再次拜访", date(2025, 12, 20))
    datetime.date(2026, 1, 5)
    >>> day = date(2026, 7, 1)
    >>> find_promised_date("7/21 演示", day), find_promised_date("下周三", day)
    (datetime.date(2026, 7, 21), None)
    """
    for match in _PROMISE.finditer(unicodedata.normalize("NFKC", text)):
        g = match.groupdict()
        if g["y"]:
            found = _make_date(int(g["y"]), int(g["m"]), int(g["d"]))
        else:
            month, day = (int(g["m2"]), int(g["d2"])) if g["m2"] else (int(g["m3"]), int(g["d3"]))
            found = next(
                (
                    d
                    for year in (after.year, after.year + 1)
                    if (d := _make_date(year, month, day)) is not None and d >= after
                ),
                None,
            )
        if found is not None:
            return found
    return None


def _make_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None
