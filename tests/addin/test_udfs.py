import pytest

from addin.udfs import SALES_BANT_CLASS


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (("是", "是", "是", "是"), "A"),
        (("Y", "N", "✓", "✗"), "B"),
        ((True, False, False, False), "C"),
        (("是", None, "是", "是"), ""),
        (("是", "maybe", "是", "是"), ""),
    ],
)
def test_bant_class_udf_matches_the_job(answers: tuple, expected: str) -> None:
    assert SALES_BANT_CLASS(*answers) == expected


def test_bant_class_udf_takes_the_workbook_rule() -> None:
    assert SALES_BANT_CLASS("是", "是", "是", "否", a_min_yes=3) == "A"
