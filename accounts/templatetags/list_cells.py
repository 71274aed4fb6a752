"""One cell of a list row (`{% list_cell cell obj link_url %}`), built in Python: a list page of
200 rows × 20 columns would spend most of its time in template includes otherwise."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat, timesince_filter
from django.template.loader import get_template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()

DASH = mark_safe('<span class="text-secondary">—</span>')
CHURNED = mark_safe('<span class="badge bg-red-lt ms-1">Churned</span>')


@register.simple_tag
def list_cell(cell: dict, obj, link_url: str = "") -> str:
    kind, value = cell["column"].kind, cell["value"]
    if kind == "link":
        extra = CHURNED if getattr(obj, "status", "") == "churned" else ""
        domain = getattr(obj, "domain", "")
        below = (
            format_html('<div class="text-secondary small text-truncate">{}</div>', domain) if domain else ""
        )
        return format_html(
            '<td class="min-w-0"><a href="{}" class="fw-medium">{}</a>{}{}</td>',
            link_url,
            value,
            extra,
            below,
        )
    if kind == "health":
        badge = get_template("components/health_badge.html").render({"score": value, "band": cell["band"]})
        return format_html("<td>{}</td>", badge)
    if kind == "money":
        return format_html('<td class="num">{}</td>', floatformat(value, "0g") if value is not None else DASH)
    if kind == "number":
        return format_html('<td class="num">{}</td>', DASH if value is None else value)
    if kind == "date":
        return format_html('<td class="text-nowrap">{}</td>', date_filter(value, "M j, Y") if value else DASH)
    if kind == "ago":
        text = f"{timesince_filter(value)} ago" if value else "never"
        return format_html('<td class="text-nowrap text-secondary">{}</td>', text)
    if kind == "bool":
        badge = ("bg-green-lt", "Yes") if value else ("bg-secondary-lt", "No")
        return format_html('<td><span class="badge {}">{}</span></td>', *badge)
    if kind == "roles":
        roles = format_html_join("", '<span class="badge bg-azure-lt me-1">{}</span>', ((r,) for r in value))
        return format_html("<td>{}</td>", roles or DASH)
    if kind == "person":
        email = getattr(obj, "email", "")
        below = (
            format_html('<div class="text-secondary small text-truncate">{}</div>', email)
            if getattr(obj, "name", "") and email
            else ""
        )
        return format_html('<td class="min-w-0"><div class="fw-medium">{}</div>{}</td>', value or "—", below)
    return format_html("<td>{}</td>", value if value not in (None, "") else "—")
