"""Playbook steps: what each kind needs in its configuration, and how it is carried out.

`validate_config` is the one check of a step's configuration (the editor and the provisioning
defaults both go through it). `perform` carries out one attempt of a step for one run. A step
reports a failure worth retrying (a webhook timing out, a 5xx) by raising `RetryableStepError`,
and a failure that another attempt cannot fix (a 4xx, a stage that no longer exists) by raising
`StepError`. Steps are idempotent: what a step made is recorded on its `StepRun.result` in the
same transaction, so a redelivered task finds it and does not make it twice.
"""

from __future__ import annotations

import re
import secrets
import time
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone

from accounts.changes import set_field
from accounts.models import Account, ChangeField, ChangeSource, LifecycleStage, Touchpoint, TouchpointKind
from tenancy.models import Role

from . import ctas, delivery
from .models import PlaybookRun, StepKind, StepRun, Task, TaskSource

WEBHOOK_TIMEOUT_SECONDS = delivery.TIMEOUT_SECONDS
SIGNATURE_HEADER = delivery.SIGNATURE_HEADER
EVENT_HEADER = delivery.EVENT_HEADER
sign = delivery.sign
DEFAULT_EVENT = "playbook.run"
ASSIGNEE_CHOICES = ("csm", "member", "round_robin")
ROUND_ROBIN_ROLES = (Role.CSM.value, Role.ADMIN.value)


class StepError(Exception):
    """A failure another attempt would not fix; the step is marked failed."""

    http_status: int | None = None

    def __init__(self, message: str, http_status: int | None = None):
        super().__init__(message)
        self.http_status = http_status


class RetryableStepError(StepError):
    """A failure worth another attempt later (timeout, connection refused, 5xx)."""


# --- placeholders ----------------------------------------------------------------------------
PLACEHOLDER = re.compile(r"\{(account|playbook)\.([a-z_]+)\}")
ACCOUNT_FIELDS = (
    "name",
    "external_id",
    "domain",
    "plan",
    "mrr",
    "health_score",
    "health_band",
    "renewal_date",
    "tier",
    "stage",
    "csm",
)


def account_values(account: Account) -> dict[str, str]:
    """The account fields a template may name, as text (never a model or a method)."""
    csm = account.csm_owner
    values = {
        "name": account.name,
        "external_id": account.external_id or "",
        "domain": account.domain,
        "plan": account.plan,
        "mrr": f"{account.mrr:,.2f}" if account.mrr is not None else "",
        "health_score": "" if account.health_score is None else str(account.health_score),
        "health_band": account.health_band or "",
        "renewal_date": account.renewal_date.isoformat() if account.renewal_date else "",
        "tier": account.tier.name if account.tier_id else "",
        "stage": account.lifecycle_stage.name if account.lifecycle_stage_id else "",
        "csm": csm.display_name if csm else "",
    }
    return values


def render(template: str, account: Account, playbook_name: str = "") -> str:
    """Fill `{account.name}`-style placeholders. Only the listed fields are known; any other
    brace text is left as written (no attribute access, no format spec, nothing executed)."""
    values = {"account": account_values(account), "playbook": {"name": playbook_name}}

    def fill(match: re.Match) -> str:
        scope, field = match.groups()
        return values[scope].get(field, match.group(0))

    return PLACEHOLDER.sub(fill, template or "")


def unknown_placeholders(template: str) -> list[str]:
    known = {f"account.{f}" for f in ACCOUNT_FIELDS} | {"playbook.name"}
    return sorted({f"{s}.{f}" for s, f in PLACEHOLDER.findall(template or "")} - known)


# --- configuration ---------------------------------------------------------------------------
def _int(config: dict, key: str, errors: dict, *, minimum: int = 0, maximum: int = 3650, default=None):
    raw = config.get(key, default)
    if raw in (None, ""):
        if default is None:
            errors[key] = "Enter a number of days."
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors[key] = "Enter a whole number."
        return None
    if value < minimum:
        errors[key] = "Days cannot be negative." if minimum == 0 else f"Enter at least {minimum}."
    elif value > maximum:
        errors[key] = f"Enter at most {maximum}."
    return value


def _text(config: dict, key: str, errors: dict, *, required: bool, max_length: int) -> str:
    value = str(config.get(key) or "").strip()
    if required and not value:
        errors[key] = "This field is required."
    elif len(value) > max_length:
        errors[key] = f"Keep it under {max_length} characters."
    else:
        bad = unknown_placeholders(value)
        if bad:
            errors[key] = f"Unknown placeholder {{{bad[0]}}}; use one of the account fields listed."
    return value


def check_webhook_url(url: str) -> str | None:
    """Why `url` cannot be a webhook target, or None (see playbooks/delivery.py)."""
    return delivery.check_url(url)


def validate_config(kind: str, config: dict) -> dict:
    """The cleaned configuration of a step of `kind`, or ValidationError keyed by config field."""
    config = dict(config or {})
    errors: dict[str, str] = {}
    if kind == StepKind.CREATE_TASK:
        assignee = config.get("assignee") or "csm"
        cleaned = {
            "title": _text(config, "title", errors, required=True, max_length=200),
            "description": _text(config, "description", errors, required=False, max_length=5000),
            "due_in_days": _int(config, "due_in_days", errors, default=3),
            "assignee": assignee,
        }
        if assignee not in ASSIGNEE_CHOICES:
            errors["assignee"] = "Choose the account's CSM, a member or round-robin."
        elif assignee == "member":
            member = config.get("member")
            if member in (None, ""):
                errors["member"] = "Choose the member who gets the task."
            elif not ctas.assignable_members().filter(pk=_as_int(member)).exists():
                errors["member"] = "Pick an admin or CSM of this workspace."
            else:
                cleaned["member"] = _as_int(member)
        elif assignee == "round_robin":
            role = config.get("role") or Role.CSM
            if role not in ROUND_ROBIN_ROLES:
                errors["role"] = "Round-robin among CSMs or admins."
            cleaned["role"] = role
    elif kind == StepKind.SEND_EMAIL:
        to = str(config.get("to") or "csm").strip()
        if to != "csm":
            try:
                EmailValidator()(to)
            except ValidationError:
                errors["to"] = "Enter an email address, or 'csm' for the account's CSM."
        cleaned = {
            "to": to,
            "subject": _text(config, "subject", errors, required=True, max_length=200),
            "body": _text(config, "body", errors, required=True, max_length=10000),
        }
    elif kind == StepKind.CALL_WEBHOOK:
        url = str(config.get("url") or "").strip()
        problem = "Enter the URL to call." if not url else check_webhook_url(url)
        if problem:
            errors["url"] = problem
        event = str(config.get("event") or DEFAULT_EVENT).strip()
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,60}", event):
            errors["event"] = "Letters, digits, dots, dashes and underscores only."
        cleaned = {"url": url, "event": event, "secret": str(config.get("secret") or "").strip()}
        if not cleaned["secret"]:
            cleaned["secret"] = secrets.token_hex(24)  # a step always signs its calls
        elif len(cleaned["secret"]) < 16:
            errors["secret"] = "Use at least 16 characters (or leave it empty to generate one)."  # noqa: S105
    elif kind == StepKind.SET_STAGE:
        key = str(config.get("stage") or "").strip()
        if not key:
            errors["stage"] = "Choose the stage to set."
        elif not LifecycleStage.objects.filter(key=key).exists():
            errors["stage"] = "No such lifecycle stage in this workspace."
        cleaned = {"stage": key}
    elif kind == StepKind.ADD_NOTE:
        cleaned = {"text": _text(config, "text", errors, required=True, max_length=5000)}
    else:
        raise ValidationError({"kind": "Unknown step kind."})
    if errors:
        raise ValidationError(errors)
    return cleaned


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- carrying out a step ---------------------------------------------------------------------
def perform(step_run: StepRun, run: PlaybookRun, config: dict) -> dict:
    """One attempt of the step. Returns what it made (stored on `step_run.result`) and the
    attempt's details for the log; raises StepError / RetryableStepError on failure."""
    account = Account.objects.select_related("csm_owner", "tier", "lifecycle_stage").get(pk=run.account_id)
    handler = HANDLERS[step_run.kind]
    return handler(step_run, run, account, config)


def _create_task(step_run: StepRun, run: PlaybookRun, account: Account, config: dict) -> dict:
    name = run.playbook.name
    assignee, how = _resolve_assignee(account, config)
    with transaction.atomic():
        task = ctas.create_task(
            account,
            render(config.get("title", ""), account, name)[:200],
            description=render(config.get("description", ""), account, name),
            due_on=ctas.due_in(int(config.get("due_in_days") or 0)),
            assignee=assignee,
            source=TaskSource.PLAYBOOK,
            source_ref=f"run:{run.pk}",
        )
        result = {"task_id": task.pk, "assignee_id": getattr(assignee, "pk", None), "assigned_by": how}
        StepRun.objects.filter(pk=step_run.pk).update(result=result)
    return result


def _resolve_assignee(account: Account, config: dict):
    assignee = config.get("assignee") or "csm"
    if assignee == "member":
        member = ctas.assignable_members().filter(pk=config.get("member")).first()
        if member is not None:
            return member, "member"
        # The member left or lost the role: someone should still get the task.
        return ctas.round_robin(Role.CSM), "round_robin (member no longer assignable)"
    if assignee == "round_robin":
        return ctas.round_robin(config.get("role") or Role.CSM), "round_robin"
    csm = ctas.account_csm(account)
    if csm is not None:
        return csm, "csm"
    return ctas.round_robin(Role.CSM), "round_robin (account has no CSM)"


def _send_email(step_run: StepRun, run: PlaybookRun, account: Account, config: dict) -> dict:
    to = config.get("to") or "csm"
    if to == "csm":
        person = ctas.account_csm(account) or _run_task_assignee(run)
        if person is None or not person.email:
            raise StepError("The account has no CSM to email (and no task of this run was assigned).")
        to = person.email
    name = run.playbook.name
    subject = " ".join(render(config.get("subject", ""), account, name).split())[:200]
    try:
        send_mail(subject, render(config.get("body", ""), account, name), settings.DEFAULT_FROM_EMAIL, [to])
    except (TimeoutError, OSError) as error:  # SMTP down: worth another try
        raise RetryableStepError(f"Could not send the email: {error}") from error
    result = {"to": to, "subject": subject}
    StepRun.objects.filter(pk=step_run.pk).update(result=result)
    return result


def _run_task_assignee(run: PlaybookRun):
    """Whoever got this run's task: an account without a CSM has its email go to the person
    the round-robin gave the task to."""
    task = Task.objects.filter(source_ref=f"run:{run.pk}", assignee__isnull=False).select_related("assignee")
    first = task.order_by("pk").first()
    return first.assignee if first else None


def webhook_payload(run: PlaybookRun, account: Account, event: str) -> dict:
    payload = {
        "event": event,
        "playbook": {"id": run.playbook_id, "name": run.playbook.name, "run_id": run.pk},
        "account": {
            "external_id": account.external_id,
            "name": account.name,
            "health_score": account.health_score,
            "health_band": account.health_band or None,
            "mrr": str(account.mrr) if isinstance(account.mrr, Decimal) else account.mrr,
        },
        "occurrence": run.occurrence,
        "sent_at": timezone.now().isoformat(),
    }
    if run.context.get("alert"):
        payload["alert"] = run.context["alert"]
    return payload


def _call_webhook(step_run: StepRun, run: PlaybookRun, account: Account, config: dict) -> dict:
    event = config.get("event") or DEFAULT_EVENT
    body = delivery.encode(webhook_payload(run, account, event))
    try:
        sent = delivery.post_signed(
            config.get("url", ""), body, config.get("secret", ""), event, timeout=WEBHOOK_TIMEOUT_SECONDS
        )
    except delivery.RetryableDeliveryError as error:
        raise RetryableStepError(str(error), http_status=error.http_status) from error
    except delivery.DeliveryError as error:
        raise StepError(str(error), http_status=error.http_status) from error
    return {"http_status": sent["http_status"]}


def _set_stage(step_run: StepRun, run: PlaybookRun, account: Account, config: dict) -> dict:
    stage = LifecycleStage.objects.filter(key=config.get("stage")).first()
    if stage is None:
        raise StepError(f"No lifecycle stage {config.get('stage')!r} in this workspace.")
    with transaction.atomic():
        before = account.lifecycle_stage.key if account.lifecycle_stage_id else None
        # Recorded in the account's tier & stage history (and announced on commit).
        set_field(
            Account.objects.filter(pk=account.pk),
            ChangeField.STAGE,
            stage,
            source=ChangeSource.PLAYBOOK,
            reason=f"Playbook “{run.playbook.name}”",
        )
        account.lifecycle_stage = stage
        result = {"stage": stage.key, "before": before}
        StepRun.objects.filter(pk=step_run.pk).update(result=result)
    return result


def _add_note(step_run: StepRun, run: PlaybookRun, account: Account, config: dict) -> dict:
    name = run.playbook.name
    with transaction.atomic():
        note = Touchpoint.objects.create(
            account=account,
            kind=TouchpointKind.OTHER,
            subject=f"Playbook: {name}"[:200],
            notes=render(config.get("text", ""), account, name),
        )
        result = {"touchpoint_id": note.pk}
        StepRun.objects.filter(pk=step_run.pk).update(result=result)
    return result


HANDLERS = {
    StepKind.CREATE_TASK: _create_task,
    StepKind.SEND_EMAIL: _send_email,
    StepKind.CALL_WEBHOOK: _call_webhook,
    StepKind.SET_STAGE: _set_stage,
    StepKind.ADD_NOTE: _add_note,
}


def timed(fn, *args) -> tuple[float, dict | None, Exception | None]:
    started = time.monotonic()
    try:
        return time.monotonic() - started, fn(*args), None
    except StepError as error:
        return time.monotonic() - started, None, error


def attempt_entry(number: int, outcome: str, duration: float, **extra) -> dict:
    entry = {
        "attempt": number,
        "at": timezone.now().isoformat(timespec="seconds"),
        "outcome": outcome,
        "duration_ms": round(duration * 1000),
    }
    entry.update({k: v for k, v in extra.items() if v not in (None, "")})
    return entry
