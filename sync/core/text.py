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
    out = _strip_hints(_SPACE.sub("", out))
    out = _T2S.convert(out).casefold()
    return unicodedata.normalize("NFKC", out)


# Joins the texts `fold_all` folds together: a private-use character, which NFKC, the marks,
# white space, t2s and casefold all leave alone and which composes with nothing.
_FOLD_JOIN = "\ue000"


def fold_all(texts: list[str]) -> list[str]:
    """`fold` of every text, each step but the hint stripping run once over them all.

    >>> fold_all(["ＡＢＣ 公司", "負責人(必填)", ""])
    ['abc公司', '负责人', '']
    """
    joined = _FOLD_JOIN.join(texts)
    if joined.count(_FOLD_JOIN) != len(texts) - 1:  # a text holds the joiner itself
        return list(map(fold, texts))
    bare = _SPACE.sub("", unicodedata.normalize("NFKC", joined).translate(_MARKS))
    parts = bare.split(_FOLD_JOIN)
    for i, part in enumerate(parts):
        if part.endswith(")"):
            parts[i] = _strip_hints(part)
    folded = _T2S.convert(_FOLD_JOIN.join(parts)).casefold()
    return unicodedata.normalize("NFKC", folded).split(_FOLD_JOIN)


def _strip_hints(text: str) -> str:
    """Trailing bracketed hints off, again and again ("负责人(销售)(必填)" is still 负责人), never
    down to nothing."""
    while True:
        stripped = _HINT.sub("", text)
        if stripped == text or not stripped:
            return text
        text = stripped


def to_half_width(text: str) -> str:
    """Full-width digits and punctuation to their ASCII forms (NFKC), nothing else changed."""
    return unicodedata.normalize("NFKC", text)
