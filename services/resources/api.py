"""Routers of the resources service: thin, the rules live in service modules."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["resources"])
