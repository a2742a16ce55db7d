"""Subscription messages rendered from templates: a default one, or the site's own.

Site admins write these templates, so they run in Jinja2's sandbox (no attribute walks out of
the context) with HTML autoescaped, and a template is validated when saved: it must parse,
name only the variables below, and render against a sample with `StrictUndefined`. The signed
one-click unsubscribe link is added outside the template, so no template can drop it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import SiteMailTemplate, SubscriptionItem
from services.interaction.schemas.templates import MailTemplateIn, MailTemplateOut
from services.kernel.clock import epoch
from services.kernel.errors import ValidationFailed
from services.kernel.mail import Mail

log = logging.getLogger("jiyue.interaction.templates")

# What a template may name; `items` holds dicts with ITEM_FIELDS.
VARIABLES = frozenset({"site", "site_name", "items", "period", "digest", "unsubscribe_url"})
ITEM_FIELDS = ("title", "url", "issuer_org", "doc_no", "published_on", "important")

DEFAULT_SUBJECT = (
    "{% if digest %}{{ site_name }} 信息汇总（{{ period }}，共 {{ items|length }} 条）"
    "{% else %}{% if items[0].important %}【重要】{% endif %}{{ site_name }}：{{ items[0].title }}{% endif %}"
)
DEFAULT_TEXT = """{% if digest %}{{ site_name }} {{ period }} 发布的信息（共 {{ items|length }} 条）：
{% else %}{{ site_name }} 发布了新信息：
{% endif %}{% for item in items %}
{% if item.important %}【重要】{% endif %}{{ item.title }}
{% if item.issuer_org %}发布机构：{{ item.issuer_org }}
{% endif %}{% if item.doc_no %}文号：{{ item.doc_no }}
{% endif %}{% if item.published_on %}发布日期：{{ item.published_on }}
{% endif %}链接：{{ item.url }}
{% endfor %}"""
DEFAULT_HTML = """<p>{% if digest %}{{ site_name }} {{ period }} 发布的信息（共 {{ items|length }} 条）：\
{% else %}{{ site_name }} 发布了新信息：{% endif %}</p>
<ul>{% for item in items %}
<li><a href="{{ item.url }}">{% if item.important %}【重要】{% endif %}{{ item.title }}</a><br>
{% if item.issuer_org %}发布机构：{{ item.issuer_org }}<br>{% endif %}\
{% if item.doc_no %}文号：{{ item.doc_no }}<br>{% endif %}\
{% if item.published_on %}发布日期：{{ item.published_on }}{% endif %}</li>{% endfor %}
</ul>"""

UNSUBSCRIBE_HTML = '<p><a href="{{ u }}">退订</a>（一键，无需登录）</p>'

_text_env = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
_html_env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)

_SAMPLE_ITEM = {
    "title": "示例标题",
    "url": "https://www.jiyue.example/sites/demo/api/content/v1/items/1",
    "issuer_org": "示范市人民政府办公室",
    "doc_no": "示政办〔2026〕1号",
    "published_on": "2026-12-03",
    "important": True,
}


@dataclass(frozen=True)
class Templates:
    subject: str = DEFAULT_SUBJECT
    text: str = DEFAULT_TEXT
    html: str = DEFAULT_HTML


DEFAULT = Templates()


def _check(field: str, source: str, html: bool) -> None:
    env = _html_env if html else _text_env
    try:
        names = meta.find_undeclared_variables(env.parse(source))
    except TemplateError as exc:
        raise ValidationFailed.field(field, f"模板语法错误：{exc}") from None
    unknown = sorted(names - VARIABLES)
    if unknown:
        raise ValidationFailed.field(
            field, f"未知变量：{', '.join(unknown)}；可用：{', '.join(sorted(VARIABLES))}"
        )
    for digest in (False, True):
        sample = {
            "site": "demo",
            "site_name": "示范市人民政府",
            "items": [_SAMPLE_ITEM, {**_SAMPLE_ITEM, "doc_no": None, "important": False}],
            "period": "2026-12-03",
            "digest": digest,
            "unsubscribe_url": "https://www.jiyue.example/unsubscribe",
        }
        try:
            env.from_string(source).render(sample)
        except Exception as exc:  # the sandbox's SecurityError, undefined fields, bad filters …
            raise ValidationFailed.field(field, f"模板无法渲染：{exc}") from None


def validate(body: MailTemplateIn) -> None:
    _check("subject", body.subject, html=False)
    _check("text", body.text, html=False)
    _check("html", body.html, html=True)


def item_view(item: SubscriptionItem, url: str) -> dict[str, Any]:
    return {
        "title": item.title,
        "url": url,
        "issuer_org": item.issuer_org,
        "doc_no": item.doc_no,
        "published_on": item.published_on,
        "important": item.important,
    }


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool) -> Template:
    """Compiling costs some 20 ms a template, rendering a fraction of one: a fan-out of thousands
    of messages compiles each site's templates once (a changed template is a new key)."""
    return (_html_env if html else _text_env).from_string(source)


def _render(templates: Templates, context: dict[str, Any]) -> tuple[str, str, str]:
    subject = _compiled(templates.subject, False).render(context)
    text = _compiled(templates.text, False).render(context)
    body = _compiled(templates.html, True).render(context)
    return " ".join(subject.split())[:300], text, body


def render(
    *,
    email: str,
    site: str,
    site_name: str,
    items: list[dict[str, Any]],
    unsubscribe: str,
    templates: Templates | None = None,
    period: str = "",
) -> Mail:
    """One message (one item, or a digest when `period` is given) in plain text and HTML."""
    context = {
        "site": site,
        "site_name": site_name,
        "items": items,
        "period": period,
        "digest": bool(period),
        "unsubscribe_url": unsubscribe,
    }
    try:
        subject, text, body = _render(templates or DEFAULT, context)
    except Exception:
        # Validated on save, so this is data the sample did not foresee: the message still goes.
        log.exception("site %s: its mail template failed; the default template is used", site)
        subject, text, body = _render(DEFAULT, context)
    escaped = _compiled(UNSUBSCRIBE_HTML, True).render(u=unsubscribe)
    return Mail(
        to=(email,),
        subject=subject,
        text=f"{text.rstrip()}\n\n退订（一键，无需登录）：\n{unsubscribe}\n",
        html=f"<html><body>{body}\n{escaped}</body></html>",
        headers=one_click(unsubscribe),
    )


def one_click(unsubscribe: str) -> tuple[tuple[str, str], ...]:
    """The unsubscribe headers every subscription message carries (RFC 2369, RFC 8058)."""
    return (("List-Unsubscribe", f"<{unsubscribe}>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))


async def site_templates(session: AsyncSession, sites: set[str]) -> dict[str, Templates]:
    if not sites:
        return {}
    stmt = select(SiteMailTemplate).where(col(SiteMailTemplate.site).in_(sorted(sites)))
    return {t.site: Templates(t.subject, t.text, t.html) for t in (await session.execute(stmt)).scalars()}


def template_out(site: str, row: SiteMailTemplate | None) -> MailTemplateOut:
    if row is None:
        return MailTemplateOut(
            site=site, subject=DEFAULT_SUBJECT, text=DEFAULT_TEXT, html=DEFAULT_HTML, is_default=True
        )
    return MailTemplateOut(
        site=site,
        subject=row.subject,
        text=row.text,
        html=row.html,
        is_default=False,
        updated_at=row.updated_at,
    )


async def put_template(session: AsyncSession, site: str, body: MailTemplateIn, by: str) -> SiteMailTemplate:
    validate(body)  # before anything is written: a bad template stores nothing
    row = await session.get(SiteMailTemplate, site)
    if row is None:
        row = SiteMailTemplate(site=site, subject="", text="", html="", updated_at=0.0, updated_by=by)
        session.add(row)
    row.subject, row.text, row.html = body.subject, body.text, body.html
    row.updated_at, row.updated_by = epoch(), by
    await session.flush()
    return row


async def delete_template(session: AsyncSession, site: str) -> None:
    row = await session.get(SiteMailTemplate, site)
    if row is not None:
        await session.delete(row)
        await session.flush()
