"""The cyclic garbage collector, paused while a workbook's millions of cells are built and
checked. Apart from the job so that the command pauses it before the read starts, without
loading the rules' modules first."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Run a block with the cyclic garbage collector off (as it was before, after).

    Reference counting still frees everything that is not in a cycle; the core builds almost
    no cycles, and a collection pass over a large workbook's cells costs more than the rules.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
