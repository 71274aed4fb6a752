"""A believable demo: two workspaces of customer data, built by `manage.py seed_demo`.

"Acme Analytics" (a BI product, USD) has a few hundred customer accounts and "Globex Software" (a
developer platform, EUR) a smaller book, so switching workspace visibly switches tenant. Every
signal the health engine and the alert rules read is present and correlated the way it is in real
books of business: accounts whose usage declines this quarter more often have detractor NPS, runs
of bad CSAT, overdue invoices and neglected relationships, and they are the ones that churned.

The data is deterministic for a given day (seeded random generators, dates relative to today) and
is written with batched `bulk_create`. MRR movements are never written here: accounts are created
and changed through the ORM inside `movements_dated(day)`, so `accounts.mrr` records them exactly
as it does for live data.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import (
    Account,
    Contact,
    CSMScore,
    DailyUsage,
    Invoice,
    LifecycleStage,
    MRRMovement,
    NPSResponse,
    Ticket,
    Tier,
    Touchpoint,
)
from accounts.mrr import movements_dated
from tenancy.context import use_workspace
from tenancy.models import Membership, User, Workspace
from tenancy.provisioning import provision_workspace

# Published on purpose: these are the logins of a local demo.
DEMO_PASSWORD = "demo12345"  # noqa: S105
DEMO_URL = "http://127.0.0.1:8000/"

USAGE_DAYS = 365  # usage history ends yesterday; today's rollup is not complete yet
CONTACT_USAGE_DAYS = 30  # per-contact rows only for the last 30 days (DAU/MAU, seats used)
BATCH = 2000
UTC = dt.UTC


# --- What the demo contains ---------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    roles: dict[str, str]  # workspace slug -> role


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin@acme.test", "Avery Chen", {"acme": "admin"}),
    DemoUser("csm@acme.test", "Casey Morgan", {"acme": "csm"}),
    DemoUser("jordan@acme.test", "Jordan Reyes", {"acme": "csm"}),
    DemoUser("viewer@acme.test", "Val Ortiz", {"acme": "viewer"}),
    DemoUser("admin@globex.test", "Priya Shah", {"globex": "admin"}),
    DemoUser("csm@globex.test", "Tom Becker", {"globex": "csm"}),
    DemoUser("multi@demo.test", "Sam Rivera", {"acme": "csm", "globex": "admin"}),
)


@dataclass(frozen=True)
class Feature:
    key: str
    adoption: float  # share of accounts that use it at all
    rate: float  # events per active user on a working day
    seconds: int  # typical duration of one event
    per_user: bool = True  # rolled up per contact as well (system features are account-level only)
    weekend: float = 0.15  # weekend activity relative to a working day
    min_plan: int = 0  # index into the plan ladder below which the feature is not sold


@dataclass(frozen=True)
class WorkspaceSpec:
    name: str
    slug: str
    currency: str
    accounts: int
    seed: int
    features: tuple[Feature, ...]
    plans: tuple[str, str, str]  # entry, middle, top
    owners: dict[str, float]  # CSM email -> share of the owned accounts
    unassigned: float  # share of SMB accounts without a CSM (tech touch)
    titles: dict[str, tuple[str, ...]]
    industries: tuple[str, ...]
    ticket_categories: dict[str, tuple[str, ...]]


ANALYTICS_TITLES = {
    "executive": (
        "VP of Operations",
        "Chief Revenue Officer",
        "CFO",
        "COO",
        "VP Finance",
        "Chief Data Officer",
    ),
    "decision": ("Director of BI", "Head of Data", "IT Director", "Procurement Manager", "Director of FP&A"),
    "champion": ("Analytics Lead", "Operations Manager", "RevOps Manager", "BI Team Lead", "Data Lead"),
    "user": (
        "Data Analyst",
        "Financial Analyst",
        "Marketing Analyst",
        "Product Manager",
        "Sales Operations Analyst",
        "Support Team Lead",
        "BI Developer",
        "Account Executive",
        "Controller",
        "Growth Marketer",
    ),
}
DEVTOOLS_TITLES = {
    "executive": ("CTO", "VP Engineering", "Chief Product Officer", "Head of Platform"),
    "decision": ("Engineering Director", "IT Director", "Head of DevOps", "Procurement Lead"),
    "champion": ("Platform Lead", "DevOps Lead", "Staff Engineer", "Engineering Manager"),
    "user": (
        "Software Engineer",
        "Senior Software Engineer",
        "SRE",
        "QA Engineer",
        "Backend Engineer",
        "Frontend Engineer",
        "Release Manager",
        "Data Engineer",
    ),
}
INDUSTRIES = (
    "Software",
    "Financial services",
    "Healthcare",
    "Retail & e-commerce",
    "Manufacturing",
    "Education",
    "Media & entertainment",
    "Logistics",
    "Professional services",
    "Non-profit",
    "Real estate",
    "Telecommunications",
)
ANALYTICS_TICKETS = {
    "How-to": (
        "How do I share a dashboard with an external stakeholder?",
        "Filtering a report by fiscal quarter",
        "Question about calculated fields",
        "How to schedule a weekly report email",
    ),
    "Bug": (
        "Dashboard tiles show stale numbers",
        "Chart export cuts off the legend",
        "Drill-down returns an empty table",
        "Report totals differ from the source",
    ),
    "Data import": (
        "CSV import fails on date columns",
        "Warehouse sync stuck since yesterday",
        "Duplicate rows after re-import",
    ),
    "Integrations": (
        "Salesforce connector keeps disconnecting",
        "Slack alerts no longer delivered",
        "HubSpot sync misses custom fields",
    ),
    "Performance": ("Dashboards load very slowly in the morning", "Report timeouts on large date ranges"),
    "Billing": (
        "Invoice shows the wrong number of seats",
        "Need a copy of last year's invoices",
        "Update billing contact",
    ),
    "Access & SSO": (
        "SSO login loop for new users",
        "Cannot remove a former employee",
        "Request to raise seat limit",
    ),
    "Feature request": ("Dark mode for wall displays", "Row-level permissions on shared dashboards"),
}
DEVTOOLS_TICKETS = {
    "How-to": ("How to cache dependencies between pipeline runs", "Setting up review rules for monorepos"),
    "Bug": (
        "Pipeline stuck in queued state",
        "Deployment marked failed although it succeeded",
        "Diff view crashes",
    ),
    "Integrations": ("GitHub app lost permissions", "Jira transitions no longer triggered"),
    "Performance": ("Runners take minutes to start", "Slow test result upload"),
    "Billing": ("Overage charge for build minutes", "Change plan at renewal"),
    "Access & SSO": ("SAML group mapping not applied", "Offboarding a contractor"),
    "Feature request": ("Matrix builds across regions", "Approval step for production deploys"),
}

SPECS: tuple[WorkspaceSpec, ...] = (
    WorkspaceSpec(
        name="Acme Analytics",
        slug="acme",
        currency="USD",
        accounts=320,
        seed=42,
        features=(
            Feature("dashboards", adoption=1.0, rate=2.6, seconds=95),
            Feature("reports", adoption=0.9, rate=0.9, seconds=160),
            Feature("exports", adoption=0.55, rate=0.22, seconds=20),
            Feature("api", adoption=0.45, rate=6.0, seconds=1, per_user=False, weekend=0.6, min_plan=1),
            Feature("alerts", adoption=0.5, rate=0.25, seconds=12, per_user=False, weekend=0.5),
            Feature(
                "integrations", adoption=0.4, rate=0.12, seconds=30, per_user=False, weekend=0.8, min_plan=1
            ),
        ),
        plans=("Starter", "Growth", "Enterprise"),
        owners={"csm@acme.test": 0.45, "jordan@acme.test": 0.40, "multi@demo.test": 0.15},
        unassigned=0.12,
        titles=ANALYTICS_TITLES,
        industries=INDUSTRIES,
        ticket_categories=ANALYTICS_TICKETS,
    ),
    WorkspaceSpec(
        name="Globex Software",
        slug="globex",
        currency="EUR",
        accounts=60,
        seed=4242,
        features=(
            Feature("pipelines", adoption=1.0, rate=2.2, seconds=40),
            Feature("code_review", adoption=0.85, rate=1.2, seconds=300),
            Feature("deployments", adoption=0.7, rate=0.35, seconds=15, per_user=False, weekend=0.3),
            Feature("api", adoption=0.4, rate=5.0, seconds=1, per_user=False, weekend=0.7, min_plan=1),
            Feature("integrations", adoption=0.5, rate=0.15, seconds=20, per_user=False, weekend=0.8),
        ),
        plans=("Team", "Business", "Enterprise"),
        owners={"csm@globex.test": 1.0},
        unassigned=0.15,
        titles=DEVTOOLS_TITLES,
        industries=INDUSTRIES,
        ticket_categories=DEVTOOLS_TICKETS,
    ),
)

TIERS = (("Enterprise", 5000, "purple"), ("Mid-market", 1000, "blue"), ("SMB", 0, "teal"))
STAGES = (
    ("trial", "Trial"),
    ("onboarding", "Onboarding"),
    ("adoption", "Adoption"),
    ("established", "Established"),
    ("advocate", "Advocate"),
    ("churned", "Churned"),
)
CHURN_REASONS = (
    "Budget cuts",
    "Moved to a competitor",
    "Low adoption after onboarding",
    "Acquired; consolidated on the parent's tools",
    "Missing features",
    "Champion left the company",
    "Price increase at renewal",
)

COMPANY_WORDS = (
    "Northwind", "Bluepeak", "Brightline", "Cedar", "Summit", "Harbor", "Ironwood", "Lumen",
    "Meridian", "Nimbus", "Oakridge", "Pinnacle", "Redwood", "Silverline", "Tidewater", "Vertex",
    "Willow", "Zenith", "Apex", "Beacon", "Cobalt", "Driftwood", "Evergreen", "Falcon", "Granite",
    "Helix", "Horizon", "Juniper", "Keystone", "Lighthouse", "Maple", "Nova", "Orchid", "Polaris",
    "Riverstone", "Sage", "Starling", "Trident", "Vantage", "Westbrook", "Aurora", "Bramble",
    "Copperleaf", "Fjord", "Glacier", "Kestrel", "Larkspur", "Mosaic", "Northstar", "Osprey",
    "Prairie", "Quarry", "Solstice", "Thistle", "Ember", "Atlas", "Clearwater", "Foxglove",
    "Halcyon", "Ridgeline",
)  # fmt: skip
COMPANY_NOUNS = {
    "Software": ("Labs", "Systems", "Software", "Cloud"),
    "Financial services": ("Capital", "Financial", "Payments", "Bank"),
    "Healthcare": ("Health", "Clinics", "Medical", "Care"),
    "Retail & e-commerce": ("Goods", "Outfitters", "Market", "Supply Co."),
    "Manufacturing": ("Manufacturing", "Industries", "Robotics", "Works"),
    "Education": ("Learning", "Academy", "University"),
    "Media & entertainment": ("Media", "Studios", "Publishing"),
    "Logistics": ("Logistics", "Freight", "Shipping"),
    "Professional services": ("Consulting", "Partners", "Advisory"),
    "Non-profit": ("Foundation", "Trust", "Alliance"),
    "Real estate": ("Properties", "Realty", "Homes"),
    "Telecommunications": ("Networks", "Telecom", "Wireless"),
}
FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Lucas", "Mia", "Mason", "Amelia",
    "Logan", "Harper", "Elijah", "Evelyn", "James", "Abigail", "Aiden", "Emily", "Benjamin", "Ella",
    "Daniel", "Grace", "Henry", "Chloe", "Samuel", "Zoe", "David", "Nora", "Leo", "Hannah", "Omar",
    "Fatima", "Wei", "Mei", "Raj", "Ananya", "Kenji", "Yuki", "Mateo", "Lucia", "Diego", "Sofia",
    "Lars", "Ingrid", "Pierre", "Camille", "Jonas", "Lea", "Tariq", "Amara", "Kofi", "Aisha",
    "Ivan", "Elena", "Marco", "Giulia", "Sean", "Niamh", "Hugo",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martinez",
    "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson",
    "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green",
    "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips",
    "Evans", "Nguyen", "Kim", "Patel", "Singh", "Chen", "Wang", "Tanaka", "Sato", "Muller", "Schmidt",
    "Rossi", "Dubois", "Jensen", "Larsen", "Novak", "Kowalski", "O'Brien", "Murphy", "Okafor", "Haddad",
)  # fmt: skip
REGIONS = (("North America", 0.55), ("EMEA", 0.3), ("APAC", 0.1), ("LATAM", 0.05))

NPS_COMMENTS = {
    "promoter": (
        "The team relies on it every day; renewing was an easy call.",
        "Support is fast and the product keeps getting better.",
        "Saved us hours every week. Recommended it to two partners.",
        "Exactly what we needed, and our CSM is great.",
        "Rock solid and easy to roll out to new teams.",
    ),
    "passive": (
        "Good product, but the learning curve for new hires is steep.",
        "Does the job. Pricing is getting hard to justify.",
        "Solid, though a few reports we need are still missing.",
        "Fine overall; performance could be better at month end.",
    ),
    "detractor": (
        "Too slow for our data volumes, and support takes days to answer.",
        "We barely use it since our champion left.",
        "Too expensive for what we get out of it.",
        "Constant sync failures. We are evaluating alternatives.",
        "Hard to use; most of the team went back to spreadsheets.",
    ),
}
TOUCHPOINT_SUBJECTS = {
    "call": (
        "Check-in call",
        "Adoption review",
        "Renewal prep call",
        "Escalation follow-up",
        "Roadmap preview",
    ),
    "email": (
        "Sent usage report",
        "Shared best-practice guide",
        "Follow-up on open ticket",
        "Invited to webinar",
    ),
    "meeting": ("Workshop with the analytics team", "Success plan review", "Executive sponsor meeting"),
    "qbr": ("Quarterly business review",),
    "training": ("Admin training", "New-user training session", "Advanced reporting training"),
    "onboarding": ("Kick-off call", "Onboarding session: data sources", "Go-live review"),
}
TOUCHPOINT_NOTES = {
    "positive": (
        "Team is happy; discussed expanding to another department.",
        "Champion shared a success story we can reference.",
        "Usage is up; they want to pilot the new features.",
    ),
    "neutral": (
        "Walked through the open items, nothing blocking.",
        "Agreed on next steps for the rollout.",
        "Reviewed seat usage and upcoming renewal.",
    ),
    "negative": (
        "Frustrated by the open support issues; asked for an escalation.",
        "Budget is under review; renewal at risk.",
        "New leadership questions the value; need an exec sponsor meeting.",
    ),
}
CSM_NOTES = {
    1: ("At serious risk: no exec sponsor, usage collapsing.", "Told us they are evaluating competitors."),
    2: ("Adoption stalled after the champion left.", "Unhappy with support response times."),
    3: ("Steady but shallow usage; needs a success plan.", "Mixed feedback from the team."),
    4: ("Healthy; good engagement with the champion.", "Growing usage, renewal looks safe."),
    5: ("Strong advocate; open to a case study.", "Expansion conversation under way."),
}

MRR_ROUNDING = {"SMB": 10, "Mid-market": 50, "Enterprise": 100}
WEEKDAY = np.array([1.0, 1.05, 1.05, 1.0, 0.88, 0.0, 0.0])  # weekends come from Feature.weekend


def tier_for(mrr: Decimal | float) -> str:
    for name, floor, _ in TIERS:
        if mrr >= floor:
            return name
    return TIERS[-1][0]


def _at(day: dt.date, seconds: float) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=UTC) + dt.timedelta(seconds=int(seconds))


def _anniversary(start: dt.date, year: int) -> dt.date:
    try:
        return start.replace(year=year)
    except ValueError:  # 29 February
        return start.replace(year=year, day=28)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for dom in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, dom)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --- One account's story --------------------------------------------------------------------------


@dataclass
class _Story:
    """Everything decided about one account before any row is written."""

    account: Account
    tier: str
    trial: bool
    trajectory: str  # stable, growing, declining
    risk: float  # 0 (thriving) … 1 (lost), the latent that correlates every signal
    start: dt.date  # first day of use: trial start or contract start
    steps: list[tuple[dt.date, Decimal, str]] = field(default_factory=list)  # MRR history
    churned_on: dt.date | None = None
    reactivated_on: dt.date | None = None
    churn_reason: str = ""
    billing: str = "monthly"
    neglected: bool = False
    contacts: list[Contact] = field(default_factory=list)
    events: np.ndarray | None = None  # (features, days)
    durations: np.ndarray | None = None
    contact_rows: list[tuple[int, str, int, int, int]] = field(default_factory=list)

    def mrr_on(self, day: dt.date) -> Decimal:
        mrr, status = Decimal("0"), "active"
        for when, value, state in self.steps:
            if when > day:
                break
            mrr, status = value, state
        return Decimal("0") if status == "churned" else mrr

    def active_on(self, day: dt.date) -> bool:
        if day < self.start:
            return False
        if self.churned_on and self.churned_on <= day:
            return bool(self.reactivated_on and self.reactivated_on <= day)
        return True

    @property
    def end(self) -> dt.date | None:
        """Last day of the relationship, when it has ended."""
        return self.churned_on if self.churned_on and not self.reactivated_on else None


class DemoBuilder:
    """Builds one workspace's data; call `build()` inside a transaction."""

    def __init__(self, spec: WorkspaceSpec, workspace: Workspace, users: dict[str, User], today: dt.date):
        self.spec = spec
        self.workspace = workspace
        self.users = users
        self.today = today
        # Everything happened before today began, so the data depends on the day, not the hour.
        self.now = dt.datetime.combine(today, dt.time(), tzinfo=UTC)
        self.rng = random.Random(spec.seed)
        self.np = np.random.default_rng(spec.seed)
        self.d0 = today - dt.timedelta(days=USAGE_DAYS)
        self.days = [self.d0 + dt.timedelta(days=i) for i in range(USAGE_DAYS)]
        self.weekday = np.array([d.weekday() for d in self.days])
        self.holiday = np.array(
            [
                0.35 if (d.month == 12 and d.day >= 24) or (d.month == 1 and d.day == 1) else 1.0
                for d in self.days
            ]
        )
        self.admin = next((users[u.email] for u in DEMO_USERS if u.roles.get(spec.slug) == "admin"), None)
        self.stories: list[_Story] = []
        self.counts: dict[str, int] = defaultdict(int)

    # ---- orchestration

    def build(self, log: Callable[[str], None] = lambda _msg: None) -> dict[str, int]:
        with use_workspace(self.workspace):
            steps = (
                ("segments", self._segments),
                ("accounts", self._accounts),
                ("MRR history", self._mrr_history),
                ("usage model", self._usage_model),
                ("contacts", self._contacts),
                ("daily usage", self._daily_usage),
                ("invoices", self._invoices),
                ("tickets", self._tickets),
                ("NPS", self._nps),
                ("touchpoints", self._touchpoints),
                ("CSM scores", self._csm_scores),
            )
            for label, step in steps:
                started = time.perf_counter()
                step()
                log(f"  {self.spec.slug}: {label} in {time.perf_counter() - started:.2f} s")
        return dict(self.counts)

    def _pick(
        self, stories: list[_Story], share: float, weight: Callable[[_Story], float], minimum: int = 2
    ) -> set[int]:
        """A weighted draw of a fixed share of `stories`, so every workspace shows every scenario."""
        k = min(len(stories), max(minimum, round(share * len(stories))))
        if k == 0:
            return set()
        w = np.array([weight(s) for s in stories], dtype=float)
        chosen = self.np.choice(len(stories), size=k, replace=False, p=w / w.sum())
        return {id(stories[i]) for i in chosen}

    def _picked(self, stories: list[_Story], *args, **kwargs) -> list[_Story]:
        """`_pick`, in the stories' order (iterating a set of ids would not be reproducible)."""
        ids = self._pick(stories, *args, **kwargs)
        return [s for s in stories if id(s) in ids]

    def _save(self, model, objs: list) -> None:
        for i in range(0, len(objs), BATCH):
            model.objects.bulk_create(objs[i : i + BATCH])
        self.counts[model.__name__] += len(objs)

    # ---- tiers and stages

    def _segments(self) -> None:
        tiers = [
            Tier(name=name, position=i + 1, color=color, mrr_from=start)
            for i, (name, start, color) in enumerate(TIERS)
        ]
        stages = [LifecycleStage(key=key, name=name, position=i + 1) for i, (key, name) in enumerate(STAGES)]
        self._save(Tier, tiers)
        self._save(LifecycleStage, stages)
        self.tiers = {t.name: t for t in tiers}
        self.stages = {s.key: s for s in stages}

    # ---- accounts and their revenue history

    def _company_names(self, n: int) -> list[tuple[str, str, str]]:
        seen: set[str] = set()
        out = []
        while len(out) < n:
            industry = self.rng.choice(self.spec.industries)
            name = f"{self.rng.choice(COMPANY_WORDS)} {self.rng.choice(COMPANY_NOUNS[industry])}"
            if name in seen:
                continue
            seen.add(name)
            slug = "".join(ch for ch in name.lower() if ch.isalnum())
            domain = f"{slug}.{self.rng.choice(('com', 'com', 'com', 'io', 'co', 'net'))}"
            out.append((name, domain, industry))
        return out

    def _accounts(self) -> None:
        rng, spec, today = self.rng, self.spec, self.today
        owners = [self.users[email] for email in spec.owners]
        weights = list(spec.owners.values())
        n_trials = max(2, round(spec.accounts * 0.03))
        for i, (name, domain, industry) in enumerate(self._company_names(spec.accounts)):
            trial = i >= spec.accounts - n_trials
            tier = rng.choices(("SMB", "Mid-market", "Enterprise"), (0.55, 0.32, 0.13))[0]
            if trial:
                tier = "SMB"
            trajectory = rng.choices(("stable", "growing", "declining"), (0.6, 0.16, 0.24))[0]
            base, spread = {"stable": (0.2, 0.1), "growing": (0.08, 0.06), "declining": (0.72, 0.12)}[
                trajectory
            ]
            risk = min(1.0, max(0.0, rng.gauss(base, spread)))
            if trial:
                start = today - dt.timedelta(days=rng.randint(3, 24))
            elif rng.random() < 0.08:
                start = today - dt.timedelta(days=rng.randint(10, 90))
            else:
                start = today - dt.timedelta(days=rng.randint(91, 3 * 365))
            lo, median, hi = {
                "SMB": (99, 420, 990),
                "Mid-market": (1000, 2100, 4950),
                "Enterprise": (5000, 9500, 48000),
            }[tier]
            step = MRR_ROUNDING[tier]
            mrr = min(hi, max(lo, median * math.exp(rng.gauss(0, 0.45))))
            mrr = Decimal(0) if trial else Decimal(max(step, round(mrr / step) * step))
            employees = {"SMB": (8, 250), "Mid-market": (150, 2500), "Enterprise": (1500, 60000)}[tier]
            plan_idx = {
                "SMB": rng.choices((0, 1), (0.7, 0.3))[0],
                "Mid-market": rng.choices((1, 2), (0.75, 0.25))[0],
            }
            plan = spec.plans[plan_idx.get(tier, 2)]
            n_contacts = {"SMB": (2, 6), "Mid-market": (4, 10), "Enterprise": (8, 15)}[tier]
            n_contacts = rng.randint(2, 4) if trial else rng.randint(*n_contacts)
            owner = rng.choices(owners, weights)[0]
            if tier == "SMB" and rng.random() < spec.unassigned:
                owner = None
            account = Account(
                external_id=f"crm-{10001 + i}",
                name=name,
                domain=domain,
                industry=industry,
                employee_count=int(math.exp(rng.uniform(math.log(employees[0]), math.log(employees[1])))),
                plan=plan,
                mrr=mrr,
                licenses_purchased=max(2, round(n_contacts * rng.uniform(0.85, 1.3))),
                contract_start=None if trial else start,
                renewal_date=None,
                tier=self.tiers[tier_for(mrr)],
                csm_owner=owner,
                custom_attributes={
                    "region": rng.choices([r for r, _ in REGIONS], [w for _, w in REGIONS])[0],
                    "contact_count": n_contacts,
                },
                created_at=_at(start, rng.uniform(8, 18) * 3600),
            )
            story = _Story(
                account=account, tier=tier, trial=trial, trajectory=trajectory, risk=risk, start=start
            )
            story.billing = (
                "annual"
                if tier == "Enterprise" or (tier == "Mid-market" and rng.random() < 0.3)
                else "monthly"
            )
            if trial:
                account.custom_attributes["trial_ends_on"] = (start + dt.timedelta(days=30)).isoformat()
            self.stories.append(story)
        self._sign_this_week()
        self._plan_revenue()
        self._assign_stage_and_renewal()
        # The 'new' movement is dated by the block, one block per contract start.
        by_start: dict[dt.date, list[Account]] = defaultdict(list)
        for story in self.stories:
            by_start[story.start].append(story.account)
        for day in sorted(by_start):
            with movements_dated(day):
                Account.objects.bulk_create(by_start[day])
        self.counts["Account"] += len(self.stories)

    def _sign_this_week(self, n: int = 2) -> None:
        """The newest contracts were signed this week, so "New accounts this week" has customers in
        every workspace. Only their dates move: the random draws, and so the rest of the book, stay
        the same."""
        paid = sorted((s for s in self.stories if not s.trial), key=lambda s: s.start)
        for k, s in enumerate(paid[-n:]):
            time_of_day = s.account.created_at - _at(s.start, 0)
            s.start = self.today - dt.timedelta(days=2 + 2 * k)
            s.account.contract_start = s.start
            s.account.created_at = _at(s.start, time_of_day.total_seconds())

    def _plan_revenue(self) -> None:
        """Decide churns, reactivations, expansions and contractions as dated MRR steps.

        The account keeps its first MRR (it is created with it); `_mrr_history` replays the rest.
        """
        rng, today = self.rng, self.today
        paid = [s for s in self.stories if not s.trial]
        eligible = [s for s in paid if (today - s.start).days > 150]
        # Churned accounts are drawn with weight risk², so the risky ones dominate, not exclusively.
        n_churn = round(len(self.stories) * 0.09)
        pool = list(eligible)
        churned: list[_Story] = []
        while pool and len(churned) < n_churn:
            pick = rng.choices(pool, [0.02 + s.risk**2 for s in pool])[0]
            pool.remove(pick)
            churned.append(pick)
        for s in churned:
            earliest = max(s.start + dt.timedelta(days=120), today - dt.timedelta(days=360))
            s.churned_on = earliest + dt.timedelta(days=rng.randint(0, max(0, (today - earliest).days - 7)))
            s.risk = max(s.risk, rng.uniform(0.7, 0.95))
            s.trajectory = "declining"
        early = [s for s in churned if (today - s.churned_on).days > 200]
        for s in early[:2]:
            s.reactivated_on = s.churned_on + dt.timedelta(days=rng.randint(45, 120))
            s.risk, s.trajectory = rng.uniform(0.2, 0.4), "growing"

        for s in paid:
            final = s.account.mrr
            step = MRR_ROUNDING[s.tier]
            life = (s.end or today) - s.start
            changes: list[float] = []
            if s.trajectory == "growing" and s.reactivated_on is None:
                changes = [rng.uniform(1.15, 1.6) for _ in range(rng.choice((1, 1, 2)))]
            elif s.trajectory == "declining" and rng.random() < 0.4:
                changes = [rng.uniform(0.6, 0.85)]
            elif s.trajectory == "stable":
                roll = rng.random()
                changes = (
                    [rng.uniform(1.1, 1.3)]
                    if roll < 0.15
                    else [rng.uniform(0.75, 0.9)]
                    if roll < 0.21
                    else []
                )
            if life.days < 90 or s.reactivated_on:
                changes = []
            initial = float(final)
            for factor in changes:
                initial /= factor
            value = Decimal(max(step, round(initial / step) * step))
            s.steps = [(s.start, value, "active")]
            if changes:
                window = (s.start + dt.timedelta(days=45), (s.end or today) - dt.timedelta(days=10))
                span = (window[1] - window[0]).days
                days = sorted(rng.sample(range(span), len(changes)))
                for offset, factor in zip(days, changes, strict=True):
                    value = Decimal(max(step, round(float(value) * factor / step) * step))
                    s.steps.append((window[0] + dt.timedelta(days=offset), value, "active"))
            if s.churned_on:
                s.steps.append((s.churned_on, value, "churned"))
            if s.reactivated_on:
                value = Decimal(max(step, round(float(value) * rng.uniform(0.7, 1.0) / step) * step))
                s.steps.append((s.reactivated_on, value, "active"))
            # The account is created with its first MRR; the tier already reflects the last one.
            s.account.mrr = s.steps[0][1]
            s.account.tier = self.tiers[tier_for(value)]
            if s.churned_on:
                s.churn_reason = rng.choice(CHURN_REASONS)

    def _assign_stage_and_renewal(self) -> None:
        rng, today = self.rng, self.today
        for s in self.stories:
            a = s.account
            if s.trial:
                key = "trial"
            elif s.end:
                key = "churned"
            elif s.reactivated_on:
                key = "adoption"
            else:
                age = (today - s.start).days
                key = "onboarding" if age < 75 else "adoption" if age < 240 else "established"
                if key == "established" and s.risk < 0.2 and rng.random() < 0.45:
                    key = "advocate"
            a.lifecycle_stage = self.stages[key]
            if not s.trial:
                ref = s.end or today
                year = ref.year
                renewal = _anniversary(s.start, year)
                while renewal <= ref:
                    year += 1
                    renewal = _anniversary(s.start, year)
                a.renewal_date = renewal if not s.end else _anniversary(s.start, year - 1)
                if a.renewal_date < s.start:
                    a.renewal_date = renewal

    def _mrr_history(self) -> None:
        """Replay expansions, contractions, churns and reactivations at their dates."""
        by_day: dict[dt.date, list[tuple[_Story, Decimal, str]]] = defaultdict(list)
        for s in self.stories:
            for day, mrr, status in s.steps[1:]:
                by_day[day].append((s, mrr, status))
        # One save per change: `bulk_update` currently records each movement twice (it calls the
        # queryset's recording `update()` under its own recording), so it is avoided here.
        for day in sorted(by_day):
            with movements_dated(day):
                for s, mrr, status in by_day[day]:
                    a = s.account
                    a.mrr, a.status = mrr, status
                    a.churned_at = day if status == "churned" else None
                    a.churn_reason = s.churn_reason if status == "churned" else ""
                    a.save(update_fields=["mrr", "status", "churned_at", "churn_reason", "updated_at"])
        self.counts["MRRMovement"] = MRRMovement.objects.count()

    # ---- usage and the people behind it

    def _trend(self, s: _Story) -> np.ndarray:
        n = USAGE_DAYS
        idx = np.arange(n, dtype=float)
        g = self.np
        if s.trajectory == "growing":
            trend = np.interp(idx, [0, n - 180, n], [0.7, 0.8, g.uniform(1.25, 1.5)])
        elif s.trajectory == "declining":
            end = (s.churned_on - self.d0).days if s.churned_on else n
            trend = np.interp(
                idx, [end - 160, end - 70, end], [1.0, g.uniform(0.55, 0.7), g.uniform(0.2, 0.4)]
            )
        else:
            trend = 1 + 0.08 * np.sin(2 * np.pi * idx / 365 + g.uniform(0, 2 * np.pi))
        wobble = np.convolve(g.normal(0, 0.12, n + 20), np.ones(21) / 21, mode="valid")[:n]
        trend = trend * (1 + wobble)
        for begin in (s.start, s.reactivated_on):
            if begin is None:
                continue
            b = (begin - self.d0).days
            trend = trend * np.where(idx >= b, np.clip(0.2 + 0.8 * (idx - b) / 60, 0.2, 1.0), 1.0)
        active = np.array([s.active_on(d) for d in self.days])
        return np.clip(trend, 0, None) * active

    def _usage_model(self) -> None:
        """Daily events per feature, and who among the contacts produced the last 30 days of them."""
        g = self.np
        features = self.spec.features
        weekday_factor = WEEKDAY[self.weekday]
        recent = USAGE_DAYS - CONTACT_USAGE_DAYS
        live = [s for s in self.stories if not s.end and not s.trial]
        self.champion_left = self._pick(live, 0.05, lambda s: 0.02 + s.risk**2)
        for s in self.stories:
            self._plan_contacts(s)
            plan_level = self.spec.plans.index(s.account.plan)
            users = s.account.licenses_purchased * float(np.clip(0.9 - 0.45 * s.risk, 0.3, 0.95))
            trend = self._trend(s) * self.holiday
            lam = np.zeros((len(features), USAGE_DAYS))
            start_idx = max(0, (s.start - self.d0).days)
            for f, feat in enumerate(features):
                if plan_level < feat.min_plan or g.random() > feat.adoption:
                    continue
                lag = 0 if feat.adoption == 1.0 else int(g.integers(0, 120))
                week = np.where(self.weekday >= 5, feat.weekend, weekday_factor)
                noise = g.gamma(4.0, 0.25, USAGE_DAYS)
                lam[f] = users * feat.rate * trend * week * noise
                lam[f, : start_idx + lag] = 0
            if s.trajectory == "declining" and not s.end and s.risk > 0.74:
                # The worst ones went quiet: side features dropped first, then everything.
                lam[2:, -int(g.integers(30, 60)) :] = 0
                lam[:, -int(g.integers(8, 25)) :] = 0
            s.events = g.poisson(lam)
            secs = np.array([feat.seconds for feat in features], dtype=float)[:, None]
            s.durations = np.rint(s.events * secs * g.lognormal(0, 0.3, lam.shape)).astype(np.int64)

            # Who did it: users with their own habit (probability of showing up on a working day).
            users_idx = [i for i, c in enumerate(s.contacts) if c.is_active and c._demo_user]
            if not users_idx:
                continue
            habit = np.clip(g.beta(2.2, 2.0, len(users_idx)) * (1.25 - s.risk), 0.06, 0.95)
            intensity = g.gamma(2.0, 1.0, len(users_idx))
            days = np.arange(recent, USAGE_DAYS)
            weekend = self.weekday[days] >= 5
            presence = g.random((len(users_idx), len(days))) < habit[:, None] * np.where(weekend, 0.12, 1.0)
            last_seen: dict[int, int] = {}
            for f, feat in enumerate(features):
                if not feat.per_user:
                    continue
                for j, d in enumerate(days):
                    total = int(s.events[f, d])
                    present = np.flatnonzero(presence[:, j])
                    if total == 0 or len(present) == 0:
                        continue
                    weights = intensity[present] / intensity[present].sum()
                    split = g.multinomial(total, weights)
                    for k, events in zip(present, split, strict=True):
                        if events:
                            ci = users_idx[k]
                            seconds = int(events * feat.seconds * g.lognormal(0, 0.3))
                            s.contact_rows.append((ci, feat.key, int(d), int(events), seconds))
                            last_seen[ci] = max(last_seen.get(ci, 0), int(d))
            for ci, d in last_seen.items():
                s.contacts[ci].last_seen_at = _at(self.days[d], g.uniform(7, 19) * 3600)

    def _person(self, used: set[str], domain: str) -> tuple[str, str]:
        while True:
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            email = f"{first}.{last}".lower().replace("'", "") + f"@{domain}"
            if email not in used:
                used.add(email)
                return f"{first} {last}", email

    def _plan_contacts(self, s: _Story) -> None:
        rng, today, titles = self.rng, self.today, self.spec.titles
        n = s.account.custom_attributes.pop("contact_count")
        used: set[str] = set()
        champion_left = id(s) in self.champion_left
        has_champion = champion_left or rng.random() < 0.85
        for i in range(n):
            name, email = self._person(used, s.account.domain)
            champion = has_champion and i == 0
            executive = i == 1
            decision = (i == 1 and rng.random() < 0.6) or i == 2
            role = (
                "champion" if champion else "executive" if executive else "decision" if decision else "user"
            )
            joined = s.start + dt.timedelta(days=rng.randint(0, 20))
            c = Contact(
                account=s.account,
                external_id=f"{s.account.external_id}-c{i + 1:02d}",
                email=email,
                name=name,
                title=rng.choice(titles[role]),
                is_champion=champion,
                is_executive=executive,
                is_decision_maker=decision,
                created_at=_at(min(joined, today - dt.timedelta(days=1)), rng.uniform(8, 18) * 3600),
            )
            # Executives rarely log in; most others are product users unless they went dormant.
            c._demo_user = not executive and rng.random() > 0.05 + 0.7 * s.risk**2
            leave = champion_left if champion else (not s.trial and rng.random() < 0.07)
            if leave:
                recent = champion and champion_left
                back = rng.randint(3, 40) if recent else rng.randint(20, 330)
                left = max(s.start + dt.timedelta(days=14), today - dt.timedelta(days=back))
                if left < today:
                    c.is_active = False
                    c.deactivated_at = _at(left, rng.uniform(9, 17) * 3600)
            # Seen before the last 30 days (the usage model overwrites it for recent users), or
            # up to the day they left; some never logged in.
            end = min(s.end or today, c.deactivated_at.date() if c.deactivated_at else today)
            hi = end - dt.timedelta(days=CONTACT_USAGE_DAYS + 1 if c.is_active and not s.end else 0)
            lo = max(s.start, end - dt.timedelta(days=300))
            if rng.random() < 0.85 and hi >= lo:
                c.last_seen_at = _at(
                    lo + dt.timedelta(days=rng.randint(0, (hi - lo).days)), rng.uniform(7, 19) * 3600
                )
            s.contacts.append(c)

    def _contacts(self) -> None:
        self._save(Contact, [c for s in self.stories for c in s.contacts])

    def _daily_usage(self) -> None:
        ws = self.workspace.pk
        keys = [f.key for f in self.spec.features]
        days = self.days
        rows: list[DailyUsage] = []
        total = 0

        def flush() -> None:
            nonlocal rows, total
            DailyUsage.objects.bulk_create(rows, batch_size=BATCH)
            total += len(rows)
            rows = []

        for s in self.stories:
            aid = s.account.pk
            # Rows partition the activity: events attributed to a contact are not counted again
            # in the account-level row of the same feature and day.
            attributed: dict[tuple[str, int], tuple[int, int]] = {}
            for _ci, key, d, e, secs in s.contact_rows:
                done_e, done_s = attributed.get((key, d), (0, 0))
                attributed[(key, d)] = (done_e + e, done_s + secs)
            f_idx, d_idx = np.nonzero(s.events)
            ev = s.events[f_idx, d_idx].tolist()
            du = s.durations[f_idx, d_idx].tolist()
            for f, d, e, secs in zip(f_idx.tolist(), d_idx.tolist(), ev, du, strict=True):
                done_e, done_s = attributed.get((keys[f], d), (0, 0))
                e, secs = e - done_e, max(0, secs - done_s)
                if e <= 0:
                    continue
                rows.append(
                    DailyUsage(
                        workspace_id=ws,
                        account_id=aid,
                        feature=keys[f],
                        day=days[d],
                        events=e,
                        duration_seconds=secs,
                    )
                )
            for ci, key, d, e, secs in s.contact_rows:
                rows.append(
                    DailyUsage(
                        workspace_id=ws,
                        account_id=aid,
                        contact_id=s.contacts[ci].pk,
                        feature=key,
                        day=days[d],
                        events=e,
                        duration_seconds=secs,
                    )
                )
            if len(rows) >= 20 * BATCH:
                flush()
        flush()
        self.counts["DailyUsage"] += total
        self.counts["DailyUsage (per contact)"] += sum(len(s.contact_rows) for s in self.stories)

    # ---- billing

    def _invoices(self) -> None:
        rng, today = self.rng, self.today
        invoices: list[Invoice] = []
        # Payment trouble follows risk: overdue for 30/60/90+ days, or a failed card charge.
        paying = [s for s in self.stories if not s.trial]
        past_due: dict[int, list[Invoice]] = defaultdict(list)
        seq = 0
        for s in paying:
            months = 1 if s.billing == "monthly" else 12
            issues: list[dt.date] = []
            k = 0
            while True:
                day = _add_months(s.start, k * months)
                k += 1
                if day >= today or (s.end and day >= s.end):
                    break
                if day >= today - dt.timedelta(days=3 * 365) and s.active_on(day):
                    issues.append(day)
            if s.billing == "monthly":
                issues = [d for d in issues if d >= today - dt.timedelta(days=USAGE_DAYS)]
            for issued in issues:
                seq += 1
                due = issued + dt.timedelta(days=45 if s.billing == "annual" else 30)
                amount = (s.mrr_on(issued) * months).quantize(Decimal("0.01"))
                inv = Invoice(
                    account=s.account,
                    external_id=f"in_{seq:06d}",
                    number=f"INV-{issued.year}-{seq:05d}",
                    amount=amount,
                    issued_on=issued,
                    due_on=due,
                    status="paid",
                    created_at=_at(issued, 6 * 3600),
                )
                paid = issued + dt.timedelta(days=max(1, int(rng.gauss(24 if s.risk < 0.5 else 34, 8))))
                if paid >= today:
                    inv.status, paid = "open", None
                inv.paid_on = paid
                if due < today:
                    past_due[id(s)].append(inv)
                if rng.random() < 0.006:
                    inv.status, inv.paid_on = "void", None
                invoices.append(inv)
        # Payment trouble follows risk: unpaid for 30/60/90+ days, or a failed card charge.
        recent = [s for s in paying if past_due[id(s)] and (today - past_due[id(s)][-1].due_on).days < 100]
        for s in self._picked(recent, 0.09, lambda s: 0.01 + s.risk**3):
            limit = rng.choice((35, 50, 65, 80, 100, 130))
            for inv in past_due[id(s)]:
                if (today - inv.due_on).days <= limit:
                    inv.status, inv.paid_on = "open", None
        monthly = [s for s in recent if s.billing == "monthly" and not s.end]
        for s in self._picked(monthly, 0.03, lambda s: 0.05 + s.risk**2):
            past_due[id(s)][-1].status, past_due[id(s)][-1].paid_on = "failed", None
        self._save(Invoice, invoices)

    # ---- support

    def _tickets(self) -> None:
        rng, g, now, today = self.rng, self.np, self.now, self.today
        tickets: list[Ticket] = []
        categories = list(self.spec.ticket_categories)
        cat_weights = [0.24, 0.2, 0.12, 0.12, 0.08, 0.08, 0.08, 0.08][: len(categories)]
        median_response_h = {"urgent": 0.5, "high": 2, "normal": 6, "low": 14}
        median_resolve_h = {"urgent": 6, "high": 20, "normal": 40, "low": 72}
        seq = 0
        live = [s for s in self.stories if not s.end and not s.trial]
        bad_runs = self._pick(live, 0.04, lambda s: 0.01 + s.risk**3)
        long_pending = self._pick(live, 0.05, lambda s: 0.02 + s.risk**2)

        def new_ticket(s: _Story, opened: dt.datetime, resolved_ok: bool = True) -> Ticket:
            nonlocal seq
            seq += 1
            category = rng.choices(categories, cat_weights)[0]
            priority = rng.choices(("low", "normal", "high", "urgent"), (0.25, 0.5, 0.18, 0.07))[0]
            contacts = [c for c in s.contacts if c.is_active] or s.contacts
            t = Ticket(
                account=s.account,
                contact=rng.choice(contacts),
                external_id=f"tk_{seq:06d}",
                subject=rng.choice(self.spec.ticket_categories[category]),
                priority=priority,
                category=category,
                opened_at=opened,
                escalated=rng.random() < 0.02 + 0.08 * s.risk + (0.12 if priority == "urgent" else 0),
                created_at=opened,
            )
            response = opened + dt.timedelta(hours=median_response_h[priority] * float(g.lognormal(0, 0.7)))
            resolved = response + dt.timedelta(hours=median_resolve_h[priority] * float(g.lognormal(0, 0.9)))
            if response < now:
                t.first_response_at = response
            if resolved_ok and resolved < now:
                t.resolved_at = resolved
                t.status = "closed" if resolved < now - dt.timedelta(days=7) else "solved"
                if rng.random() < 0.62:
                    bad = rng.random() < 0.04 + 0.45 * s.risk**2
                    t.csat = rng.choice((1, 2, 2, 3)) if bad else rng.choices((3, 4, 5), (0.1, 0.35, 0.55))[0]
            else:
                t.status = "pending" if t.first_response_at else "open"
            return t

        for s in self.stories:
            yearly = {"SMB": 3.5, "Mid-market": 7, "Enterprise": 13}[s.tier] * (0.6 + 1.4 * s.risk)
            first = max(s.start, self.d0)
            last = s.end or today
            span = (last - first).days
            if span <= 0:
                continue
            own: list[Ticket] = []
            for _ in range(int(g.poisson(yearly * span / 365))):
                day = first + dt.timedelta(days=rng.randint(0, span))
                opened = _at(day, rng.uniform(7, 20) * 3600)
                if opened >= now:
                    opened = now - dt.timedelta(hours=rng.uniform(1, 48))
                if not s.active_on(opened.date()):
                    continue
                own.append(new_ticket(s, opened))
            if id(s) in long_pending:
                t = new_ticket(
                    s, _at(today - dt.timedelta(days=rng.randint(32, 120)), 10 * 3600), resolved_ok=False
                )
                t.escalated = t.escalated or rng.random() < 0.35
                own.append(t)
            if id(s) in bad_runs:
                for back in sorted(rng.sample(range(5, 80), 3), reverse=True):
                    t = new_ticket(s, _at(today - dt.timedelta(days=back + 3), 11 * 3600))
                    t.resolved_at = t.opened_at + dt.timedelta(days=rng.uniform(1, 3))
                    t.first_response_at = t.first_response_at or t.opened_at + dt.timedelta(hours=2)
                    t.status, t.csat = "solved", rng.choice((1, 1, 2))
                    own.append(t)
                # No better rating may follow the run.
                run_start = min(t.opened_at for t in own[-3:])
                for t in own[:-3]:
                    if t.csat and t.opened_at > run_start:
                        t.csat = None
            tickets.extend(own)
        self._save(Ticket, tickets)

    # ---- relationship

    def _risk_on(self, s: _Story, day: dt.date) -> float:
        """Risk grows along a decline: early surveys of a declining account were still friendly."""
        if s.trajectory != "declining":
            return s.risk
        end = s.churned_on or self.today
        progress = min(1.0, max(0.0, 1 - (end - day).days / 150))
        return 0.25 + (s.risk - 0.25) * progress

    def _nps(self) -> None:
        rng, today = self.rng, self.today
        responses: list[NPSResponse] = []
        seq = 0
        waves = [today - dt.timedelta(days=d) for d in (320, 230, 140, 45)]
        for s in self.stories:
            for wave in waves:
                if not s.active_on(wave) or (wave - s.start).days < 30:
                    continue
                risk = self._risk_on(s, wave)
                for c in s.contacts:
                    if c.deactivated_at and c.deactivated_at.date() < wave:
                        continue
                    if rng.random() > (0.22 if c.is_decision_maker or c.is_champion else 0.1):
                        continue
                    score = round(min(10, max(0, rng.gauss(9.2 - 9 * risk**2, 1.4))))
                    category = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
                    answered = wave + dt.timedelta(days=rng.randint(0, 12))
                    if answered >= today:
                        continue
                    seq += 1
                    responses.append(
                        NPSResponse(
                            account=s.account,
                            contact=c,
                            external_id=f"nps_{seq:06d}",
                            score=score,
                            comment=rng.choice(NPS_COMMENTS[category]) if rng.random() < 0.55 else "",
                            responded_at=_at(answered, rng.uniform(8, 20) * 3600),
                            created_at=_at(answered, 21 * 3600),
                        )
                    )
        self._save(NPSResponse, responses)

    def _touchpoints(self) -> None:
        rng, today = self.rng, self.today
        rows: list[Touchpoint] = []
        seq = 0
        kinds = ("email", "call", "meeting", "training")
        owned = [s for s in self.stories if s.account.csm_owner and not s.end]
        neglected = self._pick(owned, 0.08, lambda s: 0.02 + s.risk**2)
        for s in self.stories:
            owner = s.account.csm_owner
            if owner is None:
                continue
            s.neglected = id(s) in neglected
            gap = {"Enterprise": 9, "Mid-market": 18, "SMB": 28}[s.tier]
            first = max(s.start, today - dt.timedelta(days=USAGE_DAYS))
            last = s.end or today
            if s.neglected:
                last = min(last, today - dt.timedelta(days=rng.randint(62, 150)))
            plan: list[tuple[dt.date, str]] = []
            day = first + dt.timedelta(days=rng.randint(0, gap))
            while day < last:
                plan.append((day, rng.choices(kinds, (0.4, 0.33, 0.2, 0.07))[0]))
                day += dt.timedelta(days=max(1, int(rng.expovariate(1 / gap))))
            if (today - s.start).days < 90:
                plan += [
                    (s.start + dt.timedelta(days=d), "onboarding")
                    for d in (1, 10, 24)
                    if s.start.toordinal() + d < last.toordinal()
                ]
            if s.tier != "SMB":
                q = first + dt.timedelta(days=rng.randint(20, 90))
                while q < last:
                    plan.append((q, "qbr"))
                    q += dt.timedelta(days=91)
            for day, kind in plan:
                if not s.active_on(day) or day > today:
                    continue
                risk = self._risk_on(s, day)
                sentiment = rng.choices(
                    ("positive", "neutral", "negative"), (0.5 - 0.4 * risk, 0.4, 0.1 + 0.4 * risk)
                )[0]
                author = owner if rng.random() < 0.9 or self.admin is None else self.admin
                seq += 1
                occurred = _at(day, rng.uniform(8.5, 17.5) * 3600)
                if occurred > self.now:
                    occurred = self.now - dt.timedelta(hours=1)
                rows.append(
                    Touchpoint(
                        account=s.account,
                        external_id=f"tp_{seq:06d}",
                        kind=kind,
                        occurred_at=occurred,
                        author=author,
                        subject=rng.choice(TOUCHPOINT_SUBJECTS[kind]),
                        notes=rng.choice(TOUCHPOINT_NOTES[sentiment]),
                        sentiment=sentiment,
                        created_at=occurred,
                    )
                )
        self._save(Touchpoint, rows)

    def _csm_scores(self) -> None:
        rng, today = self.rng, self.today
        rows: list[CSMScore] = []
        seq = 0
        for s in self.stories:
            owner = s.account.csm_owner
            if owner is None or s.trial:
                continue
            day = max(s.start, today - dt.timedelta(days=USAGE_DAYS)) + dt.timedelta(days=rng.randint(14, 45))
            last = s.end or today
            while day < last:
                score = round(min(5, max(1, rng.gauss(5.1 - 4.2 * self._risk_on(s, day), 0.45))))
                seq += 1
                at = _at(day, rng.uniform(9, 18) * 3600)
                rows.append(
                    CSMScore(
                        account=s.account,
                        external_id=f"cs_{seq:06d}",
                        score=score,
                        note=rng.choice(CSM_NOTES[score]),
                        author=owner,
                        scored_at=at,
                        created_at=at,
                    )
                )
                day += dt.timedelta(days=rng.randint(30, 70))
        self._save(CSMScore, rows)


# --- Users, workspaces, and the whole seed ---------------------------------------------------------


def ensure_users(reset_passwords: bool = False) -> dict[str, User]:
    """The demo logins, created once; `reset_passwords` puts the published password back."""
    users: dict[str, User] = {}
    password_hash = None
    for spec in DEMO_USERS:
        user = User.objects.filter(email=spec.email).first()
        if user is None:
            # Hashing is deliberately slow; the demo users share one published password, so it is
            # hashed once and the hash reused.
            user = User.objects.create_user(email=spec.email, password=None, full_name=spec.full_name)
            password_hash = password_hash or make_password(DEMO_PASSWORD)
            user.password = password_hash
            user.save(update_fields=["password"])
        elif reset_passwords:
            password_hash = password_hash or make_password(DEMO_PASSWORD)
            user.password = password_hash
            user.is_active = True
            user.save(update_fields=["password", "is_active"])
        users[spec.email] = user
    return users


def seed(reset: bool = False, log: Callable[[str], None] = print) -> dict[str, dict[str, int] | None]:
    """Build the demo workspaces; returns the rows written per workspace (None when it was kept)."""
    today = timezone.localdate()
    users = ensure_users(reset_passwords=reset)
    results: dict[str, dict[str, int] | None] = {}
    for spec in SPECS:
        existing = Workspace.objects.filter(slug=spec.slug).first()
        if existing is not None and reset:
            started = time.perf_counter()
            delete_workspaces([existing.pk])
            log(f"  {spec.slug}: deleted the previous demo in {time.perf_counter() - started:.2f} s")
            existing = None
        if existing is not None and Account.all_workspaces.filter(workspace=existing).exists():
            _ensure_memberships(existing, users)
            results[spec.slug] = None
            continue
        with transaction.atomic():
            workspace = existing or Workspace.objects.create(
                name=spec.name, slug=spec.slug, currency=spec.currency
            )
            _ensure_memberships(workspace, users)
            results[spec.slug] = DemoBuilder(spec, workspace, users, today).build(log)
            # Other apps add their defaults (scorecards…) once the data is in, e.g. a first
            # health history backfill queued for after the commit.
            provision_workspace(workspace)
    return results


def _ensure_memberships(workspace: Workspace, users: dict[str, User]) -> None:
    for spec in DEMO_USERS:
        role = spec.roles.get(workspace.slug)
        if role:
            Membership.objects.update_or_create(
                workspace=workspace, user=users[spec.email], defaults={"role": role}
            )


def delete_workspaces(ids: list[int]) -> None:
    """Delete workspaces and every row they own, with one DELETE per table.

    The ORM cascade cannot be used here: other apps protect some rows (scorecards, stages in
    use) and any `post_delete` receiver makes Django fetch and signal every row one by one. Every
    tenant table carries its workspace, so each is emptied of these workspaces directly. Foreign
    keys are deferred to the commit, so the order of the tables does not matter; rows without a
    workspace column that point at tenant rows (many-to-many link tables) go first, while their
    targets can still be found.
    """
    if not ids:
        return
    qn = connection.ops.quote_name
    in_ids = f"IN ({', '.join(['%s'] * len(ids))})"
    owned: dict[type, str] = {}
    for model in apps.get_models(include_auto_created=True):
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is Workspace and model._meta.managed:
                owned[model] = f.column
    # Table and column names come from the models, quoted; the ids are parameters.
    with transaction.atomic(), connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            if model in owned or model is Workspace or not model._meta.managed:
                continue
            for f in model._meta.concrete_fields:
                target = f.related_model if f.is_relation else None
                if target in owned:
                    sql = (
                        f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(f.column)} IN "  # noqa: S608
                        f"(SELECT id FROM {qn(target._meta.db_table)} WHERE {qn(owned[target])} {in_ids})"
                    )
                    cursor.execute(sql, ids)
        for model, column in owned.items():
            cursor.execute(f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(column)} {in_ids}", ids)  # noqa: S608
        cursor.execute(f"DELETE FROM {qn(Workspace._meta.db_table)} WHERE id {in_ids}", ids)  # noqa: S608


def demo_row_counts(slugs: list[str]) -> dict[str, int]:
    """Rows per model in the given workspaces (for the summary)."""
    from accounts import models as m

    ids = list(Workspace.objects.filter(slug__in=slugs).values_list("pk", flat=True))
    counts = {}
    for model in (
        m.Tier,
        m.LifecycleStage,
        m.Account,
        m.Contact,
        m.DailyUsage,
        m.Invoice,
        m.Ticket,
        m.NPSResponse,
        m.Touchpoint,
        m.CSMScore,
        m.MRRMovement,
    ):
        counts[model.__name__] = model.all_workspaces.filter(workspace_id__in=ids).count()
    counts["Membership"] = Membership.objects.filter(workspace_id__in=ids).count()
    return counts
