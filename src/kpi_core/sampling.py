"""A realistic synthetic data directory: every table of the input contract.

:func:`write_sample` writes ``items``, ``annotators``, ``annotations``, ``reviews``,
``audits``, ``targets``, ``defects``, ``benchmarks`` and ``calibration_decisions`` as
``<table>.<fmt>``. The same ``(n_annotations, seed, fmt)`` always gives the same bytes:
every draw comes from seeded :class:`numpy.random.Generator` streams (one for the shared
tables, one per shard of :data:`SHARD_ANNOTATIONS` annotations) in a fixed order, the
calendar is fixed (never "now"), and the files are written by polars with fixed
settings. Generation is vectorised (numpy over whole columns, no loop over rows) and
sharded, two shards at a time; string ids and labels are formatted lazily by polars
while the files are streamed out, so memory stays at a few compact numeric columns per
row.

The calendar is the 16 ISO weeks 2025-W45 .. 2026-W08 (Monday 2025-11-03 to Sunday
2026-02-22, across the year end); nothing happens after :data:`SNAPSHOT`, so the
default as-of time of the KPIs is just before it, in 2026-W08.

The data is a rating task (labels ``"1"`` .. ``"5"``, so nominal, ordinal, interval and
ratio alpha all mean something) with two-tier QA (a final review that does not accept
is sometimes sent to a second specialist, so an annotation can have two final
reviews), and six planted stories that the dashboard should surface (each checked by
``tests/test_sampling.py``):

a. vendor :data:`DRIFTING_VENDOR` (``crowdly``) gets less accurate week over week: it
   keeps onboarding new, less trained annotators (each one steady, the vendor sliding);
b. slice :data:`PROMOTED_SLICE` (medicine, hard, high) has an accepted-label error rate
   well above 5% from week :data:`SLICE_STORY_FROM_WEEK` on (2026-W03, the med-notes
   v2.0 guideline change), with dense gold and fast audits there, so the slice-promotion
   rule (K=3 weeks, N=20, target 0.05) fires at the default size;
c. the precheck queue of low- and medium-risk medicine annotations falls behind from
   :data:`BACKLOG_FROM_WEEK` on, so the medicine review backlog grows toward the end;
d. specialists are more accurate and cost more per label than generalists;
e. the programmatic labeller :data:`WEAK_MODEL` (``llm-judge``) is fast and cheap but
   weak on hard items;
f. annotator :data:`DRIFTING_ANNOTATOR` rates one point high in the last
   :data:`DRIFT_WEEKS` weeks (the calibration meetings of those weeks discuss it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import polars as pl
from tqdm import tqdm

from kpi_core.contract import DIFFICULTIES, FORMATS, RISK_CLASSES, SEVERITIES, TABLES, TRIAGE
from kpi_core.grouping import iso_week_label
from kpi_core.problems import DataError, Problem

# --- calendar ----------------------------------------------------------------------------
#: Monday of ISO week 2025-W45, the first day of the sample.
START = datetime(2025, 11, 3, tzinfo=UTC)
#: Number of ISO weeks covered: 2025-W45 .. 2026-W08.
N_WEEKS = 16
#: Sunday 2026-02-22 20:00 UTC: the moment the logs were exported; nothing is later.
SNAPSHOT = START + timedelta(weeks=N_WEEKS, hours=-4)

_HOUR = 3600
_DAY = 24 * _HOUR
_WEEK = 7 * _DAY
_START_S = int(START.timestamp())
_SNAPSHOT_S = int(SNAPSHOT.timestamp())

# --- the world ---------------------------------------------------------------------------
DOMAINS = ("stem", "coding", "finance", "medicine")
VENDORS = ("acme", "bluepeak", "crowdly", "northstar")
#: Vendor of the specialists (staff experts) and of the programmatic labellers.
SPECIALIST_VENDOR = "inhouse"
PROGRAMMATIC_VENDOR = "inhouse-model"
#: The programmatic labellers: (annotator_id, hourly_rate of compute).
PROGRAMMATIC = (("llm-judge", 3.0), ("lf-rules", 0.0))

# --- planted stories ---------------------------------------------------------------------
DRIFTING_VENDOR = "crowdly"
PROMOTED_SLICE = ("medicine", "hard", "high")
#: Week index (0 = 2025-W45) from which the promoted slice goes wrong: 2026-W03.
SLICE_STORY_FROM_WEEK = 10
#: Week index from which the medicine precheck queue falls behind: 2026-W04.
BACKLOG_FROM_WEEK = 11
DRIFTING_ANNOTATOR = "bluepeak-g003"
DRIFT_WEEKS = 2
WEAK_MODEL = "llm-judge"

_DOMAIN_P = np.array([0.30, 0.27, 0.21, 0.22])
#: P(difficulty | domain), rows in DOMAINS order, columns easy/medium/hard.
_DIFFICULTY_P = np.array(
    [[0.40, 0.40, 0.20], [0.35, 0.45, 0.20], [0.40, 0.40, 0.20], [0.20, 0.35, 0.45]]
)
#: P(risk_class | domain), columns low/medium/high.
_RISK_P = np.array([[0.60, 0.30, 0.10], [0.55, 0.35, 0.10], [0.30, 0.40, 0.30], [0.15, 0.35, 0.50]])
_TRUE_LABEL_P = np.array([0.10, 0.20, 0.30, 0.25, 0.15])
_DATASETS = (
    ("stem-qa", "stem-proofs"),
    ("code-review", "code-gen"),
    ("fin-filings", "fin-sentiment"),
    ("med-notes", "med-reports"),
)
#: Week a dataset's second version starts (same order as _DATASETS, flattened).
_VERSION_CUTOVER = np.array([6, 9, 4, 12, 7, 11, SLICE_STORY_FROM_WEEK, 8])
_VERSIONS = ("v1.0", "v2.0")

_VENDOR_RATE = np.array([19.0, 22.0, 13.0, 26.0])
_VENDOR_SKILL = np.array([0.01, 0.0, 0.0, 0.02])
#: Skill of the drifting vendor's annotators, from its first hire to its last; the
#: k-th of g joins in week 16 * k // g (work for one not yet hired goes to one who is).
_ONBOARDING_SKILL = (0.06, -0.5)
_SPECIALIST_RATE = np.array([70.0, 85.0, 95.0, 120.0])

#: P(label right) by difficulty (easy, medium, hard): generalist, specialist, llm, rules.
_ACCURACY = np.array(
    [[0.93, 0.86, 0.74], [0.975, 0.95, 0.90], [0.90, 0.78, 0.42], [0.74, 0.66, 0.55]]
)
_WEEK_WEIGHT = 1.0 + 0.04 * np.arange(N_WEEKS)
_WEEKDAY_P = np.array([0.19, 0.19, 0.19, 0.19, 0.17, 0.035, 0.035])

_ACCEPT, _REJECT, _FIX = 0, 1, 2
_VERDICTS = ("accept", "reject", "fix")
_PRECHECK = 0  # stage codes: 0 precheck, 1 final


def _lognormal(rng: np.random.Generator, median: float | np.ndarray, sigma: float, size: int):
    return np.asarray(median) * rng.lognormal(0.0, sigma, size)


def _categorical(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """One draw per row of ``cum`` (rows: cumulative probabilities)."""
    u = rng.random(cum.shape[0])
    return (u[:, None] >= cum[:, :-1]).sum(axis=1).astype(np.int8)


def _reflect(t: np.ndarray) -> np.ndarray:
    """Fold times past either end of the calendar back inside it."""
    t = np.where(t > _SNAPSHOT_S, 2 * _SNAPSHOT_S - t, t)
    t = np.where(t < _START_S, 2 * _START_S - t, t)
    return np.clip(t, _START_S, _SNAPSHOT_S)


def _neighbour(rng: np.random.Generator, label: np.ndarray) -> np.ndarray:
    """A label one step up or down the scale (inside 1..5)."""
    step = np.where(rng.random(label.size) < 0.5, -1, 1)
    out = label + step
    return np.where((out < 1) | (out > 5), label - step, out).astype(np.int8)


def _verdicts(rng, wrong, accept_ok, fix_ok, accept_wrong, fix_wrong) -> np.ndarray:
    u = rng.random(wrong.size)
    accept = np.where(wrong, accept_wrong, accept_ok)
    fix = np.where(wrong, fix_wrong, fix_ok)
    return np.where(u < accept, _ACCEPT, np.where(u < accept + fix, _FIX, _REJECT)).astype(np.int8)


# --- generation --------------------------------------------------------------------------
#: Annotations generated at a time. Every shard covers the whole calendar; ids are
#: numbered shard after shard (in time order within a shard). Part of the output's
#: definition: changing it changes the bytes of samples larger than one shard.
SHARD_ANNOTATIONS = 1 << 19


class _Pool:
    """The annotators: generalists by vendor, specialists by domain, two programs."""

    def __init__(self, n_annotations: int, rng: np.random.Generator):
        g = int(np.clip(n_annotations // 2000, 8, 250))  # generalists per vendor
        s = int(np.clip(n_annotations // 8000, 4, 60))  # specialists per domain
        self.g, self.s = g, s
        self.n_gen = g * len(VENDORS)
        self.spec0 = self.n_gen
        self.llm = self.n_gen + s * len(DOMAINS)
        self.lf = self.llm + 1
        total = self.lf + 1
        tier = np.zeros(total, np.int8)
        tier[self.spec0 : self.llm] = 1
        tier[self.llm :] = 2
        # vendor of a generalist, domain of a specialist, model of a program
        group = np.concatenate(
            [np.repeat(np.arange(len(VENDORS)), g), np.repeat(np.arange(len(DOMAINS)), s), [0, 1]]
        ).astype(np.int8)
        number = np.concatenate(
            [
                np.tile(np.arange(1, g + 1), len(VENDORS)),
                np.tile(np.arange(1, s + 1), len(DOMAINS)),
                [0, 0],
            ]
        )
        n_spec = self.llm - self.spec0
        self.rate = np.concatenate(
            [
                _VENDOR_RATE[group[: self.n_gen]] * rng.lognormal(0, 0.08, self.n_gen),
                _SPECIALIST_RATE[group[self.spec0 : self.llm]] * rng.lognormal(0, 0.10, n_spec),
                [rate for _, rate in PROGRAMMATIC],
            ]
        ).round(2)
        self.skill = np.where(tier < 2, rng.normal(0, 0.02, total), 0.0)
        self.tier, self.group = tier, group
        self.drifter = (
            VENDORS.index(DRIFTING_ANNOTATOR.split("-")[0]) * g + int(DRIFTING_ANNOTATOR[-3:]) - 1
        )
        self.crowdly = VENDORS.index(DRIFTING_VENDOR)
        hire = np.arange(g)
        first = self.crowdly * g
        self.skill[first : first + g] += np.linspace(*_ONBOARDING_SKILL, g)
        self.joins = np.zeros(total, np.int8)
        self.joins[first : first + g] = N_WEEKS * hire // g
        prefix = np.where(
            tier == 0,
            np.array(VENDORS)[np.minimum(group, 3)],
            np.array(DOMAINS)[np.minimum(group, 3)],
        )
        letter = np.where(tier == 0, "g", "s")
        names = [f"{p}-{t}{k:03d}" for p, t, k in zip(prefix, letter, number, strict=True)]
        names[self.llm], names[self.lf] = PROGRAMMATIC[0][0], PROGRAMMATIC[1][0]
        self.names = names
        # generalists are picked from this pool; the drifter is in it four times (busier)
        extra = (self.drifter + np.array([1, 2, 3]) * self.n_gen // 4) % self.n_gen
        self.gen_pool = np.insert(np.arange(self.n_gen), np.sort(extra), self.drifter)

    def hired(self, annotator: np.ndarray, week: np.ndarray) -> np.ndarray:
        """Work for a drifting-vendor annotator not yet hired in ``week`` goes to one who is."""
        first = self.crowdly * self.g
        k = annotator - first
        crowdly = (k >= 0) & (k < self.g)
        n_hired = np.searchsorted(self.joins[first : first + self.g], week, side="right")
        return np.where(crowdly & (k >= n_hired), first + k % np.maximum(n_hired, 1), annotator)

    def reviewer(self, rng: np.random.Generator, author: np.ndarray) -> np.ndarray:
        """A precheck reviewer: a generalist of an established vendor, not the author."""
        g = self.g
        k = rng.integers(0, g * (len(VENDORS) - 1), author.size)
        vendor = k // g
        vendor += vendor >= self.crowdly
        reviewer = vendor * g + k % g
        return np.where(reviewer == author, vendor * g + (k + 1) % g, reviewer)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "annotator_id": self.names,
                "tier": np.array(["generalist", "specialist", "programmatic"])[self.tier],
                "vendor": np.where(
                    self.tier == 0,
                    np.array(VENDORS)[np.minimum(self.group, 3)],
                    np.where(self.tier == 1, SPECIALIST_VENDOR, PROGRAMMATIC_VENDOR),
                ),
                "expertise": np.where(self.tier == 1, np.array(DOMAINS)[self.group], ""),
                "hourly_rate": self.rate,
            }
        ).with_columns(pl.col("expertise").replace("", None))


class _Shard:
    """``n`` annotations with their items, reviews and audits, over the whole calendar.

    Columns are numpy arrays (codes, epoch seconds); :meth:`frames` returns compact
    polars frames (annotation numbers continue the earlier shards', item numbers are
    the shard's own and :func:`_generate` offsets them).
    """

    def __init__(self, pool: _Pool, n: int, rng: np.random.Generator):
        self.pool, self.n, self.rng = pool, n, rng
        self._items()
        self._annotations()
        self._reviews()
        self._audits()

    # items --------------------------------------------------------------------------------
    def _items(self) -> None:
        rng, pool = self.rng, self.pool
        k = self.n // 2 + 16  # ~2.3 annotations per item: enough items, cut below
        domain = rng.choice(len(DOMAINS), size=k, p=_DOMAIN_P).astype(np.int8)
        difficulty = _categorical(rng, np.cumsum(_DIFFICULTY_P, axis=1)[domain])
        risk = _categorical(rng, np.cumsum(_RISK_P, axis=1)[domain])
        # a few stem/coding items were logged without difficulty or risk (slice part unknown)
        tech = domain <= 1
        difficulty[tech & (rng.random(k) < 0.005)] = -1
        risk[tech & (rng.random(k) < 0.005)] = -1
        dataset = (domain * 2 + (rng.random(k) < 0.4)).astype(np.int8)
        in_slice = (domain == 3) & (difficulty == 2) & (risk == 2)

        # triage: automate easy low-risk work, send hard high-risk work to specialists
        triage = np.full(k, 1, np.int8)  # generalist
        triage[(difficulty == 0) & (risk == 0) & (rng.random(k) < 0.7)] = 0
        to_spec = np.where(
            (difficulty == 2) & (risk == 2),
            0.85,
            np.where((risk == 2) | (difficulty == 2), 0.15, 0.02),
        )
        triage[(triage == 1) & (rng.random(k) < to_spec)] = 2

        # how many labels: 1-3 human ones (more for high risk), often a programmatic one
        n_human_cum = np.where(
            (triage == 0)[:, None],
            [0.8, 0.95, 1.0],
            np.where((risk == 2)[:, None], [0.3, 0.7, 1.0], [0.5, 0.85, 1.0]),
        )
        n_human = (_categorical(rng, n_human_cum) + 1).astype(np.int8)
        has_prog = rng.random(k) < np.where(triage == 0, 0.95, 0.55)
        rules = (domain <= 1) & (rng.random(k) < 0.35)  # lf-rules only knows stem and coding
        counts = n_human + has_prog
        cum = np.cumsum(counts)
        last = int(np.searchsorted(cum, self.n))  # every item has a label: k >= n/2 suffices
        keep = last + 1
        counts = counts[:keep].copy()
        counts[last] -= int(cum[last] - self.n)
        n_human = np.minimum(n_human[:keep], counts)
        has_prog = counts > n_human

        # when: an anchor time per item (more work each week, on weekdays, office hours)
        week = rng.choice(N_WEEKS, size=keep, p=_WEEK_WEIGHT / _WEEK_WEIGHT.sum())
        day = rng.choice(7, size=keep, p=_WEEKDAY_P)
        sec = np.clip(rng.normal(13.5 * _HOUR, 3 * _HOUR, keep), 0, _DAY - 1).astype(np.int64)
        anchor = _reflect(_START_S + week.astype(np.int64) * _WEEK + day * _DAY + sec)
        gaps = rng.exponential(10 * _HOUR, (keep, 2)).astype(np.int64)
        offsets = np.concatenate([np.zeros((keep, 1), np.int64), np.cumsum(gaps, axis=1)], axis=1)
        prelabel = rng.exponential(1.5 * _HOUR, keep).astype(np.int64)

        sl = slice(0, keep)
        is_gold = rng.random(keep) < np.where(in_slice[sl], 0.30, 0.08)
        true_label = (rng.choice(5, size=keep, p=_TRUE_LABEL_P) + 1).astype(np.int8)

        # who: distinct annotators per item, by distinct offsets into the pools
        gen_pool, p_size, s = pool.gen_pool, pool.gen_pool.size, pool.s
        zero = np.zeros(keep, np.int64)
        r1 = 1 + rng.integers(0, p_size - 1, keep)
        r2 = 1 + rng.integers(0, p_size - 2, keep)
        r2 += r2 >= r1
        base = rng.integers(0, p_size, keep)
        gen_slots = gen_pool[(base[:, None] + np.stack([zero, r1, r2], 1)) % p_size]
        q1 = 1 + rng.integers(0, s - 1, keep)
        q2 = 1 + rng.integers(0, s - 2, keep)
        q2 += q2 >= q1
        sbase = rng.integers(0, s, keep)
        spec_slots = (
            pool.spec0
            + domain[sl].astype(np.int64)[:, None] * s
            + (sbase[:, None] + np.stack([zero, q1, q2], 1)) % s
        )
        p_spec = np.where(triage[sl] == 2, 0.55, np.where(domain[sl] >= 2, 0.08, 0.04))
        use_spec = rng.random((keep, 3)) < p_spec[:, None]
        anchor_week = ((anchor - _START_S) // _WEEK)[:, None]
        slots = np.where(use_spec, spec_slots, pool.hired(gen_slots, anchor_week)).astype(np.int32)
        again = (n_human >= 2) & (rng.random(keep) < 0.03)  # same person labels it twice
        slots[again, 1] = slots[again, 0]

        self.n_items = keep
        self.i_domain, self.i_difficulty, self.i_risk = domain[sl], difficulty[sl], risk[sl]
        self.i_dataset, self.i_triage, self.i_in_slice = dataset[sl], triage[sl], in_slice[sl]
        self.i_gold, self.i_true, self.i_rules = is_gold, true_label, rules[sl]
        self.i_counts, self.i_n_human = counts, n_human
        self.i_anchor, self.i_offsets, self.i_prelabel = anchor, offsets, prelabel
        self.i_slots = slots

    # annotations --------------------------------------------------------------------------
    def _annotations(self) -> None:
        rng, pool, n = self.rng, self.pool, self.n
        counts = self.i_counts
        item = np.repeat(np.arange(self.n_items, dtype=np.int32), counts)
        starts = np.cumsum(counts) - counts
        slot = (np.arange(n) - np.repeat(starts, counts)).astype(np.int8)
        is_prog = slot >= self.i_n_human[item]
        hslot = np.minimum(slot, 2)
        annotator = np.where(
            is_prog, np.where(self.i_rules[item], pool.lf, pool.llm), self.i_slots[item, hslot]
        )
        anchor = self.i_anchor[item]
        # programs pre-label shortly before the people; people follow one another
        t = np.where(is_prog, anchor - self.i_prelabel[item], anchor + self.i_offsets[item, hslot])
        t = _reflect(t)
        week = ((t - _START_S) // _WEEK).astype(np.int8)

        domain, difficulty = self.i_domain[item], self.i_difficulty[item]
        diff = np.where(difficulty < 0, 1, difficulty)
        tier = pool.tier[annotator]
        model_row = np.where(tier < 2, tier, np.where(annotator == pool.llm, 2, 3))
        p = _ACCURACY[model_row, diff] + pool.skill[annotator]
        generalist = tier == 0
        vendor = pool.group[annotator]
        p += np.where(generalist, _VENDOR_SKILL[vendor], 0.0)
        drifting = (annotator == pool.drifter) & (week >= N_WEEKS - DRIFT_WEEKS)
        p -= np.where(drifting, 0.55, 0.0)
        slice_story = self.i_in_slice[item] & (week >= SLICE_STORY_FROM_WEEK)
        p -= np.where(slice_story & (tier < 2), 0.15, 0.0)
        right = rng.random(n) < np.clip(p, 0.05, 0.995)

        # wrong labels are mostly one step off; the drifter rates one point high
        true = self.i_true[item]
        near = _neighbour(rng, true)
        far = ((true - 1 + rng.integers(1, 5, n)) % 5 + 1).astype(np.int8)
        wrong_label = np.where(rng.random(n) < 0.75, near, far)
        inflated = np.where(true < 5, true + 1, 4).astype(np.int8)
        wrong_label = np.where(drifting, inflated, wrong_label)
        label = np.where(right, true, wrong_label).astype(np.int8)

        # time spent and cost: people take minutes, programs seconds
        human = tier < 2
        human_median = np.array([40.0, 85.0, 170.0])[diff] * np.where(tier == 1, 1.2, 1.0)
        human_median *= np.where(domain == 3, 1.3, 1.0)
        prog_median = np.where(annotator == pool.llm, 1.5, 0.05)
        duration = _lognormal(rng, np.where(human, human_median, prog_median), 0.5, n).round(2)
        cost = np.round(duration / _HOUR * pool.rate[annotator], 4)
        u = rng.random(n)
        self.a_duration = np.where(human & (u > 0.985), np.nan, duration)  # cost given
        self.a_cost = np.where(human & (u < 0.12), np.nan, cost)  # duration x hourly_rate
        self.a_item, self.a_annotator, self.a_label, self.a_t = item, annotator, label, t
        self.a_week, self.a_true, self.a_tier = week, true, tier

    # reviews ------------------------------------------------------------------------------
    def _reviews(self) -> None:
        rng, pool, n = self.rng, self.pool, self.n
        item = self.a_item
        domain, risk = self.i_domain[item], self.i_risk[item]
        difficulty = self.i_difficulty[item]
        diff = np.where(difficulty < 0, 1, difficulty)
        wrong = self.a_label != self.a_true
        t = self.a_t
        story = self.i_in_slice[item] & (self.a_week >= SLICE_STORY_FROM_WEEK)

        # specialist-triaged work often goes straight to the final review
        direct = (self.i_triage[item] == 2) & (rng.random(n) < 0.6)
        # the medicine precheck queue (high risk is fast-tracked) falls ever further behind
        behind_from = _START_S + BACKLOG_FROM_WEEK * _WEEK
        lag = np.where(
            (domain == 3) & (risk != 2) & (t > behind_from),
            (t - behind_from) * 0.6 * rng.uniform(0.7, 1.3, n),
            0.0,
        )
        pre_t = t + (_lognormal(rng, 5 * _HOUR, 0.9, n) + lag).astype(np.int64)
        pre = ~direct & (pre_t <= _SNAPSHOT_S)
        pre_v = _verdicts(rng, wrong, 0.94, 0.02, 0.28, 0.32)

        p_final = np.array([0.7, 0.85, 0.97, 0.8])[np.where(risk < 0, 3, risk)]
        final = direct | (pre & (pre_v == _ACCEPT) & (rng.random(n) < p_final))
        fin_t = np.where(direct, t, pre_t) + _lognormal(rng, 18 * _HOUR, 0.7, n).astype(np.int64)
        final &= fin_t <= _SNAPSHOT_S
        fin_v = _verdicts(rng, wrong, 0.96, 0.015, np.where(story, 0.5, 0.12), 0.5)

        # who: a generalist other than the author first, then a specialist of the domain
        pre_by = pool.reviewer(rng, self.a_annotator)
        fin_by = _specialist(rng, pool, domain, self.a_annotator)

        # a final review that does not accept is sometimes sent to a second specialist
        # for a second opinion, whose later final review decides
        sec_t = fin_t + _lognormal(rng, 20 * _HOUR, 0.6, n).astype(np.int64)
        p_second = np.where(fin_v == _ACCEPT, 0.01, 0.15)
        second = final & (rng.random(n) < p_second) & (sec_t <= _SNAPSHOT_S)
        sec_v = _verdicts(rng, wrong, 0.96, 0.015, np.where(story, 0.5, 0.12), 0.5)
        sec_by = _specialist(rng, pool, domain, self.a_annotator, fin_by)

        pre_idx, fin_idx, sec_idx = (
            np.flatnonzero(pre),
            np.flatnonzero(final),
            np.flatnonzero(second),
        )
        ann = np.concatenate([pre_idx, fin_idx, sec_idx])
        m = ann.size
        stage = np.concatenate(
            [np.zeros(pre_idx.size, np.int8), np.ones(fin_idx.size + sec_idx.size, np.int8)]
        )
        verdict = np.concatenate([pre_v[pre_idx], fin_v[fin_idx], sec_v[sec_idx]])
        reviewer = np.concatenate([pre_by[pre_idx], fin_by[fin_idx], sec_by[sec_idx]])
        true = self.a_true[ann]
        corrected = np.where(wrong[ann], true, _neighbour(rng, true))
        d = diff[ann]
        median = np.where(
            stage == _PRECHECK,
            np.array([28.0, 35.0, 50.0])[d],
            np.array([80.0, 115.0, 170.0])[d] * np.where(domain[ann] == 3, 1.25, 1.0),
        )
        duration = _lognormal(rng, median, 0.5, m).round(1)
        cost = np.round(duration / _HOUR * pool.rate[reviewer], 4)
        u = rng.random(m)
        self.r_cost = np.where(u < 0.15, np.nan, cost)  # derivable: duration x hourly_rate
        self.r_duration = np.where(u > 0.98, np.nan, duration)  # cost given instead
        self.r_ann, self.r_stage, self.r_verdict, self.r_reviewer = ann, stage, verdict, reviewer
        self.r_t = np.concatenate([pre_t[pre_idx], fin_t[fin_idx], sec_t[sec_idx]])
        self.r_corrected = np.where(verdict == _FIX, corrected, 0).astype(np.int8)

        # each annotation's decision at the snapshot: its latest final review, else its precheck
        self.a_decided_t = np.where(second, sec_t, np.where(final, fin_t, pre_t))
        decision = np.where(second, sec_v, np.where(final, fin_v, pre_v))
        self.a_accepted = (pre | final) & (decision == _ACCEPT)

    # audits -------------------------------------------------------------------------------
    def _audits(self) -> None:
        rng, n = self.rng, self.n
        item = self.a_item
        domain, risk = self.i_domain[item], self.i_risk[item]
        in_slice = self.i_in_slice[item]
        # high-risk medicine is audited more, the promoted slice densely and fast
        p = np.where(in_slice, 0.75, np.where((domain == 3) & (risk == 2), 0.20, 0.05))
        delay = np.where(
            in_slice, _lognormal(rng, 0.5 * _DAY, 0.5, n), _lognormal(rng, 2 * _DAY, 0.6, n)
        )
        when = self.a_decided_t + delay.astype(np.int64)
        idx = np.flatnonzero(self.a_accepted & (rng.random(n) < p) & (when <= _SNAPSHOT_S))
        auditor = _specialist(rng, self.pool, domain[idx], self.a_annotator[idx])
        seconds = _lognormal(rng, 240.0, 0.5, idx.size)
        self.x_ann, self.x_t, self.x_auditor = idx, when[idx], auditor
        self.x_error = self.a_label[idx] != self.a_true[idx]
        self.x_cost = np.round(seconds / _HOUR * self.pool.rate[auditor], 4)

    # calibration decisions ----------------------------------------------------------------
    def calibration(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Weekly meetings (Thursday 16:00 UTC) of the last four weeks.

        They settle items without gold that the drifting annotator got wrong, and wrong
        labels in the promoted slice, from the ten days before each meeting. Returns
        (item index, recorded_at, note) per decision.
        """
        wrong = self.a_label != self.a_true
        candidate = wrong & (self.a_tier < 2) & ~self.i_gold[self.a_item]
        about_drift = self.a_annotator == self.pool.drifter
        about_slice = self.i_in_slice[self.a_item]
        items, recorded, notes = [np.empty(0, np.int64)], [np.empty(0, np.int64)], []
        for week in range(N_WEEKS - 4, N_WEEKS):
            meeting = _START_S + week * _WEEK + 3 * _DAY + 16 * _HOUR
            recent = candidate & (self.a_t < meeting) & (self.a_t >= meeting - 10 * _DAY)
            minute = 0
            for topic, note, quota in (
                (about_drift, "rubric re-anchored: ratings were one point high", 4),
                (about_slice, "med-notes v2.0 guideline: clarified severity scale", 3),
            ):
                chosen = rng.permutation(np.unique(self.a_item[recent & topic]))
                chosen = np.sort(chosen[~np.isin(chosen, np.concatenate(items))][:quota])
                items.append(chosen.astype(np.int64))
                recorded.append(meeting + 60 * (minute + np.arange(chosen.size, dtype=np.int64)))
                minute += chosen.size
                notes += [note] * chosen.size
        return np.concatenate(items), np.concatenate(recorded), notes

    def slice_counts(self) -> np.ndarray:
        """Items per [domain, difficulty + 1, risk_class + 1] (index 0: unknown)."""
        key = (self.i_domain.astype(np.int64) * 4 + (self.i_difficulty + 1)) * 4 + (self.i_risk + 1)
        return np.bincount(key, minlength=64).reshape(4, 4, 4)

    # compact frames -----------------------------------------------------------------------
    def frames(self, ann0: int) -> dict[str, pl.DataFrame]:
        """Items, annotations, reviews, audits; ids follow time within the shard.

        ``ann0`` is the number of annotations of the shards before; item numbers are
        the shard's own (from 0); times are seconds since :data:`START` (int32).
        """
        rng = self.rng
        first = np.minimum.reduceat(self.a_t, np.cumsum(self.i_counts) - self.i_counts)
        # an item is created a little before its first label, within the calendar
        delay = np.minimum(_lognormal(rng, 3 * _HOUR, 1.0, self.n_items), first - _START_S)
        created = first - delay.astype(np.int64)
        item_order = np.argsort(created, kind="stable")
        self.item_number = np.empty(self.n_items, np.int64)
        self.item_number[item_order] = np.arange(self.n_items)
        ann_order = np.argsort(self.a_t, kind="stable")
        ann_number = np.empty(self.n, np.int64)
        ann_number[ann_order] = np.arange(self.n)
        # reviews by time, then annotation, then stage: one unique int64 key
        bits = max(1, int(self.n).bit_length())
        key = ((self.r_t - _START_S) << (bits + 1)) | (ann_number[self.r_ann] << 1) | self.r_stage
        rev_order = np.argsort(key)
        ann_number += ann0
        aud_order = np.argsort(self.x_t, kind="stable")
        version = (created >= _START_S + _VERSION_CUTOVER[self.i_dataset] * _WEEK).astype(np.int8)

        io, ao, ro, xo = item_order, ann_order, rev_order, aud_order
        return {
            "items": pl.DataFrame(
                {
                    "domain": self.i_domain[io],
                    "difficulty": self.i_difficulty[io],
                    "risk_class": self.i_risk[io],
                    "dataset": self.i_dataset[io],
                    "version": version[io],
                    "triage": self.i_triage[io],
                    "gold_label": np.where(self.i_gold, self.i_true, 0).astype(np.int8)[io],
                    "created_at": _since_start(created[io]),
                }
            ),
            "annotations": pl.DataFrame(
                {
                    "item": self.item_number[self.a_item[ao]],
                    "annotator": self.a_annotator[ao].astype(np.int32),
                    "label": self.a_label[ao],
                    "submitted_at": _since_start(self.a_t[ao]),
                    "duration_s": self.a_duration[ao],
                    "cost": self.a_cost[ao],
                },
                nan_to_null=True,
            ),
            "reviews": pl.DataFrame(
                {
                    "ann": ann_number[self.r_ann[ro]],
                    "reviewer": self.r_reviewer[ro].astype(np.int32),
                    "stage": self.r_stage[ro],
                    "verdict": self.r_verdict[ro],
                    "corrected_label": self.r_corrected[ro],
                    "reviewed_at": _since_start(self.r_t[ro]),
                    "duration_s": self.r_duration[ro],
                    "cost": self.r_cost[ro],
                },
                nan_to_null=True,
            ),
            "audits": pl.DataFrame(
                {
                    "ann": ann_number[self.x_ann[xo]],
                    "auditor": self.x_auditor[xo].astype(np.int32),
                    "audited_at": _since_start(self.x_t[xo]),
                    "is_error": self.x_error[xo],
                    "cost": self.x_cost[xo],
                }
            ),
        }


def _specialist(rng, pool: _Pool, domain: np.ndarray, *not_them: np.ndarray) -> np.ndarray:
    """A specialist of each row's domain who is none of ``not_them`` (per row: the
    author, and for a second opinion the first reviewer too)."""
    k = rng.integers(0, pool.s, domain.size)
    base = pool.spec0 + domain.astype(np.int64) * pool.s
    # one step on per person to avoid is enough, as a domain has at least 4 specialists
    for _ in not_them:
        taken = np.logical_or.reduce([base + k == other for other in not_them])
        k = np.where(taken, (k + 1) % pool.s, k)
    return base + k


def _since_start(t: np.ndarray) -> np.ndarray:
    return (t - _START_S).astype(np.int32)


# --- the small tables --------------------------------------------------------------------
def _targets(rng: np.random.Generator, per_slice: np.ndarray) -> pl.DataFrame:
    """Every domain overall, every slice of finance and medicine, hard stem and coding.

    A target is the slice's items times a factor in 0.55..1.15, so some slices reach it.
    """
    rows = []
    for dom in range(len(DOMAINS)):
        rows.append((dom, -1, -1, per_slice[dom].sum()))
        if DOMAINS[dom] in ("finance", "medicine"):
            rows += [(dom, f, r, per_slice[dom, f + 1, r + 1]) for f in range(3) for r in range(3)]
        else:
            rows.append((dom, 2, -1, per_slice[dom, 3].sum()))
    t = np.array(rows, dtype=np.int64)
    target = np.maximum(1, np.round(t[:, 3] * rng.uniform(0.55, 1.15, len(t)))).astype(np.int64)
    return pl.DataFrame(
        {
            "domain": t[:, 0],
            "difficulty": t[:, 1],
            "risk_class": t[:, 2],
            "target_accepted_items": target,
        }
    )


def _defects(rng: np.random.Generator, n_annotations: int) -> pl.DataFrame:
    """Incidents over the calendar, more in medicine after the guideline change."""
    m = 24 + n_annotations // 25_000
    opened = _START_S + (rng.random(m) * (_SNAPSHOT_S - _START_S)).astype(np.int64)
    late = opened >= _START_S + SLICE_STORY_FROM_WEEK * _WEEK
    domain = np.where(late & (rng.random(m) < 0.5), 3, rng.choice(4, m, p=_DOMAIN_P))
    domain = np.where(rng.random(m) < 0.05, -1, domain)
    severity = rng.choice(4, m, p=[0.06, 0.17, 0.37, 0.40])
    severity[:4] = np.arange(4)  # every severity occurs
    hours = _lognormal(rng, np.array([6.0, 24.0, 72.0, 200.0])[severity], 0.8, m)
    resolved = opened + (hours * _HOUR).astype(np.int64)
    parked = (severity == 3) & (rng.random(m) < 0.25)  # some minor ones wait for later
    parked[3] = True
    resolved = np.where(parked, _SNAPSHOT_S + 1, resolved)
    order = np.argsort(opened, kind="stable")
    return pl.DataFrame(
        {
            "domain": domain[order],
            "severity": severity[order],
            "opened_at": _since_start(opened[order]),
            "resolved_at": np.where(resolved <= _SNAPSHOT_S, _since_start(resolved), -(2**31))[
                order
            ],
        }
    )


_BENCHMARKS = (
    "mmlu-stem",
    "gsm-hard",
    "humaneval-plus",
    "swe-lite",
    "fin-qa",
    "tat-qa",
    "medqa",
    "pubmedqa",
)  # two per domain, DOMAINS order


def _benchmarks(rng: np.random.Generator) -> pl.DataFrame:
    """Model versions v1..v5, one every three weeks; medicine regresses at v5."""
    versions, per = 5, len(_BENCHMARKS)
    start = rng.uniform(0.45, 0.70, per)
    lift = rng.normal(0.025, 0.015, (versions - 1, per))
    medicine = np.arange(per) // 2 == DOMAINS.index("medicine")
    lift[-1, medicine] = rng.normal(-0.03, 0.005, medicine.sum())  # trained on v2.0 labels
    score = np.concatenate([start[None, :], start + np.cumsum(lift, axis=0)])
    when = (
        _START_S
        + (2 + 3 * np.arange(versions))[:, None] * _WEEK
        + 2 * _DAY
        + 10 * _HOUR
        + 300 * np.arange(per)[None, :]
    )
    return pl.DataFrame(
        {
            "version": np.repeat(np.arange(1, versions + 1), per),
            "bench": np.tile(np.arange(per), versions),
            "score": np.clip(score, 0, 1).round(4).ravel(),
            "evaluated_at": _since_start(when.ravel()),
        }
    )


# --- formatting: compact codes -> the contract's columns ---------------------------------
def _id(prefix: str, column: str, width: int, alias: str) -> pl.Expr:
    """``prefix`` + the 1-based number, zero-padded (string order = number order)."""
    number = (pl.col(column).cast(pl.Int64) + 1 + 10**width).cast(pl.String).str.slice(1)
    return pl.concat_str(pl.lit(prefix), number).alias(alias)


def _names(column: str, names, alias: str | None = None) -> pl.Expr:
    """Map codes 0..k-1 to ``names``; a negative code is null."""
    code = pl.when(pl.col(column) >= 0).then(pl.col(column))
    return pl.lit(pl.Series(list(names), dtype=pl.String)).gather(code).alias(alias or column)


def _label(column: str) -> pl.Expr:
    """A label 1..5 as text; 0 means none."""
    return pl.when(pl.col(column) > 0).then(pl.col(column).cast(pl.String)).alias(column)


def _ts(column: str) -> pl.Expr:
    """Seconds since START as a UTC timestamp; the int32 minimum means none."""
    seconds = pl.when(pl.col(column) > -(2**31)).then(pl.col(column).cast(pl.Int64) + _START_S)
    return pl.from_epoch(seconds, time_unit="s").dt.replace_time_zone("UTC").alias(column)


_DATASET_NAMES = [name for pair in _DATASETS for name in pair]

_FORMAT: dict[str, Callable[[pl.LazyFrame], pl.LazyFrame]] = {
    "items": lambda f: f.with_row_index("n").select(
        _id("itm", "n", 8, "item_id"),
        _names("domain", DOMAINS),
        _names("difficulty", DIFFICULTIES),
        _names("risk_class", RISK_CLASSES),
        _names("dataset", _DATASET_NAMES),
        _names("version", _VERSIONS, "dataset_version"),
        _names("triage", TRIAGE),
        _label("gold_label"),
        _ts("created_at"),
    ),
    "annotations": lambda f: f.with_row_index("n").select(
        _id("ann", "n", 9, "annotation_id"),
        _id("itm", "item", 8, "item_id"),
        "annotator_id",
        _label("label"),
        _ts("submitted_at"),
        "duration_s",
        "cost",
    ),
    "reviews": lambda f: f.with_row_index("n").select(
        _id("rev", "n", 9, "review_id"),
        _id("ann", "ann", 9, "annotation_id"),
        "reviewer_id",
        _names("stage", ("precheck", "final")),
        _names("verdict", _VERDICTS),
        _label("corrected_label"),
        _ts("reviewed_at"),
        "duration_s",
        "cost",
    ),
    "audits": lambda f: f.with_row_index("n").select(
        _id("aud", "n", 8, "audit_id"),
        _id("ann", "ann", 9, "annotation_id"),
        "auditor_id",
        _ts("audited_at"),
        "is_error",
        "cost",
    ),
    "targets": lambda f: f.select(
        _names("domain", DOMAINS),
        _names("difficulty", DIFFICULTIES),
        _names("risk_class", RISK_CLASSES),
        "target_accepted_items",
    ),
    "defects": lambda f: f.with_row_index("n").select(
        _id("def", "n", 5, "defect_id"),
        _names("domain", DOMAINS),
        _names("severity", SEVERITIES),
        _ts("opened_at"),
        _ts("resolved_at"),
    ),
    "benchmarks": lambda f: f.select(
        pl.format("v{}", "version").alias("model_version"),
        _names("bench", [DOMAINS[i // 2] for i in range(len(_BENCHMARKS))], "domain"),
        _names("bench", _BENCHMARKS, "benchmark"),
        "score",
        _ts("evaluated_at"),
    ),
    "calibration_decisions": lambda f: f.with_row_index("n").select(
        _id("cal", "n", 4, "decision_id"),
        "week",
        _id("itm", "item", 8, "item_id"),
        _label("agreed_label"),
        "note",
        _ts("recorded_at"),
    ),
}


#: Shards generated at the same time (numpy releases the GIL for the heavy lifting).
_WORKERS = 2


class _ShardResult(NamedTuple):
    frames: dict[str, pl.DataFrame]
    slice_counts: np.ndarray
    n_items: int
    calibration: pl.DataFrame | None


def _shard(pool: _Pool, seed: int, index: int, n: int, ann0: int) -> _ShardResult:
    """Shard ``index`` (its own random stream): compact frames and what the totals need."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, index)))
    shard = _Shard(pool, n, rng)
    frames = shard.frames(ann0)
    calibration = None
    if index == 0:  # the meetings discuss the first shard's work: a few rows suffice
        c_item, c_t, c_note = shard.calibration(rng)
        calibration = pl.DataFrame(
            {
                "week": [iso_week_label(datetime.fromtimestamp(int(t), UTC)) for t in c_t],
                "item": shard.item_number[c_item],
                "agreed_label": shard.i_true[c_item],
                "note": c_note,
                "recorded_at": _since_start(c_t),
            },
            schema_overrides={"week": pl.String, "note": pl.String},
        )
    return _ShardResult(frames, shard.slice_counts(), shard.n_items, calibration)


def _generate(n_annotations: int, seed: int, step: Callable[[str], None]):
    if n_annotations < 1:
        raise DataError([Problem(file="--annotations", reason="must be at least 1 annotation")])
    if seed < 0:
        raise DataError([Problem(file="--seed", reason=f"must be 0 or more, not {seed}")])
    n = int(n_annotations)
    world = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    pool = _Pool(n, world)
    names = pl.Series(pool.names, dtype=pl.String)
    parts: dict[str, list[pl.DataFrame]] = {
        t: [] for t in ("items", "annotations", "reviews", "audits")
    }
    per_slice = np.zeros((4, 4, 4), np.int64)
    item0 = 0
    calibration = None
    starts = range(0, n, SHARD_ANNOTATIONS)
    jobs = [(pool, seed, i, min(SHARD_ANNOTATIONS, n - a), a) for i, a in enumerate(starts)]
    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(jobs))) as workers:
        for index, result in enumerate(workers.map(lambda job: _shard(*job), jobs)):
            for table, frame in result.frames.items():
                if table == "annotations":  # item numbers continue those of earlier shards
                    frame = frame.with_columns(pl.col("item") + item0)
                parts[table].append(frame)
            per_slice += result.slice_counts
            calibration = result.calibration if index == 0 else calibration
            item0 += result.n_items
            step(f"shard {index + 1}")
    raw = {table: pl.concat(frames, rechunk=False).lazy() for table, frames in parts.items()}
    raw["annotations"] = raw["annotations"].with_columns(
        pl.lit(names).gather(pl.col("annotator")).alias("annotator_id")
    )
    raw["reviews"] = raw["reviews"].with_columns(
        pl.lit(names).gather(pl.col("reviewer")).alias("reviewer_id")
    )
    raw["audits"] = raw["audits"].with_columns(
        pl.lit(names).gather(pl.col("auditor")).alias("auditor_id")
    )
    raw["annotators"] = pool.frame().lazy()
    raw["targets"] = _targets(world, per_slice).lazy()
    raw["defects"] = _defects(world, n).lazy()
    raw["benchmarks"] = _benchmarks(world).lazy()
    raw["calibration_decisions"] = calibration.lazy()
    return {
        table: _FORMAT[table](raw[table]) if table in _FORMAT else raw[table] for table in TABLES
    }


def _n_shards(n_annotations: int) -> int:
    return max(1, -(-int(n_annotations) // SHARD_ANNOTATIONS))


# --- public API --------------------------------------------------------------------------
def sample_tables(n_annotations: int, *, seed: int) -> dict[str, pl.LazyFrame]:
    """Every table of the contract, typed (timestamps UTC), as LazyFrames.

    Parameters
    ----------
    n_annotations
        Rows of ``annotations`` (>= 1); the other tables scale with it.
    seed
        Seed of the generator; the same seed gives the same rows.
    """
    return _generate(n_annotations, seed, lambda _: None)


def write_sample(
    out_dir: Path,
    n_annotations: int,
    *,
    seed: int,
    fmt: str = "parquet",
    progress: bool = True,
) -> dict[str, Path]:
    """Write every table of the contract to ``out_dir/<table>.<fmt>``.

    Parameters
    ----------
    out_dir
        Created if absent. A file of a contract table in another format
        (``items.csv`` when writing Parquet) is removed, so the directory stays valid.
    n_annotations
        Rows of ``annotations``; everything else scales with it.
    seed
        Same seed and size: same bytes, in every format.
    fmt
        ``parquet`` (zstd, timestamps as UTC), ``csv`` or ``jsonl`` (timestamps as
        ISO 8601 text with ``Z``).
    progress
        A progress bar on stderr.

    Returns
    -------
    dict
        Table name -> path written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    total = (_n_shards(n_annotations) if n_annotations >= 1 else 0) + len(TABLES)
    with tqdm(
        total=total,
        desc="kpi sample",
        unit="step",
        file=sys.stderr,
        disable=not progress,
        leave=False,
    ) as bar:

        def step(name: str) -> None:
            bar.set_postfix_str(name, refresh=False)
            bar.update()

        frames = _generate(n_annotations, seed, step)
        written = {}
        for name, frame in frames.items():
            for other in FORMATS:
                stale = out_dir / f"{name}.{other}"
                if other != fmt and stale.is_file():
                    stale.unlink()
            path = out_dir / f"{name}.{fmt}"
            if fmt == "parquet":
                frame.sink_parquet(
                    path,
                    compression="zstd",
                    compression_level=3,
                    statistics=True,
                    row_group_size=500_000,
                )
            elif fmt == "csv":
                _text_timestamps(frame).sink_csv(path)
            else:
                _text_timestamps(frame).sink_ndjson(path)
            written[name] = path
            step(path.name)
    return written


def _text_timestamps(frame: pl.LazyFrame) -> pl.LazyFrame:
    """For CSV and JSONL: timestamps as ISO 8601 UTC with ``Z``."""
    return frame.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
