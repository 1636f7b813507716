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
from collections.abc import Callable
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")
_SPACE = re.compile(r"\s+")
_HINT = re.compile(r"\([^()]*\)$")
_MARKS = str.maketrans("", "", "⚙*＊★")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Fold a label for comparison; idempotent: fold(fold(x)) == fold(x)."""
    return _simplified(_strip_hints(_bare(text)))


def _bare(text: str) -> str:
    """NFKC, without the marks and white space."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).translate(_MARKS))


def _strip_hints(text: str) -> str:
    """Trailing bracketed hints off, again and again ("负责人(销售)(必填)" is still 负责人), never
    down to nothing."""
    while True:
        stripped = _HINT.sub("", text)
        if stripped == text or not stripped:
            return text
        text = stripped


def _simplified(text: str) -> str:
    """Traditional characters to simplified, case folded, NFKC."""
    return unicodedata.normalize("NFKC", _T2S.convert(text).casefold())


# Joins the texts `fold_all` folds together: a private-use character, which NFKC, the marks,
# white space, t2s and casefold all leave alone and which composes with nothing.
_FOLD_JOIN = "\ue000"


def fold_all(texts: list[str]) -> list[str]:
    """`fold` of every text, each step but the hint stripping run once over them all.

    >>> fold_all(["ＡＢＣ 公司", "負責人(必填)", ""])
    ['abc公司', '负责人', '']
    """
    bare = each_joined(_bare, texts, _FOLD_JOIN)
    hinted = [_strip_hints(text) if text.endswith(")") else text for text in bare]
    return each_joined(_simplified, hinted, _FOLD_JOIN)


def each_joined(convert: Callable[[str], str], texts: list[str], joiner: str) -> list[str]:
    """`convert` of every text, run once over them all joined by `joiner` (a text that holds
    the joiner itself is converted on its own). `convert` must leave the joiner alone and map
    what is on each side of it on its own, as NFKC, t2s and casefold do for a line break or a
    private-use character.

    >>> each_joined(str.upper, ["a", "b|c", "d"], "|")
    ['A', 'B|C', 'D']
    """
    if not texts:
        return []
    joined = joiner.join(texts)
    if joined.count(joiner) == len(texts) - 1:  # no text holds the joiner: the usual case
        return convert(joined).split(joiner)
    lines = iter(each_joined(convert, [text for text in texts if joiner not in text], joiner))
    return [convert(text) if joiner in text else next(lines) for text in texts]


def to_half_width(text: str) -> str:
    """Full-width digits and punctuation to their ASCII forms (NFKC), nothing else changed."""
    return unicodedata.normalize("NFKC", text)
