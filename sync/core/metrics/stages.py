"""The stages of the funnel in order, and how far along it a lead got."""

from __future__ import annotations

# The funnel's order; `lost` ends a lead at any stage. `opportunity` is the coarse stage of
# workbooks that keep no finer one, ranked just above `lead`.
FUNNEL_ORDER: tuple[str, ...] = (
    "lead",
    "opportunity",
    "qualified",
    "needs_analysis",
    "proposal",
    "negotiation",
    "won",
)
RANK = {stage: i for i, stage in enumerate(FUNNEL_ORDER)}
OPEN_STAGES = frozenset(FUNNEL_ORDER[:-1])


def opportunity_evidence(
    expected_amount: object, probability: object, expected_close: object, proposal: object
) -> bool:
    return any(v is not None for v in (expected_amount, probability, expected_close, proposal))


def reached_rank(stage: str | None, evidence: bool, proposal_submitted: bool) -> int | None:
    """How far along the funnel a lead got, as an index of `FUNNEL_ORDER`.

    The current stage says it, except for a lost lead, which reached the proposal stage when a
    proposal was submitted, the opportunity stage when it carries any opportunity data
    (expected amount, probability, expected close, proposal due), and only the lead stage
    otherwise (disqualified as a lead).
    """
    if stage is None:
        return None
    if stage != "lost":
        return RANK.get(stage)
    if proposal_submitted:
        return RANK["proposal"]
    return RANK["opportunity"] if evidence else RANK["lead"]


def is_converted(rank: int | None) -> bool:
    """Lead→opportunity conversion: the lead reached the opportunity stage or beyond."""
    return rank is not None and rank >= RANK["opportunity"]
