"""Bounded path and query parameters shared by every router.

Databases hold ids as signed 64-bit integers; an unbounded `int` in a path lets a client send
2**70 and reach the driver, which answers with an overflow (a 500). Declaring the bounds in the
signature makes FastAPI answer 422 and puts the range in the OpenAPI.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**63 - 1

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="对象编号")]
CursorQuery = Annotated[int, Query(ge=0, le=MAX_ID, description="游标：上次读到的位置")]
OptionalIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
