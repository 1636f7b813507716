"""Pure rate and scoring helpers, shared with the SALES_* cell functions: completion and
collection rates, average deal, an indicator's score under a rule (linear or bands), weights
and the weighted total."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..parse import is_blank, parse_number_text, render_text
from ..text import fold
from .common import number
from .definitions import SCORING
from .problems import MetricProblem


def ratio(numerator: object, denominator: object) -> float | None:
    a, b = number(numerator), number(denominator)
    if a is None or b is None or b == 0:
        return None
    return a / b


def completion_rate(actual: float | None, target: float | None) -> float | None:
    """actual / target; None when either is missing or the target is 0.

    >>> completion_rate(168, 150), completion_rate(10, 0), completion_rate(None, 150)
    (1.12, None, None)
    """
    return ratio(actual, target)


def collection_rate(received: float | None, invoiced: float | None) -> float | None:
    """received / invoiced; None when nothing was invoiced. A missing received amount is 0."""
    return ratio(0.0 if received is None else received, invoiced)


def avg_deal(actual: float | None, customers: int | None) -> float | None:
    """Sales per customer signed; None without customers."""
    return ratio(actual, customers)


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b - 1e-9,
    ">": lambda a, b: a > b + 1e-9,
    "<=": lambda a, b: a <= b + 1e-9,
    "<": lambda a, b: a < b - 1e-9,
    "=": lambda a, b: abs(a - b) <= 1e-9,
}


@dataclass(frozen=True, slots=True)
class Band:
    """`op threshold : points`; the threshold is an achievement ratio (actual/target)."""

    op: str
    threshold: float
    points: float

    def matches(self, achievement: float) -> bool:
        return _OPS[self.op](achievement, self.threshold)

    def __str__(self) -> str:
        sign = {">=": "≥", "<=": "≤"}.get(self.op, self.op)
        return f"{sign}{self.threshold * 100:g}%:{self.points:g}"


@dataclass(frozen=True, slots=True)
class ScoringRule:
    """Linear (no bands): min(100, 100·actual/target). Bands: the highest points among the
    bands the achievement (actual/target) satisfies, 0 when none does; so the order the bands
    are written in does not matter for the usual rising scales."""

    bands: tuple[Band, ...] = ()

    def __str__(self) -> str:
        return ";".join(map(str, self.bands)) if self.bands else "linear"


LINEAR = ScoringRule()
_LINEAR_WORDS = frozenset(
    map(fold, ("linear", "线性", "線性", "按比例", "比例", "默认", "default"))
)
_BAND = re.compile(
    r"(?P<op>>=|<=|≥|≤|>|<|=|＞|＜|＝|≧|≦)?\s*(?P<num>[-+]?\d+(?:\.\d+)?)\s*(?P<pct>%)?"
    r"\s*(?:以上|及以上)?\s*[:：→=]>?\s*(?P<points>[-+]?\d+(?:\.\d+)?)\s*分?"
)
_OP_NORMAL = {"≥": ">=", "≧": ">=", "≤": "<=", "≦": "<=", "＞": ">", "＜": "<", "＝": "="}


def parse_scoring_rule(text: object) -> ScoringRule | None:
    """A rule cell: blank or "linear" (线性), or bands such as "≥100%:100;≥80%:80;<80%:50".
    None when it cannot be read.

    >>> str(parse_scoring_rule("≥100%:100；≥80%:80；<80%:50"))
    '≥100%:100;≥80%:80;<80%:50'
    """
    if text is None or (isinstance(text, str) and is_blank(text)):
        return LINEAR
    s = unicodedata.normalize("NFKC", render_text(text)).strip()  # type: ignore[arg-type]
    if fold(s) in _LINEAR_WORDS:
        return LINEAR
    bands: list[Band] = []
    for part in re.split(r"[;,|\n]+", s):
        part = part.strip()
        if not part:
            continue
        match = _BAND.fullmatch(part)
        if match is None:
            return None
        op = _OP_NORMAL.get(match.group("op") or ">=", match.group("op") or ">=")
        threshold = float(match.group("num"))
        if match.group("pct") or threshold > 10:  # "≥100:100" means 100%
            threshold /= 100
        points = float(match.group("points"))
        if not 0 <= points <= 100:
            return None
        bands.append(Band(op, threshold, points))
    return ScoringRule(tuple(bands)) if bands else None


def score(
    actual: float | None, target: float | None, rule: str | ScoringRule = "linear"
) -> float | None:
    """An indicator's score, 0–100: linear min(100, 100·actual/target), or by bands on the
    achievement actual/target. None when the actual or target is missing, the target is not
    positive, or the rule cannot be read.

    >>> score(168, 150), score(3, 4), score(-1, 3), score(1, 0)
    (100.0, 75.0, 0.0, None)
    """
    parsed = parse_scoring_rule(rule) if not isinstance(rule, ScoringRule) else rule
    a, t = number(actual), number(target)
    if parsed is None or a is None or t is None or t <= 0:
        return None
    achievement = a / t
    if not parsed.bands:
        return max(0.0, min(100.0, 100.0 * achievement))
    matched = [b.points for b in parsed.bands if b.matches(achievement)]
    return max(matched) if matched else 0.0


def as_weight(value: object) -> float | None:
    """A weight as a fraction: 15%, "15%", 0.15 and 15 (points) are all 0.15."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = re.sub(r"\s*(分|points?|pts?)$", "", value.strip(), flags=re.IGNORECASE)
        found = parse_number_text(text)
        if found is None or (found.multiplier is not None and found.multiplier != 1):
            return None
        x = float(found.value)
        if found.percent:
            return x / 100
    else:
        parsed = number(value)
        if parsed is None:
            return None
        x = parsed
    if x < 0:
        return None
    return x / 100 if x > 1 else x


WEIGHT_TOLERANCE = 1e-6


def _pct(x: float) -> str:
    return f"{round(x * 100, 4):g}%"


def weights_problem(
    weights: Sequence[object], rows: Sequence[int | None] | None = None
) -> MetricProblem | None:
    """The problem with a set of weights, if any: unreadable, or not summing to 100%.

    >>> weights_problem([30, 25, 22, 85, 60]).params["sum"]
    '222%'
    """
    parsed = [as_weight(w) for w in weights]
    row_text = ", ".join(str(r) for r in (rows or []) if r is not None)
    for w, value, row in zip(parsed, weights, rows or [None] * len(parsed), strict=False):
        if w is None and value is not None:
            return MetricProblem("invalid-weight", SCORING.name, row, "weight", {"value": value})
    total = sum(w or 0.0 for w in parsed)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        return MetricProblem(
            "weights-not-100",
            SCORING.name,
            next((r for r in rows or [] if r is not None), None),
            "weight",
            {"sum": _pct(total), "total": total, "rows": row_text},
        )
    return None


def weighted_score(scores: Sequence[float | None], weights: Sequence[object]) -> float | None:
    """Σ score × weight, 0–100, over indicators that have a score (a None score is not
    applicable: the others' weights are scaled up to 100%). None when the weights do not add up
    to 100% (see `weights_problem` for why) or nothing is scored."""
    if len(scores) != len(weights) or weights_problem(weights) is not None:
        return None
    pairs = [
        (x, as_weight(w) or 0.0)
        for s, w in zip(scores, weights, strict=True)
        if (x := number(s)) is not None
    ]
    scored_weight = sum(w for _, w in pairs)
    if not pairs or scored_weight <= 0:
        return None
    return sum(s * w for s, w in pairs) / scored_weight
