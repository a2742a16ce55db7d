"""Requests and answers of the internal endpoints federation calls for a peer's items."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from services.kernel.params import MAX_ID

_PEER = r"^[a-z0-9][a-z0-9_-]*$"


class RemoteTarget(BaseModel):
    """Where a peer asked for its item to be re-published (a task it pushed, not a subscription)."""

    site: str = Field(min_length=1, max_length=64, description="本平台站点代码")
    column_id: int = Field(ge=1, le=MAX_ID, description="该站点接收转载的栏目")


class RemoteItemIn(BaseModel):
    peer: str = Field(min_length=1, max_length=64, pattern=_PEER, description="来源平台代码")
    site: str = Field(min_length=1, max_length=64, description="来源站点代码")
    column_id: int = Field(ge=1, le=MAX_ID)
    publication_id: int = Field(ge=1, le=MAX_ID)
    title: str = Field(min_length=1, max_length=500)
    body_html: str = Field(max_length=4_000_000)
    metadata: dict[str, Any] = Field(default_factory=dict)
    index_no: str | None = Field(None, max_length=64)
    attachments: list[dict[str, Any]] = Field(default_factory=list, max_length=500)
    resource_id: int | None = Field(None, ge=1, le=MAX_ID)
    resource_version: int | None = Field(None, ge=1, le=MAX_ID)
    url: str = Field(min_length=1, max_length=1000, description="来源页面的完整地址")
    published_at: AwareDatetime
    target: RemoteTarget | None = Field(None, description="互联平台推送的转载任务：指定站点与栏目")


class RemoteItemOut(BaseModel):
    kept: bool = Field(description="false：本平台没有栏目订阅该来源栏目，未保留")
    remote_item_id: int | None
    tasks_created: int
    task_id: int | None = Field(None, description="推送的转载任务（target 给出时）")


class RemoteWithdrawIn(BaseModel):
    peer: str = Field(min_length=1, max_length=64, pattern=_PEER)
    publication_id: int = Field(ge=1, le=MAX_ID)


class RemoteWithdrawOut(BaseModel):
    tasks_cancelled: int
    copies_withdrawn: list[int]
