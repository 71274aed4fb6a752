"""The compiled record validators accept exactly what the resource serializers accept, with the
same values, and leave everything else to the serializer (which gives the errors)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from integrations.api.resources import RESOURCES
from integrations.api.validation import RecordValidator
from integrations.api.writer import validator_for

SERIALIZERS = {name: viewset.serializer_class for name, viewset, _ in RESOURCES}

TEXT = st.one_of(
    st.text(max_size=5),
    st.sampled_from(
        [
            "",
            "   ",
            " padded ",
            "x" * 40,
            "x" * 41,
            "x" * 101,
            "a\x00b",
            "bad \ud800 surrogate",
            "dana@acme.example",
            "not an email",
            "é",
        ]
    ),
)
SPECIAL = st.sampled_from(
    [
        "2026-11-20",
        "2026-02-30",
        "20261120",
        "03/04/2027",
        "2026-11-20T09:30:00Z",
        "2026-11-20T09:30:00",
        "2026-11-20T09:30:00+02:00",
        "12",
        "12.0",
        "12.5",
        "-1",
        "1e3",
        "NaN",
        "Infinity",
        "123456789012.34",
        "1234567890123.45",
        "0.005",
        "active",
        "churned",
        "open",
        "paid",
        "call",
        "positive",
        "high",
        "true",
        "false",
        "yes",
        "0",
        "1",
    ]
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=12),
    st.sampled_from([2**31, 2**63, -(2**31), 10**30]),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    TEXT,
    SPECIAL,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), max_size=2),
)


def records(serializer_class):
    fields = list(serializer_class().fields)
    names = st.sampled_from([*fields, "colour"])
    return st.one_of(
        st.dictionaries(names, VALUES, max_size=len(fields) + 1),
        st.lists(st.integers(), max_size=1),
        st.text(max_size=3),
    )


def serializer_result(serializer, record):
    try:
        return dict(serializer.run_validation(record))
    except ValidationError:
        return None


@pytest.mark.parametrize("resource", list(SERIALIZERS))
def test_compiled_validator_agrees_with_the_serializer(resource):
    serializer_class = SERIALIZERS[resource]
    compiled = RecordValidator(serializer_class)
    serializer = serializer_class()
    assert compiled.enabled

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(records(serializer_class))
    def check(record):
        fast = compiled(record)
        slow = serializer_result(serializer, record)
        if fast is not None:
            assert slow is not None, record
            assert fast == slow, record
            assert {k: type(v) for k, v in fast.items()} == {k: type(v) for k, v in slow.items()}, record

    check()


TYPICAL = {
    "accounts": {
        "external_id": " acme-42 ",
        "name": "Acme",
        "domain": "acme.example",
        "employee_count": 12,
        "mrr": "4200.5",
        "renewal_date": "2027-03-31",
        "status": "active",
        "custom_attributes": {"region": "EU"},
        "tier": None,
        "health_score": 50,  # read-only: accepted and ignored
    },
    "daily-usage": {
        "account_external_id": "acme-42",
        "contact_external_id": None,
        "feature": "reports",
        "day": "2026-11-20",
        "events": 14,
        "duration_seconds": 1260,
    },
    "tickets": {
        "external_id": "zd-1",
        "account_external_id": "acme-42",
        "priority": "high",
        "opened_at": "2026-11-20T09:30:00Z",
        "escalated": False,
        "csat": 4,
    },
    "invoices": {
        "external_id": "in-1",
        "account_external_id": "acme-42",
        "amount": 900,
        "issued_on": "2026-11-01",
        "due_on": "2026-12-01",
    },
}


def mutations(serializer_class, base):
    """A valid record with one field changed, added or left out."""
    names = st.sampled_from([*serializer_class().fields, "colour"])
    changed = st.builds(lambda name, value: {**base, name: value}, names, VALUES)
    dropped = st.builds(lambda name: {k: v for k, v in base.items() if k != name}, names)
    return st.one_of(changed, dropped)


@pytest.mark.parametrize("resource", list(TYPICAL))
def test_near_valid_records_agree_with_the_serializer(resource):
    serializer_class = SERIALIZERS[resource]
    compiled = RecordValidator(serializer_class)
    serializer = serializer_class()
    fast_ones = []

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(mutations(serializer_class, TYPICAL[resource]))
    def check(record):
        fast = compiled(record)
        slow = serializer_result(serializer, record)
        if fast is not None:
            fast_ones.append(record)
            assert fast == slow, record
            assert {k: type(v) for k, v in fast.items()} == {k: type(v) for k, v in slow.items()}, record

    check()
    assert fast_ones  # the compiled path was exercised


@pytest.mark.parametrize("resource", list(TYPICAL))
def test_typical_records_take_the_compiled_path(resource):
    serializer_class = SERIALIZERS[resource]
    record = TYPICAL[resource]
    fast = validator_for(serializer_class)(record)
    assert fast is not None
    assert fast == dict(serializer_class().run_validation(record))


def test_compiled_values_have_the_serializers_types():
    fast = validator_for(SERIALIZERS["accounts"])(TYPICAL["accounts"])
    assert fast["external_id"] == "acme-42"
    assert fast["mrr"] == Decimal("4200.50") and str(fast["mrr"]) == "4200.50"
    assert fast["renewal_date"] == dt.date(2027, 3, 31)
    assert "health_score" not in fast
    # The serializer's own check across fields still applies (invoices: due_on ≥ issued_on).
    late = {**TYPICAL["invoices"], "due_on": "2026-10-01"}
    assert validator_for(SERIALIZERS["invoices"])(late) is None
