"""The stages of the funnel in order, and how far along it a lead got."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

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


def reached_ranks(stage: np.ndarray, evidence: np.ndarray, submitted: np.ndarray) -> np.ndarray:
    """`reached_rank` of every lead at once: stage keys (object array, None when blank), whether
    each carries opportunity data, whether its proposal was submitted; -1 where no stage.

    >>> stage = np.array(["won", "lost", "lost", "lost", None], dtype=object)
    >>> reached_ranks(stage, np.array([0, 1, 0, 1, 1], bool), np.array([0, 1, 0, 0, 0], bool))
    array([ 6,  4,  0,  1, -1])
    """
    ranks = pd.Series(stage, dtype=object).map(RANK).fillna(-1).to_numpy(np.int64)
    lost = np.where(evidence, RANK["opportunity"], RANK["lead"])
    lost = np.where(submitted, RANK["proposal"], lost)
    return np.where(stage == "lost", lost, ranks)


def reached_rank(stage: str | None, evidence: bool, proposal_submitted: bool) -> int | None:
    """How far along the funnel a lead got, as an index of `FUNNEL_ORDER`.

    The current stage says it, except for a lost lead, which reached the proposal stage when a
    proposal was submitted, the opportunity stage when it carries any opportunity data
    (expected amount, probability, expected close, proposal due), and only the lead stage
    otherwise (disqualified as a lead).
    """
    stages = np.array([stage], dtype=object)
    rank = int(reached_ranks(stages, np.array([evidence]), np.array([proposal_submitted]))[0])
    return None if rank < 0 else rank


def is_converted(rank: Any) -> Any:
    """Lead→opportunity conversion: the lead reached the opportunity stage or beyond (one rank,
    None for none, or an array of ranks, -1 for none)."""
    return rank is not None and rank >= RANK["opportunity"]
