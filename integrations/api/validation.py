"""Compiled record validators: a resource serializer's rules as one plain function per field.

A batch of 5,000 records through a DRF serializer costs a serializer's whole machinery per record
(empty-value checks, an ordered dict, every validator's try/except, error collection). The bulk
path needs none of that for a valid record, so each resource's serializer is compiled once into a
table of converters, one per writable field, each doing exactly what the DRF field does for the
usual inputs (a string for a text field, an int for an integer field, a date string…) and
calling the DRF field itself for anything else.

A converter never produces an error message: it returns `INVALID` as soon as the value would fail
(a wrong type, a bound, a missing required field, an unknown field…), and the record is then
validated again by the serializer, which produces its errors. So the error format (pointers,
messages) is the serializer's own by construction, and a valid record gives the serializer's
values (tests/integrations/test_validation.py compares the two on generated records).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from rest_framework import fields, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings
from rest_framework.validators import ProhibitSurrogateCharactersValidator

INVALID = object()  # a converter's answer for "let the serializer say what is wrong"
SURROGATES = re.compile("[\ud800-\udfff]")
Converter = Callable[[Any], Any]


def _is(field: fields.Field, cls: type, *methods: str) -> bool:
    """The field is a `cls` whose `methods` are `cls`'s own (a subclass may change them)."""
    return isinstance(field, cls) and all(
        getattr(type(field), name) is getattr(cls, name) for name in methods
    )


def _bounds(field: fields.Field, known: tuple[type, ...]) -> tuple[list, Callable[[Any], bool] | None]:
    """Split the field's validators into (those compiled into a check, the check)."""
    checks: list[Callable[[Any], bool]] = []
    rest = []
    for validator in field.validators:
        limit = getattr(validator, "limit_value", None)
        if isinstance(validator, known) and not callable(limit):
            if type(validator) is MinValueValidator:
                checks.append(lambda v, lo=limit: v >= lo)
            elif type(validator) is MaxValueValidator:
                checks.append(lambda v, hi=limit: v <= hi)
            elif type(validator) is MaxLengthValidator:
                checks.append(lambda v, hi=limit: len(v) <= hi)
            elif type(validator) is MinLengthValidator:
                checks.append(lambda v, lo=limit: len(v) >= lo)
            elif type(validator) is ProhibitNullCharactersValidator:
                checks.append(lambda v: "\x00" not in v)
            elif type(validator) is ProhibitSurrogateCharactersValidator:
                checks.append(lambda v: v.isascii() or SURROGATES.search(v) is None)
            else:
                rest.append(validator)
        else:
            rest.append(validator)
    if not checks:
        return rest, None
    if len(checks) == 1:
        return rest, checks[0]
    return rest, lambda v: all(check(v) for check in checks)


def _run(validators: list, field: fields.Field, value) -> bool:
    for validator in validators:
        try:
            if getattr(validator, "requires_context", False):
                validator(value, field)
            else:
                validator(value)
        except (ValidationError, DjangoValidationError):
            return False
    return True


KNOWN = (
    MinValueValidator,
    MaxValueValidator,
    MaxLengthValidator,
    MinLengthValidator,
    ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
)


def generic(field: fields.Field) -> Converter:
    """DRF's own steps for one field, without the serializer around them."""
    allow_null = field.allow_null
    own_flow = type(field).run_validation is fields.Field.run_validation
    rest, check = _bounds(field, KNOWN)

    def convert(value):
        if value is None:
            return None if allow_null else INVALID
        try:
            if own_flow:
                value = field.to_internal_value(value)
            else:
                return field.run_validation(value)
        except (ValidationError, DjangoValidationError):
            return INVALID
        if check is not None and not check(value):
            return INVALID
        if rest and not _run(rest, field, value):
            return INVALID
        return value

    return convert


def char(field: serializers.CharField) -> Converter:
    allow_null, allow_blank, trim = field.allow_null, field.allow_blank, field.trim_whitespace
    rest, check = _bounds(field, KNOWN)

    def convert(value):
        if type(value) is not str:
            # The strict serializer refuses any non-string for a text field (None aside).
            return None if value is None and allow_null else INVALID
        if trim:
            value = value.strip()
        if not value:
            return "" if allow_blank else INVALID
        if check is not None and not check(value):
            return INVALID
        if rest and not _run(rest, field, value):
            return INVALID
        return value

    return convert


def choice(field: serializers.ChoiceField) -> Converter:
    allow_null = field.allow_null
    mapping = dict(field.choice_strings_to_values)
    if field.allow_blank:
        mapping[""] = ""
    rest, check = _bounds(field, KNOWN)
    if rest or check is not None:
        return generic(field)

    def convert(value):
        if type(value) is str:
            return mapping.get(value, INVALID)
        return None if value is None and allow_null else INVALID

    return convert


def integer(field: serializers.IntegerField) -> Converter:
    slow = generic(field)
    rest, check = _bounds(field, KNOWN)

    def convert(value):
        if type(value) is not int or rest:
            return slow(value)
        if check is not None and not check(value):
            return INVALID
        return value

    return convert


def boolean(field: serializers.BooleanField) -> Converter:
    slow = generic(field)
    if field.validators:
        return slow

    def convert(value):
        if value is True or value is False:
            return value
        return slow(value)

    return convert


def date(field: serializers.DateField) -> Converter:
    slow = generic(field)
    formats = getattr(field, "input_formats", api_settings.DATE_INPUT_FORMATS)
    if field.validators or [f.lower() for f in formats] != ["iso-8601"]:
        return slow
    fromisoformat = dt.date.fromisoformat

    def convert(value):
        if type(value) is str:
            try:
                return fromisoformat(value)  # django.utils.dateparse.parse_date's first try
            except ValueError:
                pass
        return slow(value)

    return convert


def compile_field(field: fields.Field) -> Converter:
    if _is(field, serializers.CharField, "run_validation", "to_internal_value"):
        return char(field)
    if _is(field, serializers.ChoiceField, "run_validation", "to_internal_value"):
        return choice(field)
    if _is(field, serializers.BooleanField, "run_validation", "to_internal_value"):
        return boolean(field)
    if _is(field, serializers.IntegerField, "run_validation", "to_internal_value"):
        return integer(field)
    if _is(field, serializers.DateField, "run_validation", "to_internal_value"):
        return date(field)
    return generic(field)


class RecordValidator:
    """`validator(record)` → the validated values (a dict, as `serializer.run_validation` gives
    them), or None when the record is not valid or is unusual: validate it with the serializer."""

    def __init__(self, serializer_class: type[serializers.Serializer]):
        serializer = serializer_class()
        self.serializer = serializer
        self.enabled = self._compilable(serializer)
        self.converters: dict[str, Converter] = {}
        self.read_only: frozenset[str] = frozenset()
        self.required: tuple[str, ...] = ()
        if not self.enabled:
            return
        writable = {name: f for name, f in serializer.fields.items() if not f.read_only}
        self.converters = {name: compile_field(f) for name, f in writable.items()}
        self.read_only = frozenset(name for name, f in serializer.fields.items() if f.read_only)
        self.required = tuple(name for name, f in writable.items() if f.required)
        validate = type(serializer).validate
        self.validate = None if validate is serializers.Serializer.validate else serializer.validate

    @staticmethod
    def _compilable(serializer: serializers.Serializer) -> bool:
        """Only the plain cases: every writable field reads and writes its own name with its
        default value handling, and the serializer has no validators of its own."""
        if serializer.validators:
            return False
        for name, f in serializer.fields.items():
            if f.read_only:
                continue
            if f.source != name or f.default is not fields.empty or getattr(f, "many", False):
                return False
            if isinstance(f, serializers.BaseSerializer) or hasattr(serializer, f"validate_{name}"):
                return False
        return True

    def __call__(self, record) -> dict | None:
        if not self.enabled or type(record) is not dict:
            return None
        converters = self.converters
        values = {}
        for name, value in record.items():
            convert = converters.get(name)
            if convert is None:
                if name in self.read_only:
                    continue
                return None  # an unknown field
            value = convert(value)
            if value is INVALID:
                return None
            values[name] = value
        for name in self.required:
            if name not in values:
                return None
        if self.validate is not None:
            try:
                values = self.validate(values)
            except (ValidationError, DjangoValidationError):
                return None
        return values
