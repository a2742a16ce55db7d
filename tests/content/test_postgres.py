"""The same content behaviours on PostgreSQL (integration tier)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.content import test_delivery, test_flow, test_isolation, test_offline, test_sites, test_syndication
from tests.content.conftest import Content, _start
from tests.support.real import fresh_postgres_database
from tests.support.tokens import TestIssuer

pytestmark = pytest.mark.integration

CASES: list[tuple[Callable[[Content], Awaitable[None]], bool]] = [
    (test_flow.test_two_reviewers_then_live_in_delivery, False),
    (test_flow.test_inbox_spans_sites_and_follows_the_chain, False),
    (test_flow.test_archived_items_stay_readable_and_frozen, False),
    (test_sites.test_suspension_at_most_once_a_year_and_thirty_days, False),
    (test_isolation.test_editor_of_one_site_sees_nothing_of_another, False),
    (test_delivery.test_etag_304_and_cache_invalidated_on_withdraw, False),
    (test_delivery.test_policy_and_interpretation_link_both_ways, False),
    (test_offline.test_offline_moves_content_keeps_urls_and_leaves_notice, False),
    (test_syndication.test_important_item_creates_subscriber_draft_fast, True),
]


@pytest.mark.parametrize(("case", "workers"), CASES, ids=[c.__name__ for c, _ in CASES])
async def test_on_postgres(
    case: Callable[[Content], Awaitable[None]], workers: bool, tmp_path: Path, issuer: TestIssuer
) -> None:
    url = await fresh_postgres_database()
    async for content in _start(tmp_path, issuer, run_workers=workers, database_url=url):
        await case(content)
