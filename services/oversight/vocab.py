"""The oversight service's closed vocabularies."""

from __future__ import annotations

from enum import StrEnum


class ColumnCategory(StrEnum):
    """How often the inspection expects a column to be updated (国办秘函〔2019〕19号)."""

    DYNAMIC = "dynamic"  # 动态、要闻: within 2 weeks
    NOTICE = "notice"  # 通知公告、政策文件: within 6 months
    OTHER = "other"  # the column's own expected interval, when it declares one


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"  # below the veto line: time to act
    VETO = "veto"  # 单项否决: the site fails the inspection on this item


class Indicator(StrEnum):
    HOMEPAGE_STALE = "homepage_stale"
    STALE_COLUMNS = "stale_columns"
    LONG_STALE_COLUMNS = "long_stale_columns"
    BLANK_COLUMNS = "blank_columns"
    UNAVAILABLE = "unavailable"  # failed homepage probes over the last week, per mille
    UNANSWERED_MESSAGES = "unanswered_messages"  # the oldest valid consultation without a reply, days
    BROKEN_LINKS = "broken_links"  # links and attachments of live items that do not answer
    # the oldest security incident (tampering, defacement, …) still not handled, in hours
    SECURITY_INCIDENT_UNHANDLED = "security_incident_unhandled"


class IncidentKind(StrEnum):
    TAMPERING = "tampering"  # 内容被篡改
    DEFACEMENT = "defacement"  # 页面被挂马、被涂改
    DARK_LINKS = "dark_links"  # 暗链
    DATA_LEAK = "data_leak"  # 数据泄露
    OTHER = "other"


class IncidentSource(StrEnum):
    REVIEW = "review"  # machine review found it on stored content
    OPERATOR = "operator"  # an operator or site administrator recorded it


class PageKind(StrEnum):
    """What a delivered page was, as counted in the daily statistics."""

    SITE = "site"
    COLUMN = "column"
    ITEM = "item"
    SEARCH = "search"
    OTHER = "other"


# Marks the availability probe's own request, so the visit statistics do not count it.
PROBE_QUERY = "probe=availability"
