"""The lead list the end-to-end and backend contract tests share: a title row, a blank row, the
header (with one column of the users' own) and three rows that break a few rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

HEADERS = [
    "线索编号",
    "来源类型",
    "客户名称",
    "负责人",
    "创建时间",
    "分配时间",
    "首次跟进时间",
    "预算",
    "决策权",
    "需求匹配",
    "时间线",
    "筛选结果",
    "我的备注",
]


def leads_rows() -> list[list[Any]]:
    """Title, blank, header, then L1 (clean), a duplicate L1 with a bad source, an early first
    contact and a BANT mismatch, and L3 with a blank customer."""
    return [
        ["销售线索跟踪表"],
        [],
        HEADERS,
        [
            "L1",
            "官网",
            "甲公司",
            "李雷",
            datetime(2026, 6, 1, 9),
            datetime(2026, 6, 1, 10),
            datetime(2026, 6, 1, 11),
            "是",
            "是",
            "是",
            "是",
            None,
            "重点",
        ],
        [
            "L1",
            "抖音直播",
            "乙公司",
            "韩梅",
            datetime(2026, 6, 2, 9),
            datetime(2026, 6, 2, 10),
            datetime(2026, 6, 2, 9),
            "是",
            "否",
            "否",
            "否",
            "A",
            '=HYPERLINK("x")',
        ],
        [
            "L3",
            "展会-行业展",
            None,
            "李雷",
            "2026年6月3日",
            "2026/6/3 10:00",
            None,
            "是",
            "是",
            "否",
            "否",
            None,
            None,
        ],
    ]


# The English lead columns the assignment and duplicate-customer tests fill in.
EN_LEAD_HEADERS = [
    "Lead ID",
    "Source",
    "Customer",
    "Phone or e-mail",
    "Region",
    "Industry",
    "Product line",
    "Owner",
    "Created at",
    "Assigned at",
    "Stage",
]
