"""The keys of the Settings tab's key/value rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .base import Choices, Kind, Lang, _l
from .choices import AMOUNT_UNIT, LANGUAGE


@dataclass(frozen=True, eq=False)
class Setting:
    """One key of the Settings tab's key/value table."""

    key: str
    labels: dict[Lang, str]
    kind: Kind
    default: str
    aliases: tuple[str, ...] = ()
    choices: Choices | None = None
    minimum: float | None = None
    maximum: float | None = None
    help: dict[Lang, str] = field(default_factory=dict)

    def spellings(self) -> Iterator[str]:
        yield self.key
        yield from self.labels.values()
        yield from self.aliases


SETTING_KEYS: tuple[Setting, ...] = (
    Setting(
        "language",
        _l("语言", "語言", "Language"),
        Kind.ENUM,
        "",
        ("界面语言", "lang"),
        choices=LANGUAGE,
        help=_l(
            "消息和问题清单使用的语言；留空则按表头自动判断。",
            "訊息和問題清單使用的語言；留空則按表頭自動判斷。",
            "Language of messages and the Issues tab; blank: detected from the headers.",
        ),
    ),
    Setting(
        "amount_unit",
        _l("金额单位", "金額單位", "Amount unit"),
        Kind.ENUM,
        "yuan",
        ("货币单位", "金额单位(元/万元)", "currency unit", "unit"),
        choices=AMOUNT_UNIT,
        help=_l(
            "金额列的单位：元 或 万元。",
            "金額欄的單位：元 或 萬元。",
            "Unit of every amount column: 元 (yuan) or 万元 (10k yuan).",
        ),
    ),
    Setting(
        "timezone",
        _l("时区", "時區", "Time zone"),
        Kind.TEXT,
        "Asia/Shanghai",
        ("time zone", "tz"),
        help=_l(
            "“现在”所在的时区（IANA 名称）。",
            "「現在」所在的時區（IANA 名稱）。",
            "IANA time zone of “now”.",
        ),
    ),
    Setting(
        "calendar_region",
        _l("日历地区", "日曆地區", "Calendar region"),
        Kind.TEXT,
        "CN",
        ("节假日地区", "地区日历", "holiday region", "region"),
        help=_l(
            "法定节假日与调休所依据的地区（CN、TW、HK…）。",
            "法定假日與補班所依據的地區（CN、TW、HK…）。",
            "Region whose official holidays and makeup days count (CN, TW, HK …).",
        ),
    ),
    Setting(
        "business_hours",
        _l("工作时间", "工作時間", "Business hours"),
        Kind.TEXT,
        "09:00-18:00",
        ("上班时间", "营业时间", "office hours", "working hours"),
        help=_l(
            "“工作小时”时限只在工作日的这段时间内计时。",
            "「工作小時」時限只在工作日的這段時間內計時。",
            "Working-hour SLA limits count only inside these hours on working days.",
        ),
    ),
    Setting(
        "extra_holidays",
        _l("额外放假日", "額外放假日", "Extra holidays"),
        Kind.TEXT,
        "",
        ("公司假日", "额外假日", "company holidays"),
        help=_l(
            "公司自己的放假日，优先于法定日历；多个用逗号分隔，区间写成 2026-12-24~2026-12-26。",
            "公司自己的放假日，優先於法定日曆；多個用逗號分隔，區間寫成 2026-12-24~2026-12-26。",
            "Company days off that win over the official calendar; separate with commas, "
            "ranges as 2026-12-24~2026-12-26.",
        ),
    ),
    Setting(
        "extra_workdays",
        _l("额外上班日", "額外上班日", "Extra working days"),
        Kind.TEXT,
        "",
        ("公司上班日", "额外工作日", "extra workdays", "company working days"),
        help=_l(
            "公司自己的上班日（例如周末加班），优先于法定日历；写法同上。",
            "公司自己的上班日（例如週末加班），優先於法定日曆；寫法同上。",
            "Company working days (a weekend worked, say) that win over the official calendar.",
        ),
    ),
    Setting(
        "bant_a_min_yes",
        _l("A类最少是数", "A類最少是數", "BANT A: yes answers"),
        Kind.INTEGER,
        "4",
        ("a类标准",),
        minimum=0,
        maximum=4,
        help=_l(
            "BANT 四项中至少几项为“是”算 A 类。",
            "BANT 四項中至少幾項為「是」算 A 類。",
            "Fewest yes answers of the four BANT questions for class A.",
        ),
    ),
    Setting(
        "bant_b_min_yes",
        _l("B类最少是数", "B類最少是數", "BANT B: yes answers"),
        Kind.INTEGER,
        "2",
        ("b类标准",),
        minimum=0,
        maximum=4,
        help=_l(
            "至少几项为“是”算 B 类（更少为 C 类）。",
            "至少幾項為「是」算 B 類（更少為 C 類）。",
            "Fewest yes answers for class B (fewer is C).",
        ),
    ),
)
