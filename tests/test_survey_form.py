"""The customer's answer form: accessible markup, the scale stored with the answer, clear
messages naming the field for bad input, CSRF, and the per-IP rate limit."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from feedback.models import Response
from tests.surveys import invite, token_of


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def url(invitation):
    return reverse("feedback:answer", args=[token_of(invitation)])


def test_the_score_is_a_fieldset_of_labelled_radio_buttons(client, db):
    invitation = invite()
    body = client.get(url(invitation)).content.decode()
    assert '<fieldset class="score-scale score-scale-nps' in body
    assert "<legend" in body and invitation.survey.question in body
    for n in range(11):
        assert f'<label class="score-option" for="id_score_{n}">' in body
        assert f'id="id_score_{n}" value="{n}"' in body
    assert "0 = Not at all likely" in body and "10 = Extremely likely" in body
    assert '<label for="id_comment">What is the main reason for your score?' in body
    assert 'name="viewport"' in body and "csrfmiddlewaretoken" in body


def test_an_answer_is_stored_with_its_scale_and_leads_to_the_thank_you_page(client, db):
    invitation = invite()
    response = client.post(url(invitation), {"score": "3", "comment": " too slow "}, follow=True)
    assert "Thank you!" in response.content.decode()
    answer = Response.objects.get()
    assert (answer.kind, answer.score, answer.scale_min, answer.scale_max) == ("nps", 3, 0, 10)
    assert answer.comment == "too slow"
    assert answer.account_id == invitation.account_id
    assert answer.contact_id == invitation.contact_id
    invitation.refresh_from_db()
    assert invitation.answered_at == answer.answered_at


def test_a_csat_survey_uses_its_own_scale(client, db):
    invitation = invite(kind="csat", question="How satisfied are you?")
    body = client.get(url(invitation)).content.decode()
    assert 'value="0"' not in body and 'id="id_score_4" value="5"' in body
    assert "1 = Very unsatisfied" in body
    client.post(url(invitation), {"score": "5"})
    assert Response.objects.get().scale_max == 5


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({}, "Choose a score from 0 to 10."),
        ({"score": ""}, "Choose a score from 0 to 10."),
        ({"score": "11"}, "Choose a score from 0 to 10."),
        ({"score": "-1"}, "Choose a score from 0 to 10."),
        ({"score": "seven"}, "Choose a score from 0 to 10."),
    ],
)
def test_a_missing_or_out_of_range_score_re_renders_naming_the_field(client, db, posted, message):
    invitation = invite()
    response = client.post(url(invitation), {**posted, "comment": "keep me"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'role="alert"' in body
    assert f'<a href="#score-legend">{invitation.survey.question}</a>: {message}' in body
    assert 'aria-invalid="true"' in body
    assert "keep me" in body  # what they typed is kept
    assert not Response.objects.exists()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


def test_a_comment_too_long_is_refused_naming_the_field(client, db):
    invitation = invite()
    response = client.post(url(invitation), {"score": "5", "comment": "x" * 5001})
    assert response.status_code == 200
    assert "What is the main reason for your score?</a>:" in response.content.decode()
    assert not Response.objects.exists()


def test_extra_questions_are_stored_by_question(client, db):
    invitation = invite(extra_questions=["Which product are you moving to?"])
    body = client.get(url(invitation)).content.decode()
    assert '<label for="id_extra_0">Which product are you moving to?' in body
    client.post(url(invitation), {"score": "2", "extra_0": "Gainwise"})
    assert Response.objects.get().answers == {"Which product are you moving to?": "Gainwise"}


def test_a_post_without_the_csrf_token_is_refused(db):
    invitation = invite()
    response = Client(enforce_csrf_checks=True).post(url(invitation), {"score": "9"})
    assert response.status_code == 403
    assert not Response.objects.exists()


def test_requests_over_the_per_ip_limit_get_429(client, db, settings):
    settings.SURVEY_RATE_LIMIT_PER_MINUTE = 3
    invitation = invite()
    for _ in range(3):
        assert client.get(url(invitation)).status_code == 200
    response = client.get(url(invitation))
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many requests" in response.content.decode()
    assert client.post(url(invitation), {"score": "9"}).status_code == 429
    assert not Response.objects.exists()
    # Another address is not held back.
    other = client.get(url(invitation), REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 200


def test_the_limit_can_be_switched_off(client, db, settings):
    settings.SURVEY_RATE_LIMIT_PER_MINUTE = 0
    invitation = invite()
    assert all(client.get(url(invitation)).status_code == 200 for _ in range(5))


def test_the_thank_you_page_needs_an_answer_first(client, db):
    invitation = invite()
    thanks = reverse("feedback:thanks", args=[token_of(invitation)])
    assert client.get(thanks)["Location"] == url(invitation)
    client.post(url(invitation), {"score": "10"})
    assert "Thank you!" in client.get(thanks).content.decode()
