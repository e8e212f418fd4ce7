"""queries/models/annotation_facts.sql: each annotation's decision and latest final
verdict, against a plain Python reading of kpis.md, on reviews crowded with ties."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from datasets import write_dataset
from kpi_core import queries
from kpi_core.loading import open_dataset

ANNOTATIONS = ("a1", "a2", "a3")

# Three instants and ids whose string order differs from their number order
# ("r10" < "r9"), so ties are common and broken the way only string order breaks them.
review = st.tuples(
    st.sampled_from(ANNOTATIONS),
    st.sampled_from(("precheck", "final")),
    st.sampled_from(("accept", "reject", "fix")),
    st.sampled_from(("2026-01-06T09:00:00Z", "2026-01-06T10:00:00Z", "2026-01-07T09:00:00Z")),
)


def expected(reviews: list[tuple[str, str, str, str, str]]) -> dict[str, tuple]:
    """kpis.md: the decision is the latest review by reviewed_at, ties to the later
    review_id in string order; the latest final verdict likewise among final reviews."""

    def latest(rows):
        return max(rows, key=lambda r: (r[4], r[0]))[3] if rows else None

    out = {}
    for annotation in ANNOTATIONS:
        mine = [r for r in reviews if r[1] == annotation]
        finals = [r for r in mine if r[2] == "final"]
        out[annotation] = (latest(mine), latest(finals)) if mine else (None, None)
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(review, max_size=9))
def test_decision_and_latest_final_verdict_break_ties_on_review_id(drawn):
    reviews = [(f"r{n}", *row) for n, row in enumerate(drawn, start=1)]
    lines = [
        f"{rid},{annotation},s1,{stage},{verdict},{'L' if verdict == 'fix' else ''},{at}"
        for rid, annotation, stage, verdict, at in reviews
    ]
    tables = {
        "items": "item_id,domain\ni1,stem",
        "annotators": "annotator_id,tier\ng1,generalist\ns1,specialist",
        "annotations": "annotation_id,item_id,annotator_id,label,submitted_at\n"
        + "\n".join(f"{a},i1,g1,A,2026-01-05T09:00:00Z" for a in ANNOTATIONS),
        "reviews": "review_id,annotation_id,reviewer_id,stage,verdict,corrected_label,"
        "reviewed_at\n" + "\n".join(lines),
    }
    with tempfile.TemporaryDirectory() as tmp:
        dataset = open_dataset(write_dataset(Path(tmp), tables))
        queries.register_models(dataset.con, materialize=True)
        rows = dataset.con.execute(
            "select annotation_id, decision_verdict, latest_final_verdict from annotation_facts"
        ).fetchall()
        dataset.con.close()
    assert {a: (d, f) for a, d, f in rows} == expected(reviews)
