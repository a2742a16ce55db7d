"""Fictional government prose for the demo city, generated deterministically.

Templates × topics × departments × dates with a fixed random seed: the same run gives the same
articles, so seeding stays idempotent (titles are the identity of an article in its column).
Everything here is invented for 示范市; nothing is copied from real documents.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from gateway.demo.city import DemoSite

YEAR = 2026

# (topic code of the library vocabulary, subject phrase, measures)
SUBJECTS = (
    (
        "gongye",
        "优化城市交通出行环境",
        ("加密早晚高峰公交班次", "推进老旧路口渠化改造", "完善非机动车停放设施"),
    ),
    ("keji", "推进义务教育优质均衡发展", ("扩大优质学位供给", "深化集团化办学", "加强乡村教师队伍建设")),
    (
        "weisheng",
        "提升基层医疗卫生服务能力",
        ("推进家庭医生签约服务", "完善分级诊疗制度", "加强社区卫生服务中心建设"),
    ),
    ("minzheng", "完善养老服务体系", ("发展社区嵌入式养老", "推进老年助餐服务", "加强特困人员兜底保障")),
    ("laodong", "稳就业促增收", ("支持高校毕业生就业创业", "开展职业技能提升行动", "加强零工市场建设")),
    (
        "chengxiang",
        "推进城市更新和老旧小区改造",
        ("完善小区基础设施", "增设电梯和停车设施", "健全长效管理机制"),
    ),
    (
        "chengxiang",
        "深入打好污染防治攻坚战",
        ("持续改善空气质量", "加强河湖水环境治理", "推进土壤污染源头防控"),
    ),
    ("caizheng", "加强预算绩效管理", ("完善绩效目标管理", "强化绩效运行监控", "推进绩效结果应用")),
    ("shichang", "优化营商环境", ("推行涉企事项一网通办", "压减审批时限", "规范涉企检查")),
    ("nongye", "推进乡村全面振兴", ("发展特色农业产业", "改善农村人居环境", "加强高标准农田建设")),
)
MEETINGS = ("党组（扩大）会议", "专题工作推进会", "年度工作务虚会", "安全生产工作会议", "政务公开工作培训会")
PLACES = ("东城区", "西城区", "南湖县", "滨江新区", "高新区")
STAT_AREAS = (
    "规模以上工业增加值",
    "社会消费品零售总额",
    "固定资产投资",
    "城镇居民人均可支配收入",
    "一般公共预算收入",
)


@dataclass
class Article:
    column: str  # a STANDARD_COLUMNS name
    genre: str  # the library's genre code
    title: str
    paragraphs: list[str]
    written_at: date
    topic: str | None = None
    doc_no: str | None = None
    keywords: list[str] = field(default_factory=list)
    important: bool = False
    interprets: str | None = None  # title of the policy an interpretation explains

    def body_html(self) -> str:
        return "".join(f"<p>{p}</p>" for p in self.paragraphs)

    def metadata(self, site: DemoSite, policy_ids: dict[str, int]) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "title": self.title,
            "issuer_org": {"code": site.org_code, "name": site.org_name},
            "genre": self.genre,
            "written_at": self.written_at.isoformat(),
            "published_at": self.written_at.isoformat(),
            "keywords": self.keywords,
            "abstract": self.paragraphs[0][:120],
            "source": site.org_name,
        }
        if self.topic:
            meta["topic"] = self.topic
        if self.doc_no:
            meta["doc_no"] = self.doc_no
        if self.interprets and self.interprets in policy_ids:
            meta["relations"] = [{"type": "interpretation-of", "resource_id": policy_ids[self.interprets]}]
        return meta


def _abbr(site: DemoSite) -> str:
    """The issuing prefix in a 文号: 示政发 for the city, 示交发 for the transport bureau..."""
    if site.kind == "portal":
        return "示政发" if site.parent is None else f"{site.name[3:5]}政发"
    return "示" + site.name[3:4] + "发"


def _day(rng: random.Random) -> date:
    return date(YEAR, 1, 5) + timedelta(days=rng.randrange(0, 320))


def articles_for(site: DemoSite, index: int) -> list[Article]:
    """Thirteen articles for one site: notices, policies with interpretations, news and more."""
    rng = random.Random(f"jiyue-demo-{site.code}")
    org = site.org_name
    out: list[Article] = []
    subjects = rng.sample(SUBJECTS, 4)
    for n, (topic, subject, measures) in enumerate(subjects[:2], start=1):
        number = 10 + index * 3 + n
        policy_title = f"{site.name}关于{subject}的实施意见"
        written = _day(rng)
        out.append(
            Article(
                column="政策文件",
                genre="zhengce",
                title=policy_title,
                doc_no=f"{_abbr(site)}〔{YEAR}〕{number}号",
                topic=topic,
                keywords=[subject[:4], "实施意见"],
                written_at=written,
                paragraphs=[
                    f"为深入贯彻落实上级决策部署，进一步{subject}，结合本地实际，现提出如下实施意见。",
                    f"一、总体要求。坚持以人民为中心的发展思想，到{YEAR + 2}年，{subject}取得明显成效，群众获得感持续增强。",
                    "二、重点任务。"
                    + "；".join(f"（{i}）{m}" for i, m in enumerate(measures, start=1))
                    + "。",
                    f"三、保障措施。各有关单位要加强组织领导，明确责任分工，强化督促检查，确保各项任务落到实处。本意见自印发之日起施行，由{org}负责解释。",
                ],
            )
        )
        out.append(
            Article(
                column="政策解读",
                genre="jiedu",
                title=f"《{policy_title}》政策解读",
                topic=topic,
                keywords=[subject[:4], "政策解读"],
                written_at=written + timedelta(days=1),
                interprets=policy_title,
                paragraphs=[
                    f"近日，{site.name}印发《{policy_title}》（以下简称《实施意见》）。现就有关内容解读如下。",
                    f"一、出台背景。{subject}事关群众切身利益，是本年度重点民生工作之一。",
                    f"二、主要内容。《实施意见》围绕{measures[0]}、{measures[1]}和{measures[2]}三个方面提出了具体举措。",
                    "三、政策咨询。市民如有疑问，可通过本网站“互动交流”栏目或拨打 12345 政务服务便民热线咨询。",
                ],
            )
        )
    for n in range(3):
        _, subject, measures = subjects[2 + n % 2]
        written = _day(rng)
        out.append(
            Article(
                column="通知公告",
                genre="tongzhi",
                title=f"关于开展{subject}专项工作的通知（{YEAR}年第{index * 3 + n + 1}号）",
                keywords=["通知", subject[:4]],
                written_at=written,
                important=site.parent is None and n == 0,
                paragraphs=[
                    f"各有关单位：为{subject}，经研究，决定于{written.month}月至{min(12, written.month + 2)}月开展专项工作。现将有关事项通知如下。",
                    f"一、工作内容。重点做好{measures[n % 3]}等工作，建立工作台账，逐项销号管理。",
                    f"二、工作要求。请各单位于{written.month}月底前将工作方案报送{org}，联系人及方式另行通知。",
                    f"{org}\n{written.year}年{written.month}月{written.day}日",
                ],
            )
        )
    for n in range(3):
        meeting = MEETINGS[(index + n) % len(MEETINGS)]
        place = PLACES[(index + n) % len(PLACES)]
        written = _day(rng)
        out.append(
            Article(
                column="政务动态",
                genre="dongtai",
                title=f"{org}召开{meeting}（{written.month}月{written.day}日）",
                keywords=["政务动态", meeting[:4]],
                written_at=written,
                paragraphs=[
                    f"{written.month}月{written.day}日，{org}召开{meeting}，传达学习上级有关会议精神，研究部署下一阶段重点工作。",
                    f"会议指出，要聚焦年度目标任务，扎实推进各项工作，特别是在{place}的试点工作要尽快形成可复制、可推广的经验。",
                    "会议强调，要坚持问题导向，加强统筹协调，以钉钉子精神抓好工作落实。",
                ],
            )
        )
    written = _day(rng)
    out.append(
        Article(
            column="人事信息",
            genre="renshi",
            title=f"{org}{YEAR}年公开招聘事业单位工作人员公告",
            keywords=["招聘", "事业单位"],
            written_at=written,
            paragraphs=[
                f"根据事业单位公开招聘有关规定，经研究，{org}所属事业单位{YEAR}年面向社会公开招聘工作人员{rng.randint(3, 12)}名。",
                "一、招聘原则。坚持德才兼备的用人标准，贯彻公开、平等、竞争、择优的原则。",
                "二、报名方式。本次招聘采取网上报名方式，具体岗位及条件详见附件。",
            ],
        )
    )
    written = _day(rng)
    out.append(
        Article(
            column="规划计划",
            genre="guihua",
            title=f"{org}{YEAR}年工作要点",
            keywords=["工作要点", str(YEAR)],
            written_at=written,
            paragraphs=[
                f"{YEAR}年是实施“十五五”规划的开局之年。{org}将围绕中心、服务大局，重点抓好以下工作。",
                "一、" + "；二、".join(m for _, _, ms in subjects[:2] for m in ms[:2]) + "。",
                "三、加强自身建设，持续提升依法行政和政务服务水平。",
            ],
        )
    )
    month = rng.randint(1, 10)
    area = STAT_AREAS[index % len(STAT_AREAS)]
    growth = rng.randint(21, 79) / 10
    out.append(
        Article(
            column="统计数据",
            genre="tongji",
            title=f"{YEAR}年1—{month}月{area}情况（{site.name}）",
            keywords=["统计数据", area],
            written_at=date(YEAR, month + 1, 15),
            paragraphs=[
                f"{YEAR}年1—{month}月，{area}同比增长{growth}%，增速比上年同期提高{rng.randint(1, 9) / 10}个百分点。",
                "从主要指标看，总体保持平稳向好态势，结构持续优化。",
                "注：本数据为初步统计数，最终数据以年度统计公报为准。",
            ],
        )
    )
    return out
