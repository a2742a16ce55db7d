"""The fictional city 示范市: its organisations and sites, shared by every demo step."""

from __future__ import annotations

from dataclasses import dataclass, field

CITY_DIVISION = "990100"  # fictional administrative division code


@dataclass(frozen=True)
class DemoSite:
    code: str
    name: str
    kind: str  # portal | department
    org_code: str
    org_name: str
    parent: str | None
    domains: tuple[str, ...]
    id_code: str  # 网站标识码
    extra: dict[str, str] = field(default_factory=dict)


PORTAL = DemoSite(
    "sfs",
    "示范市人民政府",
    "portal",
    "sfs",
    "示范市人民政府办公室",
    None,
    ("www.sfs.gov.cn", "sfs.gov.cn", "示范市.政务"),
    f"{CITY_DIVISION}0001",
)

DISTRICTS = (
    DemoSite(
        "dcq",
        "示范市东城区人民政府",
        "portal",
        "dcq",
        "东城区人民政府办公室",
        "sfs",
        ("www.dcq.sfs.gov.cn",),
        "9901010001",
    ),
    DemoSite(
        "xcq",
        "示范市西城区人民政府",
        "portal",
        "xcq",
        "西城区人民政府办公室",
        "sfs",
        ("www.xcq.sfs.gov.cn",),
        "9901020001",
    ),
    DemoSite(
        "nhx",
        "南湖县人民政府",
        "portal",
        "nhx",
        "南湖县人民政府办公室",
        "sfs",
        ("www.nhx.sfs.gov.cn",),
        "9901210001",
    ),
)

_DEPARTMENTS = (
    ("fgw", "示范市发展和改革委员会"),
    ("jyj", "示范市教育局"),
    ("gaj", "示范市公安局"),
    ("mzj", "示范市民政局"),
    ("czj", "示范市财政局"),
    ("rsj", "示范市人力资源和社会保障局"),
    ("zrzyj", "示范市自然资源局"),
    ("sthjj", "示范市生态环境局"),
    ("zjj", "示范市住房和城乡建设局"),
    ("jtj", "示范市交通运输局"),
    ("wjw", "示范市卫生健康委员会"),
    ("ybj", "示范市医疗保障局"),
)

DEPARTMENTS = tuple(
    DemoSite(code, name, "department", code, name, "sfs", (f"{code}.sfs.gov.cn",), f"bm{99010000 + i:08d}")
    for i, (code, name) in enumerate(_DEPARTMENTS, start=1)
)

SITES: tuple[DemoSite, ...] = (PORTAL, *DISTRICTS, *DEPARTMENTS)

# The standard column set every site gets (name, kind, code).
STANDARD_COLUMNS = (
    ("机构概况", "single", "jggk"),
    ("政策文件", "list", "zcwj"),
    ("政策解读", "list", "zcjd"),
    ("通知公告", "list", "tzgg"),
    ("政务动态", "list", "zwdt"),
    ("人事信息", "list", "rsxx"),
    ("规划计划", "list", "ghjh"),
    ("统计数据", "list", "tjsj"),
    ("办事服务", "link", "bsfw"),
    ("互动交流", "link", "hdjl"),
)
