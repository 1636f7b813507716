"""The check runs with the cyclic collector paused, leaves it as it found it, and frees what
it worked out on the way before a write."""

from __future__ import annotations

import gc

import pytest

from sync.job import gc_paused


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_inside_and_restored_after(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_the_collector_is_restored_when_the_check_fails() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("bad workbook")
    assert gc.isenabled()


def test_the_check_frees_the_columns_the_rules_shared_before_a_write() -> None:
    from datetime import datetime

    from sync.core.model import RawSheet, RawWorkbook
    from sync.job import check_workbook

    raw = RawWorkbook(
        [
            RawSheet(
                "Leads", [["Lead ID", "Customer", "Created at"], ["L-1", "Acme", "2026-05-02"]]
            ),
            RawSheet("Follow-ups", [["Date", "Lead ID", "Method"], ["2026-05-03", "l-1 ", "Call"]]),
        ]
    )
    result = check_workbook(raw, as_of=datetime(2026, 6, 1))
    assert set(result.tables) >= {"leads", "follow_ups"}
    assert all(not data._memo for data in result.tables.values())
    assert result.tables["follow_ups"].keys("lead_id") == ["l-1"]  # worked out again on demand
