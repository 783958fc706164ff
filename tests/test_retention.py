"""What purge_expired deletes besides expired secrets: setups past their retention, and the audit past its."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from wizard.console import access
from wizard.console.models import AgentNote, SetupAccess
from wizard.flow.models import Setup, TestAttempt

pytestmark = pytest.mark.django_db


def a_setup_last_touched(days_ago: int, agent) -> Setup:
    setup = Setup.objects.create(signature="platform_rest")
    TestAttempt.objects.create(setup=setup, signature="platform_rest", destination_masked="+278…567")
    access.add_note(setup.reference, agent, "Customer called about it.")
    Setup.objects.filter(pk=setup.pk).update(updated_at=timezone.now() - timedelta(days=days_ago))
    return setup


def purge() -> str:
    out = StringIO()
    call_command("purge_expired", stdout=out)
    return out.getvalue()


def test_setups_past_their_retention_go_with_their_tests_and_notes(agent, settings):
    settings.PORTAL_SETUP_RETENTION_DAYS = 90
    old, recent = a_setup_last_touched(91, agent), a_setup_last_touched(89, agent)
    assert "1 setups older than 90 days" in purge()
    assert list(Setup.objects.all()) == [recent]
    assert list(TestAttempt.objects.values_list("setup", flat=True)) == [recent.pk]
    assert list(AgentNote.objects.values_list("setup", flat=True)) == [recent.pk]
    # The audit of what agents did outlives the setup, naming it by its reference code.
    audit = SetupAccess.objects.get(reference=old.reference)
    assert audit.setup is None and audit.action == "added a note"


def test_the_audit_is_kept_for_its_own_retention(agent, settings):
    settings.PORTAL_AUDIT_RETENTION_DAYS = 365
    setup = a_setup_last_touched(0, agent)
    SetupAccess.objects.update(at=timezone.now() - timedelta(days=366))
    access.add_note(setup.reference, agent, "And again.")
    assert "1 audit records older than 365 days" in purge()
    assert list(SetupAccess.objects.values_list("action", flat=True)) == ["added a note"]
    assert SetupAccess.objects.get().at > timezone.now() - timedelta(days=1)


def test_retention_follows_its_settings(agent, settings):
    settings.PORTAL_SETUP_RETENTION_DAYS = 7
    a_setup_last_touched(8, agent)
    purge()
    assert not Setup.objects.exists()
