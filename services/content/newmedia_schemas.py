"""Inputs and answers of the new-media account registry and its push tasks (articles 17, 42)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.content.vocab import AccountStatus, NewMediaPlatform, NewMediaTaskState
from services.kernel.clock import WireDateTime


class AccountCreate(BaseModel):
    platform: NewMediaPlatform
    account_name: str = Field(min_length=1, max_length=200)
    filing_no: str = Field(min_length=1, max_length=64, description="政务新媒体备案编号（第十七条）")
    endpoint: str = Field(min_length=1, max_length=1000, description="平台连接器接收推送的 http(s) 地址")
    secret: str | None = Field(None, min_length=16, max_length=200, description="不填则由平台生成")
    status: AccountStatus = AccountStatus.ACTIVE


class AccountUpdate(BaseModel):
    account_name: str | None = Field(None, min_length=1, max_length=200)
    filing_no: str | None = Field(None, min_length=1, max_length=64)
    endpoint: str | None = Field(None, min_length=1, max_length=1000)
    status: AccountStatus | None = None


class AccountOut(BaseModel):
    id: int
    site: str
    platform: NewMediaPlatform
    account_name: str
    filing_no: str
    status: AccountStatus
    endpoint: str
    created_at: WireDateTime | None
    updated_at: WireDateTime | None


class AccountCreatedOut(AccountOut):
    secret: str = Field(description="签名密钥，仅在创建时返回一次")


class PushTaskOut(BaseModel):
    id: int
    account_id: int
    site: str
    publication_id: int
    state: NewMediaTaskState
    attempts: int
    last_error: str
    next_attempt_at: WireDateTime | None
    created_at: WireDateTime | None
    delivered_at: WireDateTime | None
