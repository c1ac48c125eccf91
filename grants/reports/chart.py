"""Server-rendered SVG charts for the finance page: no script, no style attributes (CSP).

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that states the
figures, text labels on the axes, and colours as presentation attributes (``fill=``).
The page also shows the same figures as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from grants.districts import district_key
from grants.fiscal_year import FiscalYear
from grants.money import ZERO, format_money
from grants.reports.summary import Totals

APPROVED_FILL = "#417690"  # the admin's header blue
PAID_FILL = "#79aec8"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Bar:
    label: str
    approved: Decimal
    paid: Decimal


def fiscal_months(fy: FiscalYear) -> list[tuple[int, int]]:
    year, month = fy.start.year, fy.start.month
    months = []
    for _ in range(12):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def monthly_bars(totals: Totals, fy: FiscalYear) -> list[Bar]:
    return [
        Bar(
            label=f"{_MONTHS[month - 1]} {year}",
            approved=totals.approved_by_month.get((year, month), ZERO),
            paid=totals.paid_by_month.get((year, month), ZERO),
        )
        for year, month in fiscal_months(fy)
    ]


def district_bars(totals: Totals) -> list[Bar]:
    return [
        Bar(label=name, approved=tally.approved, paid=tally.paid)
        for name, tally in sorted(
            totals.by_district.items(), key=lambda item: district_key(item[0])
        )
    ]


def _scale_max(bars: list[Bar]) -> Decimal:
    top = max([bar.approved for bar in bars] + [bar.paid for bar in bars] + [Decimal(1)])
    # Round the axis up to a "nice" step: 1, 2 or 5 times a power of ten.
    magnitude = Decimal(10) ** (len(str(int(top))) - 1)
    for step in (1, 2, 5, 10):
        nice = magnitude * step
        if nice >= top:
            return nice.quantize(Decimal(1), rounding=ROUND_CEILING)
    return top


def _n(value: Decimal | float | int) -> str:
    """A coordinate with one decimal place (SVG attributes, never a float in money)."""
    return f"{Decimal(value).quantize(Decimal('0.1'))}"


def _legend(x: int, y: int) -> str:
    return (
        f'<g class="legend"><rect x="{x}" y="{y}" width="12" height="12" fill="{APPROVED_FILL}"/>'
        f'<text x="{x + 16}" y="{y + 10}" font-size="12">Approved</text>'
        f'<rect x="{x + 90}" y="{y}" width="12" height="12" fill="{PAID_FILL}"/>'
        f'<text x="{x + 106}" y="{y + 10}" font-size="12">Paid</text></g>'
    )


def _desc(bars: list[Bar]) -> str:
    parts = [
        f"{bar.label}: approved {format_money(bar.approved)}, paid {format_money(bar.paid)}"
        for bar in bars
    ]
    return "; ".join(parts) + "." if parts else "No grants."


def _svg_start(
    width: int, height: int, chart_id: str, title: str, bars: list[Bar], *, legend_x: int
) -> list[str]:
    """A chart's opening: the svg element, its title and description (read by screen readers),
    and the legend."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        format_html('<title id="{}-title">{}</title>', chart_id, title),
        format_html('<desc id="{}-desc">{}</desc>', chart_id, _desc(bars)),
        _legend(legend_x, 6),
    ]


def column_chart(bars: list[Bar], *, chart_id: str, title: str) -> SafeString:
    """Vertical bars, approved and paid side by side per label (the months of a year)."""
    width, height, left, bottom, top_pad = 760, 300, 70, 50, 30
    plot_h = height - bottom - top_pad
    top = _scale_max(bars)
    slot = (width - left - 10) / max(len(bars), 1)
    bar_w = slot * 0.35
    parts = _svg_start(width, height, chart_id, title, bars, legend_x=left)
    for step in range(5):
        value = top * step / 4
        y = height - bottom - plot_h * step / 4
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{_n(y)}" y2="{_n(y)}" stroke="#ccc" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{_n(y + 4)}" font-size="11" text-anchor="end">'
            f"{escape(format_money(value))}</text>"
        )
    for i, bar in enumerate(bars):
        x = left + slot * i + slot * 0.12
        for offset, amount, fill in ((0, bar.approved, APPROVED_FILL), (1, bar.paid, PAID_FILL)):
            h = plot_h * amount / top if top else 0
            parts.append(
                f'<rect x="{_n(x + offset * bar_w)}" y="{_n(height - bottom - h)}" '
                f'width="{_n(bar_w)}" height="{_n(h)}" fill="{fill}">'
                f"<title>{escape(bar.label)}: {'paid' if offset else 'approved'} "
                f"{escape(format_money(amount))}</title></rect>"
            )
        parts.append(
            f'<text x="{_n(left + slot * i + slot / 2)}" y="{height - bottom + 16}" font-size="11" '
            f'text-anchor="middle">{escape(bar.label.split(" ")[0])}</text>'
        )
        if i == 0 or bar.label.startswith("Jan"):
            parts.append(
                f'<text x="{_n(left + slot * i + slot / 2)}" y="{height - bottom + 30}" '
                f'font-size="10" text-anchor="middle">{escape(bar.label.split(" ")[1])}</text>'
            )
    parts.append("</svg>")
    # Safe: every text in the SVG above went through escape(); numbers are formatted here.
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703


def bar_chart(bars: list[Bar], *, chart_id: str, title: str) -> SafeString:
    """Horizontal bars, approved above paid, one pair per label (districts)."""
    label_w, width, row_h, top_pad = 140, 760, 34, 30
    height = top_pad + row_h * max(len(bars), 1) + 10
    plot_w = width - label_w - 110
    top = _scale_max(bars)
    parts = _svg_start(width, height, chart_id, title, bars, legend_x=label_w)
    for i, bar in enumerate(bars):
        y = top_pad + row_h * i
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 18}" font-size="12" text-anchor="end">'
            f"{escape(bar.label[:22])}</text>"
        )
        for offset, amount, fill in ((0, bar.approved, APPROVED_FILL), (1, bar.paid, PAID_FILL)):
            w = plot_w * amount / top if top else 0
            parts.append(
                f'<rect x="{label_w}" y="{y + offset * 13}" width="{_n(w)}" height="12" fill="{fill}"/>'
                f'<text x="{_n(label_w + w + 4)}" y="{y + offset * 13 + 10}" font-size="10">'
                f"{escape(format_money(amount))}</text>"
            )
    parts.append("</svg>")
    # Safe: every text in the SVG above went through escape(); numbers are formatted here.
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703
