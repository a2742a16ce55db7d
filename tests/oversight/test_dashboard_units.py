"""The dashboard's pure parts: where a sign-in may return to, charts' escaping and text alternative."""

from __future__ import annotations

import pytest

from services.oversight.service.charts import bar_chart
from services.oversight.service.signin import DASHBOARD_PATH, safe_next


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (f"{DASHBOARD_PATH}/sites/jyj?days=30", f"{DASHBOARD_PATH}/sites/jyj?days=30"),
        ("https://evil.example/x", DASHBOARD_PATH),
        (f"//evil.example{DASHBOARD_PATH}", DASHBOARD_PATH),
        (f"{DASHBOARD_PATH}\\@evil.example", DASHBOARD_PATH),
        (f"{DASHBOARD_PATH}x/../../identity", DASHBOARD_PATH),
        (f"{DASHBOARD_PATH}/../../identity", DASHBOARD_PATH),
        ("http://[", DASHBOARD_PATH),
        (
            f"{DASHBOARD_PATH}/站点\r\nSet-Cookie: x=1",
            f"{DASHBOARD_PATH}/%E7%AB%99%E7%82%B9Set-Cookie%3A%20x%3D1",
        ),
        (None, DASHBOARD_PATH),
    ],
)
def test_a_sign_in_returns_only_into_the_dashboard(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
    assert safe_next(target).isascii()  # it can stand in a Location header


def test_a_chart_escapes_its_labels_and_says_what_it_shows() -> None:
    chart = bar_chart("c", "访问<量>", [("<script>", 3), ("12-02", 7), ("12-03", 0)], "次")
    assert "<script>" not in chart.svg and "&lt;script&gt;" in chart.svg
    assert 'role="img"' in chart.svg and 'aria-labelledby="c-t c-d"' in chart.svg
    assert chart.summary == "访问<量>：共 3 项，合计 10 次，最高为 12-02（7 次）"
    assert chart.svg.count("<rect") == 3
    empty = bar_chart("e", "无数据", [], "次")
    assert empty.summary == "无数据：共 0 项，合计 0 次" and "<rect" not in empty.svg
