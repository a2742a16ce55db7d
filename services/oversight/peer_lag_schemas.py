"""Requests and answers of the peer-lag alerts (federation reports, operators read)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.kernel.clock import WireDateTime


class PeerLagReport(BaseModel):
    late: bool = Field(description="true：订阅该互联平台的变更已超过告警时长；false：已追上")
    lag_seconds: float = Field(ge=0, le=10**9)
    detail: str = Field("", max_length=500, description="最近一次失败的原因")


class PeerLagAlertOut(BaseModel):
    id: int
    peer: str
    lag_seconds: float
    detail: str
    raised_at: WireDateTime
    updated_at: WireDateTime
    resolved_at: WireDateTime | None


class PeerLagAlertList(BaseModel):
    total: int
    items: list[PeerLagAlertOut]


class PeerLagStateOut(BaseModel):
    peer: str
    alert: PeerLagAlertOut | None = Field(description="未关闭的告警；已追上时为空")
