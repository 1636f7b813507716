"""The check runs with the cyclic collector paused, and leaves it as it found it."""

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
