"""The rows of the national 政府网站工作年度报表 (article 39), in the table's order.

`computed` rows come from the platform's own data; `entered` rows are what only the site knows
(filled in through the edit endpoint, audited). `kind` is the value's type: count, number,
yes (是/否) or text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["count", "number", "yes", "text"]


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    kind: Kind
    computed: bool
    unit: str | None = None


C, E = True, False
SECTIONS: list[tuple[str, str, list[Row]]] = [
    (
        "identity",
        "网站基本信息",
        [
            Row("identity.name", "网站名称", "text", C),
            Row("identity.url", "首页网址", "text", C),
            Row("identity.host_org", "主办单位", "text", C),
            Row("identity.kind", "网站类型", "text", C),
            Row("identity.id_code", "政府网站标识码", "text", C),
            Row("identity.icp_no", "ICP备案号", "text", C),
            Row("identity.psb_no", "公安机关备案号", "text", C),
        ],
    ),
    (
        "visits",
        "访问情况",
        [
            Row("visits.unique_visitors", "独立用户访问总量", "count", C, "个"),
            Row("visits.page_views", "网站总访问量", "count", C, "次"),
        ],
    ),
    (
        "published",
        "信息发布",
        [
            Row("published.total", "信息发布总数", "count", C, "条"),
            Row("published.overview", "概况类信息更新量", "count", C, "条"),
            Row("published.dynamic", "政务动态信息更新量", "count", C, "条"),
            Row("published.disclosure", "信息公开目录信息更新量", "count", C, "条"),
        ],
    ),
    (
        "special",
        "专栏专题",
        [
            Row("special.maintained", "维护数量", "count", C, "个"),
            Row("special.opened", "新开设数量", "count", C, "个"),
        ],
    ),
    (
        "interpretation",
        "解读回应",
        [
            Row("interpretation.total", "解读信息发布总数", "count", C, "条"),
            Row("interpretation.products", "解读产品数量", "count", E, "个"),
            Row("interpretation.media", "媒体评论文章数量", "count", E, "篇"),
            Row("interpretation.responses", "回应公众关注热点或重大舆情数量", "count", E, "次"),
        ],
    ),
    (
        "services",
        "办事服务",
        [
            Row("services.catalogue", "是否发布服务事项目录", "yes", E),
            Row("services.registered_users", "注册用户数", "count", E, "个"),
            Row("services.items", "政务服务事项数量", "count", E, "项"),
            Row("services.online_items", "可全程在线办理政务服务事项数量", "count", E, "项"),
            Row("services.cases", "办件量", "count", E, "件"),
        ],
    ),
    (
        "messages",
        "互动交流·留言办理",
        [
            Row("messages.received", "收到留言数量", "count", C, "条"),
            Row("messages.closed", "办结留言数量", "count", C, "条"),
            Row("messages.average_days", "平均办理时间", "number", C, "天"),
            Row("messages.published", "公开答复数量", "count", C, "条"),
        ],
    ),
    (
        "consultations",
        "互动交流·征集调查与在线访谈",
        [
            Row("consultations.rounds", "征集调查期数", "count", C, "期"),
            Row("consultations.opinions", "收到意见数量", "count", C, "条"),
            Row("consultations.results", "公布调查结果期数", "count", C, "期"),
            Row("interviews.rounds", "在线访谈期数", "count", C, "期"),
            Row("interviews.questions", "网民留言数量", "count", C, "条"),
            Row("interviews.answers", "答复网民提问数量", "count", C, "条"),
            Row("interaction.smart_qa", "是否提供智能问答功能", "yes", E),
        ],
    ),
    (
        "security",
        "安全防护",
        [
            Row("security.checks", "安全检测评估次数", "count", E, "次"),
            Row("security.problems", "发现问题数量", "count", E, "个"),
            Row("security.fixed", "问题整改数量", "count", E, "个"),
            Row("security.monitoring", "是否建立安全监测预警机制", "yes", E),
            Row("security.drills", "是否开展应急演练", "yes", E),
            Row("security.owner", "是否明确网站安全责任人", "yes", E),
        ],
    ),
    (
        "new_media",
        "移动新媒体",
        [
            Row("new_media.present", "是否有移动新媒体", "yes", E),
            Row("new_media.weibo_name", "微博名称", "text", E),
            Row("new_media.weibo_posts", "微博信息发布量", "count", E, "条"),
            Row("new_media.weibo_followers", "微博关注量", "count", E, "个"),
            Row("new_media.wechat_name", "微信名称", "text", E),
            Row("new_media.wechat_posts", "微信信息发布量", "count", E, "条"),
            Row("new_media.wechat_subscribers", "微信订阅数", "count", E, "个"),
            Row("new_media.other", "其他", "text", E),
        ],
    ),
    (
        "innovation",
        "创新发展",
        [
            Row("innovation.search_service", "搜索即服务", "yes", E),
            Row("innovation.languages", "多语言版本", "yes", E),
            Row("innovation.accessibility", "无障碍浏览", "yes", E),
            Row("innovation.personalised", "千人千网", "yes", E),
            Row("innovation.other", "其他", "text", E),
        ],
    ),
]
ROWS: dict[str, Row] = {row.key: row for _, _, rows in SECTIONS for row in rows}
ENTERED = frozenset(k for k, r in ROWS.items() if not r.computed)
