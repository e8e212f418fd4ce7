"""The columns the tools read from each query file they run: the code's side of each
file's ``Output:`` header. An analyst may add columns to a query (and its header);
one of these gone would fail in polars, on a page far from the file (or leave a
report without it), so its loss is the file's error, named with the header's line
(:func:`kpi_core.outputs.held_to_header`). ``tests/test_queries.py`` holds this to
the shipped headers: change both together.
"""

from __future__ import annotations

# One line of columns per file, as its header reads (ruff would give each its own line).
# fmt: off
READ_COLUMNS: dict[str, tuple[str, ...]] = {
    "agreement_marginals": (
        "domain", "difficulty", "risk_class", "dataset_version", "week_start", "label", "m",
        "n_c", "n_ordered_pairs", "n_ordered_pairs_agree", "n_items_multi", "n_items_disagree",
    ),
    "annotation_kpi_counts": (
        "domain", "difficulty", "risk_class", "dataset_version", "vendor", "tier",
        "annotator_id", "week_start", "n_annotations", "n_decided", "n_accepted", "n_rework",
        "n_accepted_known", "n_accepted_wrong", "n_gold", "n_gold_right",
        "n_programmatic_known", "n_programmatic_right", "cost", "n_cost_missing", "n_precheck",
        "n_precheck_accept", "n_overturn_base", "n_overturned",
    ),
    "calibration_decisions_log": (
        "decision_id", "week", "item_id", "domain", "agreed_label", "note", "recorded_at",
        "is_latest",
    ),
    "calibration_item_annotations": (
        "item_id", "domain", "difficulty", "risk_class", "item_gold_label", "item_week_start",
        "annotation_id", "annotator_id", "tier", "vendor", "is_human", "is_item_label", "label",
        "submitted_at", "week_start", "gold_label", "decision_verdict", "final_verdict",
        "final_label", "annotator_first_at",
    ),
    "calibration_item_reviews": (
        "item_id", "annotation_id", "annotator_id", "review_id", "reviewer_id", "reviewer_tier",
        "stage", "verdict", "corrected_label", "reviewed_at", "is_decision",
    ),
    "cross_table_integrity": (
        "annotations_unmatched", "reviews_unmatched", "audits_unmatched",
        "reviews_before_submission",
    ),
    "data_as_of": (
        "as_of",
    ),
    "defect_durations": (
        "defect_id", "domain", "severity", "week_start", "opened_at", "resolved_at", "is_open",
        "resolution_h", "age_h",
    ),
    "domain_coverage": (
        "domain", "difficulty", "risk_class", "target_accepted_items", "n_accepted_items",
        "domain_coverage",
    ),
    "domain_labels": (
        "domain", "label", "n_uses",
    ),
    "item_domains": (
        "item_id", "domain",
    ),
    "item_label_counts": (
        "item_id", "domain", "difficulty", "risk_class", "dataset_version", "week_start",
        "vendor", "tier", "label", "n_annotators",
    ),
    "item_slices": (
        "domain", "difficulty", "risk_class", "dataset_version",
    ),
    "model_lift": (
        "domain", "benchmark", "model_version", "evaluated_at", "score",
        "previous_model_version", "lift",
    ),
    "annotation_facts": (
        "annotation_id", "item_id", "annotator_id", "domain", "difficulty", "risk_class",
        "dataset_version", "vendor", "tier", "is_human", "week_start", "submitted_at", "label",
        "decision_verdict", "decided_at", "truth_is_error", "gold_label", "cost",
        "n_cost_missing", "n_precheck", "n_precheck_accept", "latest_final_verdict",
        "first_reviewed_at", "first_precheck_accept_at", "first_final_at", "n_reviews",
        "n_audits",
    ),
    "labelled_items": (
        "item_id", "domain", "difficulty", "risk_class", "dataset_version", "week_start",
    ),
    "latest_labels": (
        "item_id", "annotator_id", "label",
    ),
    "oldest_waiting_annotations": (
        "stage", "annotation_id", "item_id", "domain", "difficulty", "risk_class",
        "dataset_version", "vendor", "tier", "annotator_id", "week_start", "submitted_at",
        "age_h",
    ),
    "review_backlog": (
        "stage", "domain", "difficulty", "risk_class", "dataset_version", "vendor", "tier",
        "annotator_id", "week_start", "n_backlog", "n_age_lt_1d", "n_age_1_3d", "n_age_3_7d",
        "n_age_gt_7d", "oldest_age_h",
    ),
    "specialist_review_time_quantiles": (
        "domain", "difficulty", "risk_class", "week_start", "specialist_review_time_median_s",
        "specialist_review_time_p90_s",
    ),
    "spaced_values": (
        "table_name", "column_name", "n_rows", "first_file", "first_row", "first_value",
    ),
    "specialist_review_times": (
        "domain", "difficulty", "risk_class", "dataset_version", "vendor", "tier",
        "annotator_id", "week_start", "duration_s", "n_reviews",
    ),
    "turnaround_hours": (
        "domain", "difficulty", "risk_class", "dataset_version", "vendor", "tier",
        "annotator_id", "week_start", "turnaround_h", "n_annotations",
    ),
    "turnaround_quantiles": (
        "domain", "difficulty", "risk_class", "week_start", "turnaround_median_h",
        "turnaround_p90_h",
    ),
}
# fmt: on
