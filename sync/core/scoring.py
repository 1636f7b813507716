"""Lead screening and (later) weighted scores: small pure functions shared by the job and UDFs.

>>> bant_class([True, True, False, True])
'B'
>>> bant_class([True, True, True, True]), bant_class([None, False, True, None])
('A', None)
"""

from __future__ import annotations

from collections.abc import Sequence

BANT_FIELDS = ("budget", "authority", "need_fit", "timeline")


def bant_yes_count(answers: Sequence[bool | None]) -> int | None:
    """How many of the four answers are yes; None until all four are answered."""
    if len(answers) != 4 or any(a is None for a in answers):
        return None
    return sum(1 for a in answers if a)


def bant_class(
    answers: Sequence[bool | None], *, a_min_yes: int = 4, b_min_yes: int = 2
) -> str | None:
    """A/B/C from the four BANT answers (budget, authority, need, timeline).

    Defaults follow the source template: 4 yes → A, 2–3 → B, 0–1 → C. Unanswered → None.
    """
    yes = bant_yes_count(answers)
    if yes is None:
        return None
    if yes >= a_min_yes:
        return "A"
    if yes >= b_min_yes:
        return "B"
    return "C"
