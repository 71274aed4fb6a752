"""The column catalogues of the account and contact lists.

A list shows the columns named in its `cols` query parameter (comma-separated keys, in order), so
a saved list keeps them with its filters and sort. Each column says how its value is read: plain
fields and foreign keys (`select_related`) or a correlated subquery annotated on the list's query,
so a page of 25 or of 200 rows costs the same few queries. The CSV export reads the same values.

Apps above `accounts` add columns with `register_account_column` (open alerts come from health).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, F, OuterRef, Subquery, When
from django.http import QueryDict
from django.utils import timezone

from .models import Contact, NPSResponse, Touchpoint


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # What the cell shows: "text", "link" (the row's page), "health", "money", "date", "ago",
    # "number", "bool", "roles" or "person" (a contact's name with the email below).
    kind: str
    value: Callable[[Any], Any]
    select_related: tuple[str, ...] = ()
    # name → a function returning the expression (built per request: a subquery on a scoped
    # manager must not be built at import time, outside any workspace).
    annotations: dict[str, Callable[[], Any]] = field(default_factory=dict)
    sort: str = ""  # the filterset's ordering value, when the column is sortable
    required: bool = False  # always shown, first
    band: Callable[[Any], str] | None = None  # for "health": the band beside the score

    @property
    def desc_first(self) -> bool:
        """Numbers are ranked high to low on the first click."""
        return self.kind in ("health", "money", "number")

    @property
    def numeric(self) -> bool:
        return self.kind in ("money", "number")

    def csv(self, obj) -> str:
        value = self.value(obj)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        if hasattr(value, "isoformat"):
            if hasattr(value, "tzinfo") and getattr(value, "hour", None) is not None:
                value = timezone.localtime(value) if timezone.is_aware(value) else value
                return value.strftime("%Y-%m-%d %H:%M")
            return value.isoformat()
        return str(value)


# --- values ----------------------------------------------------------------------------------
EMPLOYEE_BANDS = ((1, 50, "1–50"), (51, 200, "51–200"), (201, 1000, "201–1,000"), (1001, 5000, "1,001–5,000"))


def employee_band(count: int | None) -> str:
    if count is None:
        return ""
    for _low, high, label in EMPLOYEE_BANDS:
        if count <= high:
            return label
    return "5,001+"


def _name(obj, attr: str) -> str:
    related = getattr(obj, attr, None)
    return str(related) if related is not None else ""


def _csm(obj) -> str:
    user = obj.csm_owner
    return user.display_name if user is not None else ""


def _primary_contact():
    # Champion first, then decision maker, then executive, then whoever was added first.
    return Subquery(
        Contact.objects.filter(account=OuterRef("pk"), is_active=True)
        .order_by("-is_champion", "-is_decision_maker", "-is_executive", "pk")
        .annotate(label=Case(When(name="", then=F("email")), default=F("name")))
        .values("label")[:1]
    )


def _latest_touchpoint():
    return Subquery(
        Touchpoint.objects.filter(account=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    )


def _recent_nps():
    return Subquery(
        NPSResponse.objects.filter(account=OuterRef("pk"))
        .order_by("-responded_at", "-pk")
        .values("score")[:1]
    )


ACCOUNT_COLUMNS: dict[str, Column] = {}


def register_account_column(column: Column) -> None:
    ACCOUNT_COLUMNS[column.key] = column


for _column in (
    Column("name", "Name", "link", lambda a: a.name, sort="name", required=True),
    Column(
        "health", "Health", "health", lambda a: a.health_score, sort="health", band=lambda a: a.health_band
    ),
    Column("mrr", "MRR", "money", lambda a: a.mrr, sort="mrr"),
    Column("arr", "ARR", "money", lambda a: a.arr, sort="mrr"),
    Column("tier", "Tier", "text", lambda a: _name(a, "tier"), ("tier",), sort="tier"),
    Column(
        "stage", "Stage", "text", lambda a: _name(a, "lifecycle_stage"), ("lifecycle_stage",), sort="stage"
    ),
    Column("csm", "CSM", "text", _csm, ("csm_owner",), sort="csm"),
    Column("renewal", "Renewal / contract end", "date", lambda a: a.renewal_date, sort="renewal"),
    Column("contract_start", "Contract start", "date", lambda a: a.contract_start, sort="contract_start"),
    Column(
        "primary_contact",
        "Primary contact",
        "text",
        lambda a: a.col_primary_contact,
        annotations={"col_primary_contact": _primary_contact},
    ),
    Column(
        "latest_interaction",
        "Latest interaction",
        "ago",
        lambda a: a.col_latest_interaction,
        annotations={"col_latest_interaction": _latest_touchpoint},
    ),
    Column(
        "recent_nps",
        "Recent NPS",
        "number",
        lambda a: a.col_recent_nps,
        annotations={"col_recent_nps": _recent_nps},
    ),
    Column("industry", "Industry", "text", lambda a: a.industry, sort="industry"),
    Column("employees", "Employees", "text", lambda a: employee_band(a.employee_count), sort="employees"),
    Column("plan", "Plan", "text", lambda a: a.plan, sort="plan"),
    Column("status", "Status", "text", lambda a: a.get_status_display()),
    Column("domain", "Domain", "text", lambda a: a.domain),
    Column("external_id", "External id", "text", lambda a: a.external_id),
    Column("licenses", "Licenses", "number", lambda a: a.licenses_purchased),
    Column("created", "Created", "date", lambda a: timezone.localdate(a.created_at), sort="created"),
):
    register_account_column(_column)

DEFAULT_ACCOUNT_COLUMNS = ("name", "health", "mrr", "tier", "stage", "csm", "renewal")


def _roles(contact) -> list[str]:
    return contact.roles


CONTACT_COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("name", "Name", "person", lambda c: c.name or c.email, sort="name", required=True),
        Column("email", "Email", "text", lambda c: c.email),
        Column("account", "Account", "link", lambda c: c.account.name, sort="account"),
        Column("title", "Title", "text", lambda c: c.title),
        Column("roles", "Roles", "roles", _roles),
        Column("active", "Active", "bool", lambda c: c.is_active),
        Column("last_seen", "Last seen", "ago", lambda c: c.last_seen_at, sort="last_seen"),
        Column(
            "account_tier", "Account tier", "text", lambda c: _name(c.account, "tier"), ("account__tier",)
        ),
        Column(
            "account_stage",
            "Account stage",
            "text",
            lambda c: _name(c.account, "lifecycle_stage"),
            ("account__lifecycle_stage",),
        ),
        Column(
            "account_health",
            "Account health",
            "health",
            lambda c: c.account.health_score,
            band=lambda c: c.account.health_band,
        ),
        Column("account_mrr", "Account MRR", "money", lambda c: c.account.mrr),
        Column("account_csm", "Account CSM", "text", lambda c: _csm(c.account), ("account__csm_owner",)),
        Column("created", "Created", "date", lambda c: timezone.localdate(c.created_at)),
    )
}
DEFAULT_CONTACT_COLUMNS = ("name", "account", "title", "roles", "active", "last_seen")

CATALOGUES = {
    "accounts": (ACCOUNT_COLUMNS, DEFAULT_ACCOUNT_COLUMNS),
    "contacts": (CONTACT_COLUMNS, DEFAULT_CONTACT_COLUMNS),
}


@dataclass
class ColumnChoice:
    columns: list[Column]
    unknown: list[str]
    catalogue: dict[str, Column]

    defaults: tuple[str, ...] = ()

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def is_default(self) -> bool:
        return tuple(self.keys) == tuple(self.defaults)

    def apply(self, queryset):
        """The query with what the chosen columns read: joins and subqueries, never per-row queries."""
        related = [name for column in self.columns for name in column.select_related]
        if related:
            queryset = queryset.select_related(*related)
        annotations = {name: make() for column in self.columns for name, make in column.annotations.items()}
        return queryset.annotate(**annotations) if annotations else queryset

    def links(self, query: QueryDict) -> dict:
        """URLs (query strings) that move, remove or add a column, keeping everything else."""

        def with_cols(keys: list[str]) -> str:
            data = query.copy()
            data.pop("page", None)
            data["cols"] = ",".join(keys)
            return data.urlencode()

        keys = self.keys
        chosen = []
        for i, column in enumerate(self.columns):
            item = {"column": column, "up": "", "down": "", "remove": ""}
            if not column.required:
                item["remove"] = with_cols([k for k in keys if k != column.key])
                if i > 0 and not self.columns[i - 1].required:
                    swapped = keys[:]
                    swapped[i - 1], swapped[i] = swapped[i], swapped[i - 1]
                    item["up"] = with_cols(swapped)
                if i < len(keys) - 1:
                    swapped = keys[:]
                    swapped[i + 1], swapped[i] = swapped[i], swapped[i + 1]
                    item["down"] = with_cols(swapped)
            chosen.append(item)
        available = [
            {"column": column, "add": with_cols([*keys, key])}
            for key, column in self.catalogue.items()
            if key not in keys
        ]
        return {"chosen": chosen, "available": available}


def parse_columns(resource: str, value: str | None) -> ColumnChoice:
    """The columns named in `value` ("name,mrr,…"), known ones only, required ones first."""
    catalogue, defaults = CATALOGUES[resource]
    raw = [k.strip() for k in (value or "").split(",") if k.strip()]
    if not raw:
        raw = list(defaults)
    keys, unknown = [], []
    for key in raw:
        if key not in catalogue:
            unknown.append(key[:40])
        elif key not in keys:
            keys.append(key)
    required = [key for key, column in catalogue.items() if column.required and key not in keys]
    keys = (
        required + [k for k in keys if catalogue[k].required] + [k for k in keys if not catalogue[k].required]
    )
    keys = list(dict.fromkeys(keys))
    return ColumnChoice([catalogue[k] for k in keys], unknown, catalogue, tuple(defaults))


def open_alerts_column(count_expression: Callable[[], Any]) -> Column:
    """A column counting an account's open alerts, given the count expression by the app that owns alerts."""
    return Column(
        "open_alerts",
        "Open alerts",
        "number",
        lambda a: a.col_open_alerts,
        annotations={"col_open_alerts": count_expression},
    )


__all__ = [
    "ACCOUNT_COLUMNS",
    "CONTACT_COLUMNS",
    "Column",
    "ColumnChoice",
    "employee_band",
    "open_alerts_column",
    "parse_columns",
    "register_account_column",
]
