"""A database error while serving a request answers 503 (problem+json under /api/, a page
elsewhere) with Retry-After, never 500; other errors stay 500. The real outage (PostgreSQL
stopped under a live server) is tests/faults/test_postgres_restart.py."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from tenancy.outage import is_database_outage


def broken_query(request):
    raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


def closed_connection(request):
    raise InterfaceError("connection already closed")


def wrapped(request):
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError as error:
        raise RuntimeError("while loading the page") from error


def other_bug(request):
    raise ValueError("a plain bug")


def fine(request):
    return HttpResponse("ok")


urlpatterns = [
    path("page/db", broken_query),
    path("page/closed", closed_connection),
    path("page/wrapped", wrapped),
    path("page/bug", other_bug),
    path("api/v1/db", broken_query),
    path("page/fine", fine),
]


@pytest.fixture
def client(settings):
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/page/db", "/page/closed", "/page/wrapped"])
def test_a_database_error_on_a_page_is_a_503_page(client, url):
    response = client.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response["Content-Type"].startswith("text/html")
    assert b"Temporarily unavailable" in response.content
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_a_database_error_in_the_api_is_a_503_problem(client):
    response = client.get("/api/v1/db")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The database is unavailable; retry shortly.",
    }


@pytest.mark.django_db
def test_other_errors_stay_500_and_good_requests_pass(client):
    assert client.get("/page/bug").status_code == 500
    assert client.get("/page/fine").status_code == 200


def test_is_database_outage_follows_causes():
    assert is_database_outage(OperationalError("x"))
    assert not is_database_outage(ValueError("x"))
    try:
        try:
            raise InterfaceError("closed")
        except InterfaceError as inner:
            raise KeyError("outer") from inner
    except KeyError as outer:
        assert is_database_outage(outer)
