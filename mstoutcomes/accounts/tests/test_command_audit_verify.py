import pytest
from django.core.management import CommandError, call_command

from mstoutcomes.accounts.models import AuditEvent
from mstoutcomes.accounts.services import audit_record


@pytest.mark.django_db
def test_audit_verify_reports_an_intact_trail(capsys):
    audit_record(actor=None, action="test.thing.done")
    audit_record(actor=None, action="test.thing.done", data={"n": 2})
    call_command("audit_verify")
    assert "Audit trail intact: 2 events checked." in capsys.readouterr().out


@pytest.mark.django_db
def test_audit_verify_fails_naming_the_altered_event():
    audit_record(actor=None, action="test.thing.done")
    second = audit_record(actor=None, action="test.thing.done", data={"n": 2})
    AuditEvent.objects.filter(pk=second.pk).update(data={"n": 3})
    with pytest.raises(CommandError, match=f"event {second.pk} does not match"):
        call_command("audit_verify")
