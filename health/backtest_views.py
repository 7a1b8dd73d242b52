"""The scorecard's backtest page (managers): how well the stored scores predicted churn, which
measures carry signal, and suggested weights that open the scorecard form pre-filled."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.access import AuthenticatedHttpRequest, manager_required
from accounts.models import LifecycleStage, Tier
from health.backtest import HORIZON_DAYS, MIN_CHURNS, Agreement, Report
from health.backtest_data import cached_backtest
from health.forms import ScorecardForm
from health.models import Band
from health.scorecard import load_scorecard
from health.scoring import DEFAULTS_BY_KEY

BAND_COLORS = {Band.RED: "#dc2626", Band.YELLOW: "#d97706", Band.GREEN: "#16a34a"}
# The ROC chart needs no more points than it has pixels across.
MAX_ROC_POINTS = 200


@manager_required
@require_GET
def backtest(request: AuthenticatedHttpRequest) -> HttpResponse:
    report = cached_backtest()
    scorecard = load_scorecard()
    current = {m.key: (m.weight if m.enabled else 0) for m in scorecard.measures}
    suggestion = report.suggestion
    weight_rows = []
    apply_url = ""
    if suggestion is not None and suggestion.weights:
        weight_rows = [
            {
                "label": DEFAULTS_BY_KEY[key].label,
                "current": current.get(key, 0),
                "suggested": weight,
                "coefficient": suggestion.coefficients.get(key),
            }
            for key, weight in suggestion.weights.items()
        ]
        apply_url = scorecard_prefill_url(suggestion.weights, report)
    context: dict[str, Any] = {
        "report": report,
        "horizon": HORIZON_DAYS,
        "min_churns": MIN_CHURNS,
        "churn_rate": report.churn_rate,
        "measure_rows": [
            {"key": key, "label": DEFAULTS_BY_KEY[key].label, "agreement": agreement}
            for key, agreement in report.measures.items()
        ],
        "split_rows": _split_rows(report),
        "suggestion": suggestion,
        "weight_rows": weight_rows,
        "apply_url": apply_url,
        "charts": _charts(report),
        "nav": "scorecard",
    }
    return TemplateResponse(request, "health/backtest.html", context)


def scorecard_prefill_url(weights: dict[str, int], report: Report) -> str:
    """The scorecard form, opened with `weights` in its measure-weight fields and a reason for
    the audit trail: `?<key>-weight=<n>&…&reason=…` (the form's own field names). Nothing is
    saved until the manager saves the form."""
    params = {ScorecardForm.measure_weight_name(key): weight for key, weight in weights.items()}
    first, last = report.months[0], report.months[-1]
    params["reason"] = _("Suggested by the backtest of %(first)s to %(last)s") % {
        "first": first.strftime("%Y-%m"),
        "last": last.strftime("%Y-%m"),
    }
    return f"{reverse('health:scorecard')}?{urlencode(params)}"


def _split_rows(report: Report) -> list[dict[str, Any]]:
    rows = [
        {"group": _("Tier %(tier)s") % {"tier": tier}, "agreement": agreement}
        for tier, agreement in report.tiers.items()
        if tier in Tier.values
    ]
    rows += [
        {"group": LifecycleStage(stage).label, "agreement": report.stages[stage]}
        for stage in LifecycleStage.values
        if stage in report.stages
    ]
    return rows


def _auc_or_none(agreement: Agreement) -> float | None:
    return None if agreement.auc is None else round(agreement.auc, 3)


def _charts(report: Report) -> dict[str, Any]:
    step = max(1, len(report.roc) // MAX_ROC_POINTS)
    roc = report.roc[::step]
    if report.roc and roc[-1] != report.roc[-1]:
        roc.append(report.roc[-1])
    return {
        "roc": {
            "points": [{"x": round(x, 4), "y": round(y, 4)} for x, y in roc],
            "label": _("This scorecard"),
            "chance_label": _("A coin (AUC 0.5)"),
            "x_label": _("share of accounts that stayed, flagged"),
            "y_label": _("share of churned accounts, flagged"),
        },
        "bands": {
            "labels": [str(Band(rate.label).label) for rate in report.bands],
            "values": [
                None if rate.rate is None else round(rate.rate * 100, 2) for rate in report.bands
            ],
            "colors": [BAND_COLORS[Band(rate.label)] for rate in report.bands],
            "y_label": _("churned within 90 days"),
        },
        "measures": {
            "labels": [str(DEFAULTS_BY_KEY[key].label) for key in report.measures],
            "values": [_auc_or_none(agreement) for agreement in report.measures.values()],
            "reference": 0.5,
            "x_label": _("AUC (0.5 = no signal, 1 = perfect)"),
        },
    }
