"""The scoped manager fails closed and never crosses workspaces."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Account, Contact, Invoice, MRRMovement, Touchpoint
from tenancy.context import NoWorkspaceSelected, current_workspace_id, use_workspace

from .. import factories as f
from ..support import tenant_models

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_queries_without_a_workspace_raise(model):
    with pytest.raises(NoWorkspaceSelected):
        list(model.objects.all())
    with pytest.raises(NoWorkspaceSelected):
        model.objects.count()
    with pytest.raises(NoWorkspaceSelected):
        model.objects.filter(pk=1).exists()
    # The unscoped manager is the deliberate way round, and answers.
    assert model.all_workspaces.count() >= 0


def test_unscoped_manager_sees_every_workspace(two_workspaces):
    tw = two_workspaces
    names = set(Account.all_workspaces.values_list("name", flat=True))
    assert {tw.sample.account.name, tw.b_account.name} <= names


def test_creating_without_a_workspace_raises(two_workspaces):
    with pytest.raises(NoWorkspaceSelected):
        Account.objects.create(name="Nobody's")
    with pytest.raises(NoWorkspaceSelected):
        Account(name="Nobody's").save()
    # Outside a scope a bulk write must name its workspace itself.
    with pytest.raises(ValueError, match="no workspace"):
        Account.all_workspaces.bulk_create([Account(name="Nobody's")])


def test_other_workspace_rows_are_invisible(two_workspaces):
    tw = two_workspaces
    a_account = tw.sample.account
    with use_workspace(tw.b):
        assert list(Account.objects.all()) == [tw.b_account]
        assert not Account.objects.filter(pk=a_account.pk).exists()
        assert not Contact.objects.filter(account_id=a_account.pk).exists()
        assert not Invoice.objects.filter(number=tw.sample.invoice.number).exists()
        with pytest.raises(Account.DoesNotExist):
            Account.objects.get(pk=a_account.pk)
        with pytest.raises(Touchpoint.DoesNotExist):
            Touchpoint.objects.get(pk=tw.sample.touchpoint.pk)
        # Updates and deletes through the scoped manager cannot reach A either.
        assert Account.objects.filter(pk=a_account.pk).update(name="Taken over") == 0
        assert Contact.objects.filter(pk=tw.sample.contact.pk).delete()[0] == 0
    with use_workspace(tw.a):
        assert Account.objects.get(pk=a_account.pk).name == a_account.name
        assert Contact.objects.filter(pk=tw.sample.contact.pk).exists()


def test_related_managers_are_scoped_too(two_workspaces):
    tw = two_workspaces
    account = Account.all_workspaces.get(pk=tw.sample.account.pk)
    with use_workspace(tw.b):
        assert list(account.contacts.all()) == []
    with use_workspace(tw.a):
        assert set(account.contacts.all()) == {tw.sample.contact, tw.sample.other_contact}


def test_saving_a_row_of_another_workspace_raises(two_workspaces):
    tw = two_workspaces
    account = Account.all_workspaces.get(pk=tw.sample.account.pk)
    contact = Contact.all_workspaces.get(pk=tw.sample.contact.pk)
    with use_workspace(tw.b):
        account.name = "Taken over"
        with pytest.raises(ValueError, match="another workspace"):
            account.save()
        contact.email = "attacker@wombat.example"
        with pytest.raises(ValueError, match="another workspace"):
            contact.save()
    assert Account.all_workspaces.get(pk=account.pk).name == tw.sample.account.name
    assert Contact.all_workspaces.get(pk=contact.pk).email == tw.sample.contact.email


def test_bulk_writes_of_another_workspace_raise(two_workspaces):
    tw = two_workspaces
    before = Contact.all_workspaces.filter(workspace=tw.a).count()
    contact = Contact.all_workspaces.get(pk=tw.sample.contact.pk)
    with use_workspace(tw.b):
        with pytest.raises(ValueError, match="another workspace"):
            Contact.objects.bulk_create(
                [Contact(workspace_id=tw.a.pk, account_id=tw.sample.account.pk, name="Smuggled")]
            )
        with pytest.raises(ValueError, match="another workspace"):
            Account.objects.bulk_create([Account(workspace_id=tw.a.pk, name="Smuggled", mrr=Decimal(1))])
        contact.name = "Renamed by B"
        with pytest.raises(ValueError, match="another workspace"):
            Contact.objects.bulk_update([contact], ["name"])
    assert Contact.all_workspaces.filter(workspace=tw.a).count() == before
    assert Contact.all_workspaces.get(pk=tw.sample.contact.pk).name == tw.sample.contact.name
    assert not Account.all_workspaces.filter(name="Smuggled").exists()


def test_rows_created_in_a_scope_get_that_workspace(two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.b):
        account = f.AccountFactory(name="Created in B")
        contacts = Contact.objects.bulk_create([Contact(account=account, name="Bulk in B")])
    assert account.workspace_id == tw.b.pk
    assert contacts[0].workspace_id == tw.b.pk
    assert MRRMovement.all_workspaces.get(account=account).workspace_id == tw.b.pk


def test_use_workspace_nests_and_restores():
    assert current_workspace_id(required=False) is None
    with use_workspace(1):
        with use_workspace(2):
            assert current_workspace_id() == 2
        assert current_workspace_id() == 1
    assert current_workspace_id(required=False) is None


@pytest.mark.parametrize("bad", ["1", 1.0, None, True])
def test_use_workspace_needs_an_integer(bad):
    # Refused either way; only the bool case reaches the explicit type check.
    with pytest.raises((TypeError, AttributeError)), use_workspace(bad):
        pass
    assert current_workspace_id(required=False) is None


def test_use_workspace_resets_after_an_exception():
    with pytest.raises(RuntimeError), use_workspace(7):
        raise RuntimeError("boom")
    assert current_workspace_id(required=False) is None
