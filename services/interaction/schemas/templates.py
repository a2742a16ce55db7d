"""A site's templates of subscription messages (Jinja2, sandboxed)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MailTemplateIn(BaseModel):
    subject: str = Field(min_length=1, max_length=500, description="主题模板（单行）")
    text: str = Field(min_length=1, max_length=20000, description="纯文本正文模板")
    html: str = Field(min_length=1, max_length=40000, description="HTML 正文模板（自动转义）")


class MailTemplateOut(BaseModel):
    site: str
    subject: str
    text: str
    html: str
    is_default: bool = Field(description="本站未设置自有模板时为默认模板")
    updated_at: float | None = None
