"""Shared steps of the oversight platform tests: a site with columns, people and published items."""

from __future__ import annotations

from tests.support.publishing import CONTENT, eventually, make_site, publish

__all__ = ["CONTENT", "eventually", "make_site", "publish"]
