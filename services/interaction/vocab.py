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
    REPLIED = "letter.replied"
    OVERDUE = "letter.overdue"
    RATED = "letter.rated"


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
