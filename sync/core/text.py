"""Text folding: the one place that decides when two labels people typed are "the same".

Headers, tab names and enumeration values are compared after `fold`: Unicode NFKC (full-width
forms become half-width), traditional characters mapped to simplified, case folded, white space
removed, a trailing hint in brackets dropped (筛选结果（A/B/C类） → 筛选结果) and the ⚙ / * marks
templates put on owned and required columns ignored.

>>> fold(" 筛选结果（A/B/C类） ") == fold("篩選結果")
True
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")
_SPACE = re.compile(r"\s+")
_HINT = re.compile(r"\([^()]*\)$")
_MARKS = str.maketrans("", "", "⚙*＊★")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Fold a label for comparison; idempotent: fold(fold(x)) == fold(x)."""
    out = unicodedata.normalize("NFKC", text).translate(_MARKS)
    out = _SPACE.sub("", out)
    # Strip hints repeatedly: "负责人(销售)(必填)" is still 负责人.
    while True:
        stripped = _HINT.sub("", out)
        if stripped == out or not stripped:
            break
        out = stripped
    out = _T2S.convert(out).casefold()
    return unicodedata.normalize("NFKC", out)


def to_half_width(text: str) -> str:
    """Full-width digits and punctuation to their ASCII forms (NFKC), nothing else changed."""
    return unicodedata.normalize("NFKC", text)
