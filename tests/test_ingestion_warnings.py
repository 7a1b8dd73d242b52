import pytest

from health.ingestion_warnings import MAX_EXAMPLE_CHARS, record_ingestion_warning
from health.models import IngestionWarning, IngestionWarningSource

pytestmark = pytest.mark.django_db


def test_a_warning_keeps_its_cause_message_and_example():
    record_ingestion_warning(
        source=IngestionWarningSource.SEGMENT,
        cause="unknown_account",
        message='no account with external id "nope"',
        example={"type": "track", "context": {"groupId": "nope"}},
    )
    warning = IngestionWarning.objects.get()
    assert (warning.source, warning.cause) == ("segment", "unknown_account")
    assert warning.example == {"type": "track", "context": {"groupId": "nope"}}


def test_a_long_example_is_trimmed_and_a_long_message_cut():
    record_ingestion_warning(
        source="stripe", cause="other_currency", message="x" * 900, example={"blob": "y" * 10_000}
    )
    warning = IngestionWarning.objects.get()
    assert len(warning.message) == 500
    assert list(warning.example) == ["truncated"]
    assert len(warning.example["truncated"]) == MAX_EXAMPLE_CHARS
