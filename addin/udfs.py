"""SALES_* cell functions: thin wrappers over `sync.core`, so a cell and the sync job agree.

With xlwings installed (`pip install 'salesync[excel]'`) the functions are registered as
Excel UDFs; without it they stay plain Python functions.

>>> SALES_BANT_CLASS("是", "Y", "✓", "否")
'B'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sync.core.parse import ParseContext, parse_value
from sync.core.schema import LEADS
from sync.core.scoring import BANT_FIELDS, bant_class

F = TypeVar("F", bound=Callable[..., Any])

try:  # xlwings is optional; its decorators leave functions callable as plain Python
    import xlwings as xw

    func: Callable[[F], F] = xw.func
except ImportError:  # pragma: no cover - depends on the environment

    def func(fn: F) -> F:
        return fn


@func
def SALES_BANT_CLASS(
    budget: Any,
    authority: Any,
    need_fit: Any,
    timeline: Any,
    a_min_yes: int = 4,
    b_min_yes: int = 2,
) -> str:
    """BANT class A/B/C from the four yes/no answers (是/否, Y/N, ✓/✗, TRUE/FALSE); "" until
    all four are answered or when one is not a yes/no."""
    answers = []
    for name, cell in zip(BANT_FIELDS, (budget, authority, need_fit, timeline), strict=True):
        value, problem = parse_value(cell, LEADS.field(name), ParseContext())
        if problem is not None:
            return ""
        answers.append(value)
    return bant_class(answers, a_min_yes=int(a_min_yes), b_min_yes=int(b_min_yes)) or ""
