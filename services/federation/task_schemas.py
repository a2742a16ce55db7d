"""Requests and answers of the peer API for re-publication tasks (转载) a peer pushes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.kernel.params import MAX_ID

_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"


class PeerTaskIn(BaseModel):
    site: str = Field(min_length=1, max_length=64, pattern=_CODE, description="本平台接收转载的站点")
    column_id: int = Field(ge=1, le=MAX_ID, description="该站点接收转载的栏目")
    source_site: str = Field(min_length=1, max_length=64, pattern=_CODE, description="对方平台的来源站点")
    publication_id: int = Field(ge=1, le=MAX_ID, description="对方平台公开信息的编号")


class PeerTaskOut(BaseModel):
    task_id: int = Field(description="本平台的转载任务")
    remote_item_id: int
    created: bool = Field(description="false：同一信息已推送过，回答原任务")
    site: str
    column_id: int
