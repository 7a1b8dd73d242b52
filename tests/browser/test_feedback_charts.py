"""The feedback overview's charts as Chart.js draws them: a month without answers breaks the line
(no line across it), the NPS axis runs the whole −100..100 with a month at 100 drawn whole, and
the current month is marked partial (its label and an open, dashed point)."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.mrr import Month
from feedback.models import Invitation, Response, Survey
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Months back from the current one → NPS scores answered that month. Month 2 has none; month 3's
# answers are all promoters (NPS 100).
ANSWERS = {0: [9, 3], 1: [10, 8, 6], 3: [10, 9, 10], 4: [7, 2, 9], 5: [9, 9, 1]}


def answer_months():
    manager = UserFactory(email="sam@example.com", role=Role.MANAGER, password="demo-pass")
    survey = Survey.objects.create(name="NPS", kind="nps", question="Recommend us?")
    account = AccountFactory()
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    current = Month.of(today)
    for back, scores in ANSWERS.items():
        day = today if back == 0 else current.minus(back).first_day + timedelta(days=9)
        at = datetime.combine(day, time(0, 5), tzinfo=zone)
        for score in scores:
            invitation = Invitation.objects.create(
                survey=survey,
                account=account,
                email="x@customer.example",
                nonce=secrets.token_hex(8),
                created_at=at,
                expires_at=at + timedelta(days=30),
                answered_at=at,
            )
            Response.objects.create(
                invitation=invitation,
                survey=survey,
                account=account,
                kind="nps",
                score=score,
                scale_min=0,
                scale_max=10,
                answered_at=at,
            )
    return manager, current


CHART_STATE = """canvas => {
  const chart = Chart.getChart(canvas);
  const y = chart.scales.y;
  return {
    labels: chart.data.labels,
    yMin: y.min, yMax: y.max,
    datasets: chart.data.datasets.map((d, i) => {
      const meta = chart.getDatasetMeta(i);
      const last = meta.data.length - 1;
      return {
        data: d.data,
        spanGaps: d.spanGaps,
        clip: d.clip,
        lastPointFill: meta.data[last].options.backgroundColor,
        pointTop: Math.min(...meta.data.filter(p => !p.skip).map(p => p.y - p.options.radius)),
      };
    }),
    top: chart.chartArea.top,
  };
}"""


def test_feedback_charts_break_on_empty_months_show_all_nps_and_mark_the_current_month(
    live_server, page, screenshot
):
    manager, current = answer_months()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill("demo-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/feedback/?months=6")
    page.locator("#nps-chart[data-drawn='1']").wait_for()
    page.locator("#csat-ces-chart[data-drawn='1']").wait_for()
    screenshot("feedback-charts-gaps-partial")

    nps = page.eval_on_selector("#nps-chart", CHART_STATE)
    # The month without answers is null, and no line joins its neighbours across it.
    month_alone = nps["datasets"][1]
    assert month_alone["data"][3] is None  # six months, oldest first: month 2 back is index 3
    assert month_alone["data"][2] == 100  # month 3 back: all promoters
    assert all(d["spanGaps"] is False for d in nps["datasets"])
    # The whole NPS range, and the point at 100 drawn whole (not cut by the plot area).
    assert (nps["yMin"], nps["yMax"]) == (-100, 100)
    assert all(d["clip"] is False for d in nps["datasets"])
    assert month_alone["pointTop"] >= 0
    # The current month is partial: said in its label, its point drawn open.
    assert nps["labels"][-1] == f"{current} (to date)"
    assert nps["labels"][:-1] == [str(current.minus(back)) for back in range(5, 0, -1)]
    assert month_alone["lastPointFill"] == "#fff"

    csat_ces = page.eval_on_selector("#csat-ces-chart", CHART_STATE)
    assert all(d["spanGaps"] is False for d in csat_ces["datasets"])

    table = page.locator("table.report").first
    assert "to date" in table.locator("tr.partial").inner_text()
