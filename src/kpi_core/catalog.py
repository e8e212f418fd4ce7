"""The registry of KPIs: what each is called, its unit, which way is good, and
which tables it needs. The report, the targets and the dashboard all list KPIs
from here instead of naming them in branches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["rate", "count", "currency", "seconds", "hours", "coefficient"]


#: The units of what targets judge beside the catalogue's KPIs (states and per-severity
#: figures that no grouping of the KPI tables yields).
OTHER_UNITS: dict[str, Unit] = {"domain_coverage": "rate", "defect_turnaround_h": "hours"}


@dataclass(frozen=True)
class Kpi:
    name: str
    title: str
    unit: Unit
    higher_is_better: bool | None
    needs: tuple[str, ...] = ()
    has_interval: bool = False
    definition: str = ""


KPIS: dict[str, Kpi] = {
    k.name: k
    for k in (
        Kpi(
            "accepted_label_error_rate",
            "Accepted-label error rate",
            "rate",
            False,
            ("reviews",),
            True,
            "accepted annotations of known truth that are wrong / accepted annotations of known truth",
        ),
        Kpi(
            "disagreement_rate",
            "Disagreement rate",
            "rate",
            False,
            (),
            True,
            "items with >= 2 human annotators whose labels are not all equal / such items",
        ),
        Kpi(
            "pairwise_agreement",
            "Pairwise agreement",
            "rate",
            True,
            (),
            False,
            "pairs of human annotations (distinct annotators) on an item with equal labels / all pairs",
        ),
        Kpi(
            "krippendorff_alpha",
            "Krippendorff's alpha",
            "coefficient",
            True,
            (),
            False,
            "Krippendorff's alpha over human annotations: units = items, coders = annotators",
        ),
        Kpi(
            "gold_accuracy",
            "Gold accuracy",
            "rate",
            True,
            (),
            True,
            "human annotations on gold items with the gold label / human annotations on gold items",
        ),
        Kpi(
            "rework_rate",
            "Rework rate",
            "rate",
            False,
            ("reviews",),
            True,
            "annotations whose decision is reject or fix / annotations with a decision",
        ),
        Kpi(
            "cost_per_accepted_label",
            "Cost per accepted label",
            "currency",
            False,
            ("reviews",),
            False,
            "all annotation, review and audit costs / accepted annotations",
        ),
        Kpi(
            "accepted",
            "Accepted labels",
            "count",
            True,
            ("reviews",),
            False,
            "annotations whose decision (latest review) is accept",
        ),
        Kpi(
            "throughput",
            "Throughput",
            "count",
            True,
            ("reviews",),
            False,
            "accepted annotations per ISO week, over the weeks from the group's first to its "
            "last week with a submission (one week: its accepted annotations)",
        ),
        Kpi(
            "review_backlog",
            "Review backlog",
            "count",
            False,
            ("reviews",),
            False,
            "annotations submitted by the as-of time with no review by then",
        ),
        Kpi(
            "programmatic_accuracy",
            "Programmatic accuracy",
            "rate",
            True,
            (),
            True,
            "programmatic annotations of known truth that are right / those of known truth",
        ),
        Kpi(
            "specialist_review_time_median_s",
            "Specialist review time (median)",
            "seconds",
            False,
            ("reviews",),
            False,
            "median duration_s of final-stage reviews",
        ),
        Kpi(
            "specialist_review_time_p90_s",
            "Specialist review time (p90)",
            "seconds",
            False,
            ("reviews",),
            False,
            "90th percentile duration_s of final-stage reviews",
        ),
        Kpi(
            "turnaround_median_h",
            "Turnaround (median)",
            "hours",
            False,
            ("reviews",),
            False,
            "median hours from submitted_at to the decision's reviewed_at",
        ),
        Kpi(
            "turnaround_p90_h",
            "Turnaround (p90)",
            "hours",
            False,
            ("reviews",),
            False,
            "90th percentile hours from submitted_at to the decision",
        ),
        Kpi(
            "precheck_pass_rate",
            "Precheck pass rate",
            "rate",
            True,
            ("reviews",),
            True,
            "precheck reviews that accept / precheck reviews",
        ),
        Kpi(
            "final_overturn_rate",
            "Final overturn rate",
            "rate",
            False,
            ("reviews",),
            True,
            "annotations passed by precheck whose latest final review is not accept",
        ),
        Kpi(
            "review_backlog_oldest_h",
            "Oldest unreviewed annotation",
            "hours",
            False,
            ("reviews",),
            False,
            "as-of minus the submitted_at of the oldest backlog annotation",
        ),
    )
}
