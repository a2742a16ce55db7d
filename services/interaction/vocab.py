"""The closed vocabularies of 互动交流."""

from __future__ import annotations

from enum import StrEnum


class LetterKind(StrEnum):
    LEADER = "leader"  # 领导信箱
    CONSULTATION = "consultation"  # 咨询
    COMPLAINT = "complaint"  # 投诉
    SUGGESTION = "suggestion"  # 建议
    HELP = "help"  # 求助


class LetterStatus(StrEnum):
    RECEIVED = "received"
    SCREENED_OUT = "screened_out"  # machine review blocked it; no person sees it
    ACCEPTED = "accepted"
    REFUSED = "refused"
    ASSIGNED = "assigned"
    REPLIED = "replied"
    PUBLISHED = "published"


class Complexity(StrEnum):
    ORDINARY = "ordinary"
    COMPLEX = "complex"


class DeadlineState(StrEnum):
    SCHEDULED = "scheduled"
    DEADLINE_UNKNOWN = "deadline_unknown"
    MET = "met"  # replied (or closed by refusal): the clock no longer runs


class LetterAction(StrEnum):
    RECEIVED = "received"
    SCREENED_OUT = "screened_out"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    ASSIGNED = "assigned"
    TRANSFERRED = "transferred"
    REPLIED = "replied"
    PUBLISHED = "published"
    RATED = "rated"
    REMINDED = "reminded"
    OVERDUE = "overdue"
    DEADLINE_MOVED = "deadline_moved"


class RatingLevel(StrEnum):
    VERY_SATISFIED = "非常满意"
    SATISFIED = "满意"
    BASIC = "基本满意"
    UNSATISFIED = "不满意"
    VERY_UNSATISFIED = "非常不满意"


class Topic(StrEnum):
    RECEIVED = "letter.received"
    ACCEPTED = "letter.accepted"
    REFUSED = "letter.refused"
    REPLIED = "letter.replied"
    PUBLISHED = "letter.published"
    OVERDUE = "letter.overdue"
    RATED = "letter.rated"
    REPORT_RECEIVED = "report.received"
    REPORT_REPLIED = "report.replied"
    REPORT_OVERDUE = "report.overdue"
    RATING_RECEIVED = "rating.received"
    RECTIFICATION_OVERDUE = "rectification.overdue"


class ReportKind(StrEnum):
    BROKEN_LINK = "broken_link"  # 链接错误
    WRONG_CONTENT = "wrong_content"  # 内容错误
    UNUSABLE_SERVICE = "unusable_service"  # 服务不可用
    OTHER = "other"


class ReportStatus(StrEnum):
    RECEIVED = "received"
    ANSWERED = "answered"


class RatingTarget(StrEnum):
    REPLY = "reply"  # a letter's reply (rated by its writer)
    SERVICE = "service"  # an online service of the site
    PAGE = "page"  # a page the platform delivers


class RectificationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


# 好差评 evaluation items (after the national 政务服务“好差评” scheme's second-level items):
# what a rater may tick; the good ones for 满意 and above, the bad ones otherwise.
GOOD_ITEMS = ("服务态度好", "办事效率高", "流程简便", "信息准确", "答复清楚", "问题已解决")
BAD_ITEMS = ("服务态度差", "办事效率低", "流程繁琐", "信息不准确", "答复不清楚", "问题未解决", "推诿扯皮")
BAD_LEVELS = (RatingLevel.UNSATISFIED, RatingLevel.VERY_UNSATISFIED)
RECTIFICATION_DAYS = 15
REPORT_DAYS = 3


LEADER_RECIPIENT = "leader"

DEFAULT_REFUSAL_REASONS: dict[str, str] = {
    "litigation": "已进入诉讼、仲裁等法定程序",
    "petition": "属于信访事项，请通过信访渠道反映",
    "duplicate": "重复来信",
    "out_of_remit": "不属于本单位职责范围",
}
DEFAULT_DEADLINE_DAYS: dict[Complexity, int] = {Complexity.ORDINARY: 3, Complexity.COMPLEX: 10}
# The State Council's inspection counts a message unanswered after three months (calendar).
INSPECTION_MONTHS = 3


class Rhythm(StrEnum):
    """How often a subscriber hears of new items: each at once, or one digest a day or a week."""

    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


class SubscriptionTarget(StrEnum):
    """What a subscription follows: a column, the site, a 主题分类 or 体裁 code, keywords, or
    the state of the subscriber's own letters."""

    COLUMN = "column"
    SITE = "site"
    TOPIC = "topic"
    GENRE = "genre"
    KEYWORDS = "keywords"
    LETTERS = "letters"


class SubscriptionStatus(StrEnum):
    PENDING = "pending"  # waiting for the confirmation link (double opt-in)
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    SUSPENDED = "suspended"  # the address bounced permanently too often; nothing is sent


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by one sender until its lease runs out
    SENT = "sent"
    DEAD = "dead"  # gave up after the configured number of attempts
    CANCELLED = "cancelled"  # the subscriber left before it went out
    COLLECTED = "collected"  # a digest subscriber's item, waiting for its period to close
    DIGESTED = "digested"  # assembled into a digest (the digest row carries the sending state)
