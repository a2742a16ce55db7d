"""The inspection's freshness and blank-column rules, computed exactly from what the platform published.

Pure functions over plain data: the column list, when each column's newest live item went live,
the thresholds and the clock. Veto lines follow 国办秘函〔2019〕19号: no homepage update in
2 weeks; 5 or more stale columns (动态/要闻 idle 2 weeks, 通知公告/政策文件 idle 6 months);
10 or more columns idle for a year; 5 or more blank columns. A column with no item, or whose
items carry no publication time, counts as never updated. Warnings sit below each line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.kernel import clock
from services.oversight.vocab import ColumnCategory, Indicator, Level

DEFAULT_PROFILE = "national"
# subject -> (warn_days, veto_days)
DEFAULT_FRESHNESS: dict[str, tuple[int, int]] = {
    "homepage": (10, 14),
    ColumnCategory.DYNAMIC.value: (10, 14),
    ColumnCategory.NOTICE.value: (150, 183),
    "long_stale": (300, 365),
    # a valid 政务咨询 message without a reply: warned at two months, vetoed after three
    "unanswered": (61, 91),
}
# indicator -> (warn_at, veto_at): how many offending columns
DEFAULT_COUNTS: dict[str, tuple[int, int]] = {
    Indicator.STALE_COLUMNS.value: (3, 5),
    Indicator.LONG_STALE_COLUMNS.value: (7, 10),
    Indicator.BLANK_COLUMNS.value: (3, 5),
    # per mille of a week's homepage probes that failed: 3 % warns, 5 % vetoes
    Indicator.UNAVAILABLE.value: (30, 50),
    # broken links are a deduction in the national table, not a veto; the operator sets the line
    Indicator.BROKEN_LINKS.value: (1, 50),
    # hours a security incident may stay open: warned after 4, vetoed past the 24-hour deadline
    Indicator.SECURITY_INCIDENT_UNHANDLED.value: (4, 24),
}

_DYNAMIC_WORDS = ("动态", "要闻", "新闻", "工作信息", "时政", "头条")
_NOTICE_WORDS = ("通知", "公告", "公示", "政策", "文件", "法规")


def categorise(name: str) -> ColumnCategory:
    """A column's inspection category from its name (the names the national rules use)."""
    if any(word in name for word in _DYNAMIC_WORDS):
        return ColumnCategory.DYNAMIC
    if any(word in name for word in _NOTICE_WORDS):
        return ColumnCategory.NOTICE
    return ColumnCategory.OTHER


@dataclass(frozen=True)
class Rules:
    freshness: Mapping[str, tuple[int, int]]
    counts: Mapping[str, tuple[int, int]]

    @classmethod
    def default(cls) -> Rules:
        return cls(DEFAULT_FRESHNESS, DEFAULT_COUNTS)


@dataclass(frozen=True)
class ColumnFacts:
    column_id: int
    name: str
    kind: str
    category: ColumnCategory
    update_interval_days: int | None
    responsible_editor: str | None
    last_update: datetime | None


@dataclass(frozen=True)
class Evidence:
    column_id: int | None
    name: str
    last_update: datetime | None
    idle_days: int | None  # None: never updated
    responsible_editor: str | None = None
    url: str | None = None  # the failing address (broken links, probes)
    since: datetime | None = None  # when the problem was first seen
    detail: str | None = None


@dataclass
class Finding:
    indicator: Indicator
    level: Level
    value: int
    warn_at: int
    veto_at: int
    evidence: list[Evidence] = field(default_factory=list)


def _idle(last: datetime | None, now: datetime) -> int | None:
    return None if last is None else max(0, (now - clock.aware(last)).days)


def level_of(value: int, warn_at: int, veto_at: int) -> Level:
    if value >= veto_at:
        return Level.VETO
    return Level.WARNING if value >= warn_at else Level.OK


def _limits(column: ColumnFacts, rules: Rules) -> tuple[int, int] | None:
    """(warn, veto) idle days for a column, or None when the rules expect no rhythm of it."""
    if column.update_interval_days:
        veto = column.update_interval_days
        return max(1, veto * 7 // 10), veto
    return rules.freshness.get(column.category.value)


def score(columns: Iterable[ColumnFacts], rules: Rules, now: datetime) -> list[Finding]:
    """Every indicator of one site, with the columns that are its evidence."""
    lists = [c for c in columns if c.kind == "list"]
    last_any = max((c.last_update for c in lists if c.last_update), default=None)
    home_warn, home_veto = rules.freshness["homepage"]
    home_idle = _idle(last_any, now)
    home_value = home_idle if home_idle is not None else home_veto
    homepage = Finding(
        Indicator.HOMEPAGE_STALE,
        level_of(home_value, home_warn, home_veto),
        home_value,
        home_warn,
        home_veto,
        [Evidence(None, "首页", last_any, home_idle)],
    )
    stale: list[Evidence] = []
    nearly: list[Evidence] = []
    long_stale: list[Evidence] = []
    blank: list[Evidence] = []
    long_veto = rules.freshness["long_stale"][1]
    for column in lists:
        idle = _idle(column.last_update, now)
        evidence = Evidence(
            column.column_id, column.name, column.last_update, idle, column.responsible_editor
        )
        if idle is None:
            blank.append(evidence)
            continue
        limits = _limits(column, rules)
        if limits and idle >= limits[1]:
            stale.append(evidence)
        elif limits and idle >= limits[0]:
            nearly.append(evidence)
        if idle >= long_veto:
            long_stale.append(evidence)
    findings = [homepage]
    s_warn, s_veto = rules.counts[Indicator.STALE_COLUMNS.value]
    stale_level = level_of(len(stale), s_warn, s_veto)
    if stale_level is Level.OK and len(stale) + len(nearly) >= s_veto:
        stale_level = Level.WARNING  # not failing yet, but would within the warning window
    findings.append(Finding(Indicator.STALE_COLUMNS, stale_level, len(stale), s_warn, s_veto, stale + nearly))
    for indicator, found in ((Indicator.LONG_STALE_COLUMNS, long_stale), (Indicator.BLANK_COLUMNS, blank)):
        warn_at, veto_at = rules.counts[indicator.value]
        findings.append(
            Finding(indicator, level_of(len(found), warn_at, veto_at), len(found), warn_at, veto_at, found)
        )
    return findings
