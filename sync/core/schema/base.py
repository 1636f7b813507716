"""The building blocks of the schema: languages, kinds of value, ownership, and the records
that describe choices, fields, tables and the schema itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class Lang(StrEnum):
    ZH_HANS = "zh-Hans"
    ZH_HANT = "zh-Hant"
    EN = "en"


LANGS: tuple[Lang, ...] = (Lang.ZH_HANS, Lang.ZH_HANT, Lang.EN)


class Kind(StrEnum):
    """What a cell of a field holds once parsed."""

    TEXT = "text"  # free text, numbers rendered without a trailing .0
    ID = "id"  # an identifier: text, trimmed, compared exactly
    PHONE = "phone"  # phone number or e-mail: text, leading zeros kept
    DATE = "date"  # a calendar day
    DATETIME = "datetime"  # a moment; a bare date means its midnight
    NUMBER = "number"  # a plain quantity
    AMOUNT = "amount"  # money in the workbook's unit (元 or 万元); 50万 is understood
    PERCENT = "percent"  # a ratio: 85%, 0.85 and 85 all mean 0.85
    INTEGER = "integer"  # a whole count
    BOOL = "bool"  # 是/否, Y/N, ✓/✗, TRUE/FALSE
    ENUM = "enum"  # one of the field's choices, through any alias
    PERIOD = "period"  # a month (2026-07) or a quarter (2026Q3)


class Owner(StrEnum):
    """Who writes a column or a tab."""

    USER = "user"  # the users' own data: the job never writes it
    JOB = "job"  # computed: the job (re)writes it on every run
    JOB_IF_BLANK = "job_if_blank"  # entered by users, filled by the job only where blank


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}


def labels(zh_hans: str, zh_hant: str, en: str) -> dict[Lang, str]:
    return {Lang.ZH_HANS: zh_hans, Lang.ZH_HANT: zh_hant, Lang.EN: en}


@dataclass(frozen=True, eq=False)
class Choice:
    """One allowed value of an enumeration, with its labels and the other ways people write it."""

    key: str
    labels: dict[Lang, str]
    aliases: tuple[str, ...] = ()

    def spellings(self) -> Iterator[str]:
        yield self.key
        yield from self.labels.values()
        yield from self.aliases


@dataclass(frozen=True, eq=False)
class Choices:
    """An enumeration. `detail_separator`: text after it is a free detail ("展会-行业展")."""

    name: str
    choices: tuple[Choice, ...]
    detail_separator: str | None = None

    def choice(self, key: str) -> Choice:
        for choice in self.choices:
            if choice.key == key:
                return choice
        raise KeyError(key)

    def label(self, key: str, lang: Lang) -> str:
        return self.choice(key).labels[lang]


@dataclass(frozen=True, eq=False)
class Field:
    name: str
    kind: Kind
    headers: dict[Lang, str]
    aliases: tuple[str, ...] = ()
    required: bool = False
    unique: bool = False
    choices: Choices | None = None
    owner: Owner = Owner.USER
    references: tuple[str, str] | None = None  # (table, field) the value must exist in
    reference_severity: Severity = Severity.ERROR
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""

    @property
    def owned(self) -> bool:
        return self.owner is not Owner.USER

    def header(self, lang: Lang) -> str:
        """The header a template or the job writes; owned columns carry a visible ⚙ mark."""
        text = self.headers[lang]
        return f"⚙ {text}" if self.owner is Owner.JOB else text

    def spellings(self) -> Iterator[str]:
        yield self.name
        yield from self.headers.values()
        yield from self.aliases


@dataclass(frozen=True, eq=False)
class Order:
    """`earlier` must not come after `later` in the same row (when both are filled)."""

    earlier: str
    later: str
    severity: Severity = Severity.ERROR


@dataclass(frozen=True, eq=False)
class Table:
    name: str
    titles: dict[Lang, str]
    fields: tuple[Field, ...]
    aliases: tuple[str, ...] = ()
    owner: Owner = Owner.USER
    orders: tuple[Order, ...] = ()
    row_label: str = ""  # the field that names a row in messages (its id)
    help: str = ""
    # Generic labels that could mean several fields: reported as ambiguous, never guessed.
    vague: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # A small table kept inside another table's tab (the SLA rules below the key/value rows of
    # Settings): found by its own header row anywhere in that tab.
    section_of: str | None = None
    _by_name: dict[str, Field] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for f in self.fields:
            self._by_name[f.name] = f

    def field(self, name: str) -> Field:
        return self._by_name[name]

    def has(self, name: str) -> bool:
        return name in self._by_name

    @property
    def owned(self) -> bool:
        return self.owner is Owner.JOB

    def spellings(self) -> Iterator[str]:
        yield self.name
        yield from self.titles.values()
        yield from self.aliases

    def title(self, lang: Lang) -> str:
        return self.titles[lang]


@dataclass(frozen=True, eq=False)
class Schema:
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def data_tables(self) -> tuple[Table, ...]:
        """Tables with a tab of their own that users fill (sections excluded)."""
        return tuple(t for t in self.tables if not t.owned and t.section_of is None)

    def sections(self, parent: str) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if t.section_of == parent)

    @property
    def owned_tables(self) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if t.owned)


_l = labels
