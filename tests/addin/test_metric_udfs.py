"""The performance cell functions agree with the job's metrics, one cell or a whole column."""

import pytest

from addin.udfs import (
    SALES_COLLECTION_RATE,
    SALES_COMPLETION_RATE,
    SALES_SCORE,
    SALES_WEIGHTED_SCORE,
)
from sync.core.metrics import completion_rate, score, weighted_score


@pytest.mark.parametrize(
    ("actual", "target", "expected"),
    [
        (168, 150, 1.12),
        ("50万", "100万", 0.5),
        ("1,200", 1000, 1.2),
        (5, 0, ""),
        (5, None, ""),
        ("lots", 10, "#actual?"),
    ],
)
def test_completion_rate(actual: object, target: object, expected: object) -> None:
    assert SALES_COMPLETION_RATE(actual, target) == expected


def test_completion_rate_fills_a_column_in_one_call() -> None:
    actual, target = [[168], [90], [10]], [[150], [100], [0]]
    assert SALES_COMPLETION_RATE(actual, target) == [[1.12], [0.9], [""]]
    assert [row[0] for row in SALES_COMPLETION_RATE(actual, target)][:2] == [
        completion_rate(168, 150),
        completion_rate(90, 100),
    ]


def test_collection_rate() -> None:
    assert SALES_COLLECTION_RATE(85, 100) == 0.85
    assert SALES_COLLECTION_RATE(None, 100) == 0.0
    assert SALES_COLLECTION_RATE(10, 0) == ""


@pytest.mark.parametrize(
    ("actual", "target", "rule", "expected"),
    [
        (168, 150, "linear", 100.0),
        (3, 4, "", 75.0),
        (0.85, 1, "≥100%:100;≥80%:80;<80%:50", 80.0),
        (0.5, 1, "≥100%:100;≥80%:80;<80%:50", 50.0),
        (1, 1, "nonsense", "#rule?"),
    ],
)
def test_score(actual: float, target: float, rule: str, expected: object) -> None:
    assert SALES_SCORE(actual, target, rule) == expected
    if not isinstance(expected, str):
        assert expected == score(actual, target, rule or "linear")


def test_weighted_score_and_the_222_point_table() -> None:
    assert SALES_WEIGHTED_SCORE([[100], [80], [50]], [["40%"], ["30%"], [0.3]]) == 79.0
    assert SALES_WEIGHTED_SCORE([100, 80, 50], [40, 30, 30]) == weighted_score(
        [100, 80, 50], [0.4, 0.3, 0.3]
    )
    assert SALES_WEIGHTED_SCORE([1, 2, 3, 4, 5], [30, 25, 22, 85, 60]) == "#weights=222%"
    assert SALES_WEIGHTED_SCORE([1, 2], [100]) == "#size?"


def test_every_cell_function_documents_every_argument_from_the_schema() -> None:
    import inspect

    import addin.udfs as udfs
    from sync.core.schema import LEADS

    functions = [getattr(udfs, n) for n in dir(udfs) if n.startswith("SALES_")]
    assert len(functions) == 9
    for fn in functions:
        assert fn.__doc__, fn.__name__
        assert set(fn.__arg_docs__) == set(inspect.signature(fn).parameters), fn.__name__
    budget = udfs.SALES_BANT_CLASS.__arg_docs__["budget"]
    assert all(header in budget for header in LEADS.field("budget").headers.values())
