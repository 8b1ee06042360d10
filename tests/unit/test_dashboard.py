"""The compliance dashboard page: numbers, risk markers, charts, escaping, well-formedness."""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from notifications.dashboard import DashboardRenderer

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
HOSTILE_ID = "purpose:<script>:v1"
VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "source"}


def campaign(campaign_id: str, **overrides: Any) -> dict[str, Any]:
    """A campaign summary as the API returns it (every key), with ``overrides``."""
    base: dict[str, Any] = {
        "campaign_id": campaign_id,
        "kind": "purpose",
        "status": "running",
        "reasons": [],
        "purposes": ["analytics"],
        "starts_at": "2025-04-01T00:00:00+00:00",
        "published_at": "2025-03-01T09:30:00+00:00",
        "time_left_seconds": 21 * 86400 + 12 * 3600,
        "audience": 0,
        "sent": 0,
        "deferred": 0,
        "failed": 0,
        "bounced": 0,
        "suppressed": {},
        "excluded": {},
        "objections": 0,
        "objection_rate": 0.0,
        "objections_by_day": {},
        "by_country": {},
        "by_language": {},
        "deadline_at_risk": False,
        "alerts": [],
    }
    unknown = set(overrides) - set(base)
    assert not unknown, unknown
    return {**base, **overrides}


def counts(
    audience: int, sent: int, failed: int, bounced: int, suppressed: int, objections: int
) -> dict[str, int]:
    """A ``by_country`` / ``by_language`` row."""
    return {
        "audience": audience,
        "sent": sent,
        "failed": failed,
        "bounced": bounced,
        "suppressed": suppressed,
        "objections": objections,
    }


def three_campaigns() -> list[dict[str, Any]]:
    rejected = campaign(
        "terms:2025-04:v1",
        kind="terms",
        status="rejected",
        reasons=["notice_period_too_short", "incomplete_notice"],
        purposes=[],
        time_left_seconds=2 * 86400,
        alerts=["notice_period_too_short", "incomplete_notice"],
    )
    at_risk = campaign(
        HOSTILE_ID,
        starts_at="2025-03-13T08:00:00+00:00",
        time_left_seconds=2 * 86400 + 20 * 3600,
        audience=12345,
        sent=9876,
        deferred=1543,
        failed=321,
        bounced=205,
        suppressed={"objected": 300, "no_email": 100},
        excluded={"minor": 7},
        objections=57,
        objection_rate=57 / 12345,
        objections_by_day={"2025-03-05": 20, "2025-03-07": 31, "2025-03-08": 6},
        by_country={
            "FR": counts(8000, 6500, 200, 100, 250, 40),
            "BE": counts(4345, 3376, 121, 105, 150, 17),
        },
        by_language={
            "fr": counts(11000, 8876, 300, 200, 380, 55),
            "nl": counts(1345, 1000, 21, 5, 20, 2),
        },
        deadline_at_risk=True,
    )
    completed = campaign(
        "purpose:newsletter:v2",
        status="completed",
        alerts=["deadline_at_risk", "delivery_failures"],  # raised while it ran
        starts_at="2025-03-01T00:00:00+00:00",
        time_left_seconds=-(9 * 86400 + 12 * 3600),
        audience=4321,
        sent=4200,
        failed=11,
        bounced=10,
        suppressed={"objected": 100},
        objections=88,
        objection_rate=88 / 4321,
        objections_by_day={"2025-02-20": 88},
        by_country={"DE": counts(4321, 4200, 11, 10, 100, 88)},
        by_language={"de": counts(4321, 4200, 11, 10, 100, 88)},
    )
    return [rejected, at_risk, completed]


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.tag, self.attrs = tag, attrs
        self.children: list[Node | str] = []

    def text(self) -> str:
        """The text content, a space between elements (so that table cells stay apart)."""
        return "".join(c if isinstance(c, str) else f" {c.text()} " for c in self.children)

    def find_all(self, tag: str) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag:
                    found.append(child)
                found.extend(child.find_all(tag))
        return found


class TreeBuilder(HTMLParser):
    """Builds a tree; fails on an end tag that does not close the open element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID, f"</{tag}>"
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], [n.tag for n in builder.stack]
    return builder.root


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


@pytest.fixture(scope="module")
def renderer() -> DashboardRenderer:
    return DashboardRenderer()


@pytest.fixture(scope="module")
def page(renderer: DashboardRenderer) -> str:
    return renderer.render(three_campaigns(), now=NOW, refresh_seconds=45)


def common_checks(html: str, refresh: int) -> Node:
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower()
    assert f'<meta http-equiv="refresh" content="{refresh}">' in html
    tree = parse(html)
    [document] = tree.find_all("html")
    assert document.attrs["lang"] == "en"
    assert len(tree.find_all("h1")) == 1
    for tag in ("head", "body", "main"):
        assert len(tree.find_all(tag)) == 1, tag
    assert len(tree.find_all("head")[0].find_all("title")) == 1
    # no external resource: no src, no http(s) href, no <link>
    assert not tree.find_all("link") and not tree.find_all("img")
    assert not re.search(r'\ssrc=|href="(?!#)', html)
    # headings never skip a level
    levels = [int(tag[1]) for tag in re.findall(r"<(h[1-6])[\s>]", html)]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
    return tree


def test_empty_state(renderer: DashboardRenderer) -> None:
    html = renderer.render([], now=NOW)
    tree = common_checks(html, 30)
    assert "No campaigns yet" in html
    assert "<svg" not in html and "<table" not in html
    assert "2025-03-10 12:00:00 UTC" in squash(tree.text())


def test_one_campaign(renderer: DashboardRenderer) -> None:
    one = campaign(
        "purpose:ads:v1",
        audience=1000,
        sent=990,
        failed=4,
        bounced=6,
        objections=3,
        objection_rate=0.003,
        objections_by_day={"2025-03-09": 3},
        by_country={"IT": counts(1000, 990, 4, 6, 0, 3)},
    )
    html = renderer.render([one], now=NOW)
    tree = common_checks(html, 30)
    text = squash(tree.text())
    assert "No campaigns yet" not in html
    assert "purpose:ads:v1" in text
    assert "1,000" in text and "990" in text and "0.3%" in text
    assert "21 d 12 h" in text  # time left
    assert "2025-04-01 00:00 UTC" in text  # start
    assert "deadline at risk" not in text.lower()
    svgs = tree.find_all("svg")
    assert len(svgs) == 2  # funnel + objections (one day is enough for a bar)
    objections_svg = svgs[1]
    assert "3 on 2025-03-09" in objections_svg.attrs["aria-label"]  # type: ignore[operator]
    assert len([r for r in objections_svg.find_all("rect")]) == 1


def test_three_campaigns_numbers(page: str) -> None:
    tree = common_checks(page, 45)
    text = squash(tree.text())
    for number in (
        "12,345",
        "9,876",
        "1,543",
        "321",
        "205",
        "400",
        "57",
        "0.5%",
        "4,321",
        "4,200",
        "88",
        "2.0%",
    ):
        assert number in text, number
    assert "3 campaigns" in text
    assert "2 d 20 h" in text  # at risk: time left
    assert "started 9 d 12 h ago" in text  # completed


def summary_rows(tree: Node) -> dict[str, Node]:
    [table] = [t for t in tree.find_all("table") if "summary" in (t.attrs.get("class") or "")]
    [body] = table.find_all("tbody")
    return {squash(row.find_all("a")[0].text()): row for row in body.find_all("tr")}


def sections(tree: Node) -> dict[str, Node]:
    found = {}
    for section in tree.find_all("section"):
        if "campaign" in (section.attrs.get("class") or "").split():
            found[squash(section.find_all("h2")[0].find_all("span")[0].text())] = section
    return found


def test_at_risk_marker_only_on_the_at_risk_campaign(page: str) -> None:
    tree = parse(page)
    rows = summary_rows(tree)
    assert set(rows) == {"terms:2025-04:v1", HOSTILE_ID, "purpose:newsletter:v2"}
    for campaign_id, row in rows.items():
        at_risk = campaign_id == HOSTILE_ID
        assert ("Deadline at risk" in row.text()) is at_risk, campaign_id
        assert ("at-risk" in (row.attrs.get("class") or "")) is at_risk
    blocks = sections(tree)
    assert set(blocks) == set(rows)
    for campaign_id, section in blocks.items():
        at_risk = campaign_id == HOSTILE_ID
        assert ("deadline at risk" in section.text().lower()) is at_risk, campaign_id
        assert ("deadline is at risk" in section.text().lower()) is at_risk, campaign_id
    # nowhere else: two mentions (row and section heading) plus the banner
    assert page.count("Deadline at risk") == 2


def test_rejected_campaign_with_its_reasons(page: str) -> None:
    tree = parse(page)
    [rejected] = [
        s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "rejected-heading"
    ]
    text = squash(rejected.text())
    assert "terms:2025-04:v1" in text
    assert "notice_period_too_short" in text and "incomplete_notice" in text
    assert HOSTILE_ID not in text and "newsletter" not in text
    section = sections(tree)["terms:2025-04:v1"]
    assert "Rejected: nothing was sent" in section.text()
    assert not section.find_all("svg")
    assert "Rejected" in summary_rows(tree)["terms:2025-04:v1"].text()


def test_charts_are_accessible_svg(page: str) -> None:
    tree = parse(page)
    svgs = tree.find_all("svg")
    assert len(svgs) == 4  # funnel + objections for the running and the completed campaign
    for svg in svgs:
        assert svg.attrs["role"] == "img"
        assert svg.attrs["viewbox"] and svg.attrs["width"] == "100%"
        label = svg.attrs["aria-label"] or ""
        [title] = [c for c in svg.children if isinstance(c, Node) and c.tag == "title"]
        assert squash(title.text()) == squash(label)
    funnel = sections(tree)[HOSTILE_ID].find_all("svg")[0].attrs["aria-label"] or ""
    for part in (
        "audience 12,345",
        "sent 9,876",
        "deferred 1,543",
        "failed 321",
        "bounced 205",
        "suppressed 400",
    ):
        assert part in funnel, part
    objections = sections(tree)[HOSTILE_ID].find_all("svg")[1]
    label = objections.attrs["aria-label"] or ""
    assert "57 over 4 days" in label and "2025-03-06: 0" in label and "peak 31" in label
    assert len(objections.find_all("rect")) == 4  # the missing day is drawn at 0


def test_breakdowns_and_reasons(page: str) -> None:
    section = sections(parse(page))[HOSTILE_ID]
    text = squash(section.text())
    assert "FR 8,000 6,500 200 100 250 40" in text
    assert "BE 4,345" in text and "nl 1,345" in text
    assert "Objected 300" in text and "No email 100" in text and "Total 400" in text
    assert "Minor 7" in text
    assert text.index("FR 8,000") < text.index("BE 4,345")  # largest audience first


def test_everything_is_escaped(page: str, renderer: DashboardRenderer) -> None:
    assert "<script" not in page
    assert "purpose:&lt;script&gt;:v1" in page
    hostile = [
        campaign('x"><b>y', status="rejected", reasons=["<i>r</i>"], purposes=["<u>p</u>"]),
        campaign(
            "<em>run</em>",
            alerts=["a&b"],
            audience=2,
            suppressed={"<s>": 1},
            excluded={"<q>": 1},
            objections_by_day={"2025-03-01": 1},
            by_country={"<c>": counts(1, 0, 0, 0, 0, 0)},
            by_language={"<l>": counts(1, 0, 0, 0, 0, 0)},
        ),
    ]
    html = renderer.render(hostile, now=NOW)
    for tag in ("<b>", "<i>", "<u>", "<em>", "<s>", "<q>", "<c>", "<l>"):
        assert tag not in html, tag
    for escaped in (
        "x&#34;&gt;&lt;b&gt;y",
        "&lt;i&gt;r&lt;/i&gt;",
        "&lt;u&gt;p&lt;/u&gt;",
        "&lt;em&gt;run&lt;/em&gt;",
        "a&amp;b",
        "&lt;c&gt;",
        "&lt;l&gt;",
    ):
        assert escaped in html, escaped
    parse(html)


def test_objections_edge_cases(renderer: DashboardRenderer) -> None:
    zero_days = campaign("purpose:zero:v1", audience=10, sent=10)
    all_zero = campaign(
        "purpose:flat:v1",
        audience=10,
        sent=10,
        objections_by_day={"2025-03-01": 0, "2025-03-02": 0},
    )
    odd_keys = campaign("purpose:odd:v1", objections_by_day={"yesterday": 2, "2025-03-01": 1})
    html = renderer.render([zero_days, all_zero, odd_keys], now=NOW)
    tree = parse(html)
    blocks = sections(tree)
    assert "No objections recorded yet" in blocks["purpose:zero:v1"].text()
    assert len(blocks["purpose:zero:v1"].find_all("svg")) == 1  # the funnel only
    flat = blocks["purpose:flat:v1"].find_all("svg")[1]
    assert all(r.attrs["height"] == "0.0" for r in flat.find_all("rect"))
    assert len(blocks["purpose:odd:v1"].find_all("svg")[1].find_all("rect")) == 2


def test_refresh_and_clock_arguments(renderer: DashboardRenderer) -> None:
    naive = renderer.render([], now=datetime(2025, 3, 10, 12, 0), refresh_seconds=5)
    assert '<meta http-equiv="refresh" content="5">' in naive
    assert "2025-03-10 12:00:00 UTC" in naive
    with pytest.raises(ValueError):
        renderer.render([], now=NOW, refresh_seconds=0)
    with pytest.raises(TypeError):
        renderer.render([], now=NOW, refresh_seconds="30")  # type: ignore[arg-type]


def test_content_security_policy_allows_the_inline_style(
    page: str, renderer: DashboardRenderer
) -> None:
    match = re.search(r"<style>(.*?)</style>", page, re.DOTALL)
    assert match is not None
    digest = base64.b64encode(hashlib.sha256(match.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in renderer.content_security_policy
    assert "script-src" not in renderer.content_security_policy
    assert "default-src 'none'" in renderer.content_security_policy
