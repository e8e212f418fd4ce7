"""The columns the tools read from each query file they run, and the family of each
(number, text, date, timestamp, boolean): the code's side of each file's ``Output:``
header. An analyst may add columns to a query (and its header); one of these gone,
or turned from a number into text, would fail in polars on a page far from the file
(or leave a report without it), so it is the file's error, named with the header's
line (:func:`kpi_core.outputs.columns_gone`). ``tests/test_queries.py`` holds this
to the shipped headers: change both together.
"""

from __future__ import annotations

# Columns in the header's order (ruff would give each its own line).
# fmt: off
READ_COLUMNS: dict[str, dict[str, str]] = {
    "agreement_marginals": {
        "domain": "text", "difficulty": "text", "risk_class": "text",
        "dataset_version": "text", "week_start": "date", "label": "text", "m": "number",
        "n_c": "number", "n_ordered_pairs": "number", "n_ordered_pairs_agree": "number",
        "n_items_multi": "number", "n_items_disagree": "number",
    },
    "annotation_kpi_counts": {
        "domain": "text", "difficulty": "text", "risk_class": "text",
        "dataset_version": "text", "vendor": "text", "tier": "text", "annotator_id": "text",
        "week_start": "date", "n_annotations": "number", "n_decided": "number",
        "n_accepted": "number", "n_rework": "number", "n_accepted_known": "number",
        "n_accepted_wrong": "number", "n_gold": "number", "n_gold_right": "number",
        "n_programmatic_known": "number", "n_programmatic_right": "number", "cost": "number",
        "n_cost_missing": "number", "n_precheck": "number", "n_precheck_accept": "number",
        "n_overturn_base": "number", "n_overturned": "number",
    },
    "calibration_decisions_log": {
        "decision_id": "text", "week": "text", "item_id": "text", "domain": "text",
        "agreed_label": "text", "note": "text", "recorded_at": "timestamp",
        "is_latest": "boolean",
    },
    "calibration_item_annotations": {
        "item_id": "text", "domain": "text", "difficulty": "text", "risk_class": "text",
        "item_gold_label": "text", "item_week_start": "date", "annotation_id": "text",
        "annotator_id": "text", "tier": "text", "vendor": "text", "is_human": "boolean",
        "is_item_label": "boolean", "label": "text", "submitted_at": "timestamp",
        "week_start": "date", "gold_label": "text", "decision_verdict": "text",
        "final_verdict": "text", "final_label": "text", "annotator_first_at": "timestamp",
    },
    "calibration_item_reviews": {
        "item_id": "text", "annotation_id": "text", "annotator_id": "text",
        "review_id": "text", "reviewer_id": "text", "reviewer_tier": "text", "stage": "text",
        "verdict": "text", "corrected_label": "text", "reviewed_at": "timestamp",
        "is_decision": "boolean",
    },
    "cross_table_integrity": {
        "annotations_unmatched": "number", "reviews_unmatched": "number",
        "audits_unmatched": "number", "reviews_before_submission": "number",
    },
    "data_as_of": {
        "as_of": "timestamp",
    },
    "defect_durations": {
        "defect_id": "text", "domain": "text", "severity": "text", "week_start": "date",
        "opened_at": "timestamp", "resolved_at": "timestamp", "is_open": "boolean",
        "resolution_h": "number", "age_h": "number",
    },
    "domain_coverage": {
        "domain": "text", "difficulty": "text", "risk_class": "text",
        "target_accepted_items": "number", "n_accepted_items": "number",
        "domain_coverage": "number",
    },
    "domain_labels": {
        "domain": "text", "label": "text", "n_uses": "number",
    },
    "item_domains": {
        "item_id": "text", "domain": "text",
    },
    "item_label_counts": {
        "item_id": "text", "domain": "text", "difficulty": "text", "risk_class": "text",
        "dataset_version": "text", "week_start": "date", "vendor": "text", "tier": "text",
        "label": "text", "n_annotators": "number",
    },
    "item_slices": {
        "domain": "text", "difficulty": "text", "risk_class": "text",
        "dataset_version": "text",
    },
    "model_lift": {
        "domain": "text", "benchmark": "text", "model_version": "text",
        "evaluated_at": "timestamp", "score": "number", "previous_model_version": "text",
        "lift": "number",
    },
    "annotation_facts": {
        "annotation_id": "text", "item_id": "text", "annotator_id": "text", "domain": "text",
        "difficulty": "text", "risk_class": "text", "dataset_version": "text",
        "vendor": "text", "tier": "text", "is_human": "boolean", "week_start": "date",
        "submitted_at": "timestamp", "label": "text", "decision_verdict": "text",
        "decided_at": "timestamp", "truth_is_error": "boolean", "gold_label": "text",
        "cost": "number", "n_cost_missing": "number", "n_precheck": "number",
        "n_precheck_accept": "number", "latest_final_verdict": "text",
        "first_reviewed_at": "timestamp", "first_precheck_accept_at": "timestamp",
        "first_final_at": "timestamp", "n_reviews": "number", "n_audits": "number",
    },
    "labelled_items": {
        "item_id": "text", "domain": "text", "difficulty": "text", "risk_class": "text",
        "dataset_version": "text", "week_start": "date",
    },
    "latest_labels": {
        "item_id": "text", "annotator_id": "text", "label": "text",
    },
    "oldest_waiting_annotations": {
        "stage": "text", "annotation_id": "text", "item_id": "text", "domain": "text",
        "difficulty": "text", "risk_class": "text", "dataset_version": "text",
        "vendor": "text", "tier": "text", "annotator_id": "text", "week_start": "date",
        "submitted_at": "timestamp", "age_h": "number",
    },
    "review_backlog": {
        "stage": "text", "domain": "text", "difficulty": "text", "risk_class": "text",
        "dataset_version": "text", "vendor": "text", "tier": "text", "annotator_id": "text",
        "week_start": "date", "n_backlog": "number", "n_age_lt_1d": "number",
        "n_age_1_3d": "number", "n_age_3_7d": "number", "n_age_gt_7d": "number",
        "oldest_age_h": "number",
    },
    "specialist_review_time_quantiles": {
        "domain": "text", "difficulty": "text", "risk_class": "text", "week_start": "date",
        "specialist_review_time_median_s": "number", "specialist_review_time_p90_s": "number",
    },
    "spaced_values": {
        "table_name": "text", "column_name": "text", "n_rows": "number", "first_file": "text",
        "first_row": "number", "first_value": "text",
    },
    "specialist_review_times": {
        "domain": "text", "difficulty": "text", "risk_class": "text",
        "dataset_version": "text", "vendor": "text", "tier": "text", "annotator_id": "text",
        "week_start": "date", "duration_s": "number", "n_reviews": "number",
    },
    "turnaround_hours": {
        "domain": "text", "difficulty": "text", "risk_class": "text",
        "dataset_version": "text", "vendor": "text", "tier": "text", "annotator_id": "text",
        "week_start": "date", "turnaround_h": "number", "n_annotations": "number",
    },
    "turnaround_quantiles": {
        "domain": "text", "difficulty": "text", "risk_class": "text", "week_start": "date",
        "turnaround_median_h": "number", "turnaround_p90_h": "number",
    },
}
# fmt: on
