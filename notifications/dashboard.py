"""The compliance dashboard: every campaign on one server-rendered page.

Only rendering: the API folds the ledger into campaign summaries
(:func:`notifications.campaign_status.summary`) and serves
:meth:`DashboardRenderer.render` as ``text/html``. The page is what a
compliance officer keeps open: a summary table of every campaign (the ones
whose deadline is at risk marked in words, not by colour alone), the rejected
ones with their reasons, then one section per campaign with its delivery
funnel, failures, suppressions, objections over time and breakdowns by
country and language.

Like :mod:`notifications.web_pages`: one Jinja2 environment built once,
autoescaped (campaign ids, reasons and codes are data, never markup), no
JavaScript, no external resource (one inline ``<style>``, allowed by
:attr:`DashboardRenderer.content_security_policy`), it reloads itself with
``<meta http-equiv="refresh">``. The charts are inline SVG whose geometry is
computed here, each with ``role="img"`` and a text alternative giving the
numbers. Nothing here reads the clock: the caller passes ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import SupportsFloat, SupportsIndex, SupportsInt

from jinja2 import Template

from notifications.template_folder import template_folder
from notifications.templating import inline_style_policy, template_environment

__all__ = ["DashboardRenderer"]

TEMPLATE = "web/dashboard.html.j2"

#: Readable names of the alert codes raised so far (any other code is shown as is).
ALERT_TEXTS: dict[str, str] = {
    "incomplete_notice": "The notice lacks fields GDPR Art. 13/14 requires",
    "incomplete_translation": "The notice lacks a language its audience needs",
    "notice_period_too_short": "The notice period is too short",
    "republished_with_changes": "Published again with a different text",
    # past tense: the alert stays listed once raised, the risk marker shows the present
    "deadline_at_risk": "Warned that the deadline was at risk",
    "delivery_failures": "Warned of many failed or bounced deliveries",
}
STATUS_TEXTS = {"rejected": "Rejected", "running": "Running", "completed": "Completed"}
KIND_TEXTS = {"purpose": "New purpose", "terms": "Terms update"}

# The delivery funnel: (key, label, fill). Fills contrast >= 3:1 with white (WCAG 1.4.11).
_FUNNEL = (
    ("audience", "Audience", "#0b57d0"),
    ("sent", "Sent", "#1e6b34"),
    ("deferred", "Deferred", "#8a5a00"),
    ("failed", "Failed", "#a50e0e"),
    ("bounced", "Bounced", "#7b2d8e"),
    ("suppressed", "Suppressed", "#595959"),
)
_BREAKDOWN_KEYS = ("audience", "sent", "failed", "bounced", "suppressed", "objections")

# Chart geometry, in viewBox units (the SVGs scale to their container's width).
_FUNNEL_WIDTH = 400
_FUNNEL_LABEL = 104  # left column: the labels
_FUNNEL_VALUE = 124  # right column: "12,345 (99.9%)"
_FUNNEL_ROW = 28
_FUNNEL_BAR = 18
_DAYS_WIDTH = 400
_DAYS_HEIGHT = 180
_DAYS_LEFT, _DAYS_RIGHT, _DAYS_TOP, _DAYS_BOTTOM = 44, 12, 12, 30
_MAX_FILLED_DAYS = 400  # a wider span of days is charted as given, without the empty days
_MAX_DAYS_IN_LABEL = 14  # beyond, the chart's text alternative summarises


class DashboardRenderer:
    """Renders the compliance dashboard from one Jinja2 environment, built once."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        folder = templates_dir or template_folder()
        self.env = template_environment(folder)
        self.env.filters.update(number=_number, percent=_percent)
        # Loaded now: a broken template fails at start-up, not when the page is opened.
        self._template: Template = self.env.get_template(TEMPLATE)
        css = "".join(self._template.blocks["css"](self._template.new_context({})))
        if "<" in css:
            raise ValueError(f"the css block of {TEMPLATE} must not contain '<'")
        #: A ``Content-Security-Policy`` the page works under: no script, no
        #: resource but its own ``<style>``, never framed.
        self.content_security_policy = inline_style_policy(css, form_action="'none'")

    def render(
        self,
        campaigns: Sequence[Mapping[str, object]],
        *,
        now: datetime,
        refresh_seconds: int = 30,
    ) -> str:
        """The whole HTML document for ``campaigns`` (API campaign summaries), as of ``now``.

        A summary is read as the JSON the API serves
        (:func:`notifications.campaign_status.summary`), each value checked
        as it is used: a missing count shows as 0, never breaks the page.
        """
        if isinstance(refresh_seconds, bool) or not isinstance(refresh_seconds, int):
            raise TypeError("refresh_seconds must be an int")
        if refresh_seconds < 1:
            raise ValueError("refresh_seconds must be at least 1")
        views = [_campaign_view(index, c) for index, c in enumerate(campaigns, start=1)]
        moment = _utc(now)
        return self._template.render(
            campaigns=views,
            rejected=[v for v in views if v["status"] == "rejected"],
            counts={
                "total": len(views),
                "running": sum(v["status"] == "running" for v in views),
                "completed": sum(v["status"] == "completed" for v in views),
                "rejected": sum(v["status"] == "rejected" for v in views),
                "at_risk": sum(bool(v["at_risk"]) for v in views),
            },
            now_iso=moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
            now_text=moment.strftime("%Y-%m-%d %H:%M:%S UTC"),
            refresh_seconds=refresh_seconds,
        )


# --- one campaign ---------------------------------------------------------------


def _campaign_view(index: int, c: Mapping[str, object]) -> dict[str, object]:
    campaign_id = str(c["campaign_id"])
    status = str(c["status"])
    counts = {key: _int(c[key]) for key in ("audience", "sent", "deferred", "failed", "bounced")}
    suppressed = _reasons(c["suppressed"])
    excluded = _reasons(c["excluded"])
    counts["suppressed"] = sum(n for _, _, n in suppressed)
    objections = _int(c["objections"])
    rate = _float(c["objection_rate"])
    time_left = _float(c["time_left_seconds"])
    anchor = f"campaign-{index}"
    return {
        "anchor": anchor,
        "campaign_id": campaign_id,
        "kind": KIND_TEXTS.get(str(c["kind"]), str(c["kind"])),
        "status": status,
        "status_text": STATUS_TEXTS.get(status, status.capitalize()),
        "reasons": [_alert(code) for code in _items(c["reasons"])],
        "alerts": [_alert(code) for code in _items(c["alerts"])],
        "purposes": [str(p) for p in _items(c["purposes"])],
        "starts_at": _moment(c["starts_at"]),
        "published_at": _moment(c["published_at"]),
        "time_left": _time_left(time_left),
        "until_start": _duration(abs(time_left)),
        "started": time_left <= 0,
        "at_risk": bool(c["deadline_at_risk"]),
        **counts,
        "suppressed_by_reason": suppressed,
        "excluded_by_reason": excluded,
        "excluded_total": sum(n for _, _, n in excluded),
        "objections": objections,
        "objection_rate": rate,
        "funnel": _funnel_chart(anchor, campaign_id, counts),
        "objections_chart": _objections_chart(anchor, campaign_id, c["objections_by_day"]),
        "by_country": _breakdown(c["by_country"]),
        "by_language": _breakdown(c["by_language"]),
    }


def _alert(value: object) -> dict[str, str]:
    code = str(value)
    return {"code": code, "text": ALERT_TEXTS.get(code) or _humanize(code)}


def _reasons(counts: object) -> list[tuple[str, str, int]]:
    """``(code, readable text, n)`` by decreasing ``n``, then code."""
    rows = [(str(code), _humanize(str(code)), _int(n)) for code, n in _mapping(counts).items()]
    return sorted(rows, key=lambda row: (-row[2], row[0]))


def _breakdown(groups: object) -> list[dict[str, object]]:
    """One row per country or language, the largest audience first."""
    rows: list[tuple[int, str, dict[str, object]]] = []
    for key, values in _mapping(groups).items():
        found = _mapping(values)
        numbers = {name: _int(found.get(name, 0)) for name in _BREAKDOWN_KEYS}
        audience = numbers["audience"]
        row: dict[str, object] = {"key": str(key), **numbers}
        row["objection_rate"] = numbers["objections"] / audience if audience else None
        rows.append((audience, str(key), row))
    return [row for _, _, row in sorted(rows, key=lambda item: (-item[0], item[1]))]


# --- charts -----------------------------------------------------------------------


def _funnel_chart(anchor: str, campaign_id: str, counts: Mapping[str, int]) -> dict[str, object]:
    """Horizontal bars, audience first, each as a share of the largest value."""
    top = max([1, *counts.values()])
    audience = counts["audience"]
    span = _FUNNEL_WIDTH - _FUNNEL_LABEL - _FUNNEL_VALUE
    bars: list[dict[str, object]] = []
    parts: list[str] = []
    for row, (key, label, fill) in enumerate(_FUNNEL):
        n = max(counts[key], 0)
        width = round(span * n / top, 1)
        value = _number(n)
        if key != "audience" and audience > 0:
            value += f" ({_percent(n / audience)})"
        y = 6 + row * _FUNNEL_ROW
        parts.append(f"{label.lower()} {value}")
        bars.append(
            {
                "label": label,
                "value": value,
                "fill": fill,
                "x": _FUNNEL_LABEL,
                "y": y,
                "width": max(width, 1.5) if n > 0 else 0,
                "height": _FUNNEL_BAR,
                "text_y": y + _FUNNEL_BAR / 2,
                "value_x": _FUNNEL_LABEL + max(width, 1.5 if n else 0) + 6,
            }
        )
    return {
        "id": f"{anchor}-funnel",
        "width": _FUNNEL_WIDTH,
        "height": 12 + len(_FUNNEL) * _FUNNEL_ROW - (_FUNNEL_ROW - _FUNNEL_BAR),
        "label_x": _FUNNEL_LABEL - 8,
        "bars": bars,
        "title": f"Delivery funnel of {campaign_id}: " + "; ".join(parts) + ".",
    }


def _objections_chart(anchor: str, campaign_id: str, by_day: object) -> dict[str, object] | None:
    """Daily bars from the first to the last day (the days without one at 0); None if none."""
    days = _days(_mapping(by_day))
    if not days:
        return None
    n = len(days)
    values = [count for _, count in days]
    total = sum(values)
    peak = max(values)
    scale_max = _nice_ceiling(peak)
    plot_w = _DAYS_WIDTH - _DAYS_LEFT - _DAYS_RIGHT
    plot_h = _DAYS_HEIGHT - _DAYS_TOP - _DAYS_BOTTOM
    base = _DAYS_TOP + plot_h
    slot = plot_w / n
    bar_w = slot if n > 90 else min(slot * 0.75, 32.0)
    bars: list[dict[str, object]] = []
    for i, (day, count) in enumerate(days):
        h = plot_h * count / scale_max
        bars.append(
            {
                "x": round(_DAYS_LEFT + i * slot + (slot - bar_w) / 2, 2),
                "y": round(base - h, 2),
                "width": round(bar_w, 2),
                "height": round(h, 2),
                "tip": f"{day}: {_number(count)}",
            }
        )
    ticks = [
        {"y": round(base - plot_h * v / scale_max, 2), "label": _number(v)}
        for v in sorted({0, scale_max // 2 if scale_max % 2 == 0 else 0, scale_max})
    ]
    # Dates under the axis: the first and the last (and the middle one from 5 days).
    centre = [_DAYS_LEFT + (i + 0.5) * slot for i in range(n)]
    if n == 1:
        x_labels = [{"x": round(centre[0], 2), "anchor": "middle", "text": days[0][0]}]
    else:
        x_labels = [
            {"x": _DAYS_LEFT, "anchor": "start", "text": days[0][0]},
            {"x": _DAYS_WIDTH - _DAYS_RIGHT, "anchor": "end", "text": days[-1][0]},
        ]
        if n >= 5:
            mid = n // 2
            x_labels.insert(
                1, {"x": round(centre[mid], 2), "anchor": "middle", "text": days[mid][0]}
            )
    peak_day = next(day for day, count in days if count == peak)
    span = f"on {days[0][0]}" if n == 1 else f"over {n} days, {days[0][0]} to {days[-1][0]}"
    title = f"Objections per day for {campaign_id}: {_number(total)} {span}"
    if n > 1:
        title += f"; peak {_number(peak)} on {peak_day}"
    if 1 < n <= _MAX_DAYS_IN_LABEL:
        title += "; " + ", ".join(f"{day}: {_number(count)}" for day, count in days)
    return {
        "id": f"{anchor}-objections",
        "width": _DAYS_WIDTH,
        "height": _DAYS_HEIGHT,
        "left": _DAYS_LEFT,
        "right": _DAYS_WIDTH - _DAYS_RIGHT,
        "base": base,
        "label_y": base + 18,
        "bars": bars,
        "ticks": ticks,
        "x_labels": x_labels,
        "days": days,
        "title": title + ".",
    }


def _days(by_day: Mapping[object, object]) -> list[tuple[str, int]]:
    """``(YYYY-MM-DD, n)`` in order, the missing days in between filled with 0."""
    given = {str(day): _int(n) for day, n in by_day.items()}
    if not given:
        return []
    try:
        parsed = {date.fromisoformat(day): n for day, n in given.items()}
    except ValueError:
        return sorted(given.items())
    first, last = min(parsed), max(parsed)
    if (last - first).days >= _MAX_FILLED_DAYS:
        return [(d.isoformat(), n) for d, n in sorted(parsed.items())]
    span = (last - first).days + 1
    return [
        ((first + timedelta(days=i)).isoformat(), parsed.get(first + timedelta(days=i), 0))
        for i in range(span)
    ]


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 3, 4, 5, 6, 8, 10, 20, 30... that is >= value (at least 1)."""
    if value <= 1:
        return 1
    power = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 3, 4, 5, 6, 8, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


# --- formatting -------------------------------------------------------------------


def _number(value: object) -> str:
    """``12345`` -> ``12,345``."""
    return f"{_int(value):,}"


def _percent(value: object) -> str:
    """A 0..1 share as a percentage: ``0.1234`` -> ``12.3%``, tiny shares as ``<0.1%``."""
    share = _float(value) * 100
    if share == 0:
        return "0%"
    if 0 < share < 0.1:
        return "<0.1%"
    return f"{share:.1f}%"


def _time_left(seconds: float) -> str:
    """``3 d 4 h`` before the start, ``started 2 d 5 h ago`` after it."""
    if seconds > 0:
        return _duration(seconds)
    return f"started {_duration(-seconds)} ago" if seconds < 0 else "starts now"


def _duration(seconds: float) -> str:
    hours = int(seconds // 3600)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    return f"{hours} h" if hours else "<1 h"


def _moment(value: object) -> dict[str, str]:
    """An ISO timestamp as ``{"iso", "text"}``: ``2025-03-14 09:00 UTC`` (as is if unreadable)."""
    raw = str(value)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return {"iso": "", "text": raw}
    if moment.tzinfo is None:
        return {"iso": moment.isoformat(), "text": moment.strftime("%Y-%m-%d %H:%M")}
    moment = moment.astimezone(UTC)
    return {
        "iso": moment.isoformat().replace("+00:00", "Z"),
        "text": moment.strftime("%Y-%m-%d %H:%M UTC"),
    }


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _humanize(code: str) -> str:
    """``already_objected`` -> ``Already objected``."""
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else code


def _int(value: object) -> int:
    if not isinstance(value, str | bytes | SupportsInt | SupportsIndex):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # JSON's Infinity has no int
        return 0


def _float(value: object) -> float:
    if not isinstance(value, str | bytes | SupportsFloat | SupportsIndex):
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _mapping(value: object) -> Mapping[object, object]:
    """``value`` if it is a JSON object, else an empty one (absent, null or malformed)."""
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> list[object]:
    """``value`` if it is a JSON array, else an empty one (absent, null or malformed)."""
    return list(value) if isinstance(value, list | tuple) else []
