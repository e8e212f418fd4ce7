"""Targets: what each KPI should reach, and the status of a value against it.

Defaults live in ``targets.toml`` beside this module; a user's TOML file
overrides any key it sets (per project, and per domain under ``[domain.<name>]``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import polars as pl

from kpi_core.catalog import KPIS
from kpi_core.problems import DataError, Problem

Status = Literal["ok", "warn", "breach"]

#: The KPIs a target can be set for: every KPI, coverage and defect turnaround.
_TARGETABLE = frozenset({*KPIS, "domain_coverage", "defect_turnaround_h"})


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Promotion:
    """The slice-promotion rule's parameters (K weeks, N known, max error rate)."""

    weeks: int = 3
    min_known: int = 20
    max_error_rate: float = 0.05


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: Each promotion setting: what a valid value is, and how to say it.
_PROMOTION_SETTINGS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "weeks": (lambda v: _is_whole(v) and v >= 1, "a whole number of weeks, at least 1"),
    "min_known": (lambda v: _is_whole(v) and v >= 0, "a whole number, at least 0"),
    "max_error_rate": (lambda v: _is_number(v) and 0 <= v <= 1, "a rate from 0 to 1"),
}


def _rule_mistakes(where: str, rule: Any, merged: dict[str, Any] | None) -> Iterator[str]:
    """What is wrong with the targets file's ``rule`` at ``where`` (``merged``: the rule
    with the defaults and the project's rule under it, None for a KPI without one)."""
    if not isinstance(rule, dict):
        yield f"{where}: a table of direction, target and warn, not {rule!r}"
        return
    for key in sorted(set(rule) - {"direction", "target", "warn"}):
        yield f"{where}.{key}: not a setting; a KPI's are direction, target and warn"
    if "direction" in rule and rule["direction"] not in ("max", "min"):
        yield f'{where}.direction: "max" (lower is better) or "min", not {rule["direction"]!r}'
    for key in ("target", "warn"):
        if key in rule and not _is_number(rule[key]):
            yield f"{where}.{key}: a number, not {rule[key]!r}"
    if merged is None:
        return
    missing = [k for k in ("direction", "target", "warn") if k not in merged]
    if missing:
        yield f"{where}: {', '.join(missing)} missing (a KPI without a default needs all three)"
    elif merged["direction"] in ("max", "min") and all(
        _is_number(merged[k]) for k in ("target", "warn")
    ):
        lower = merged["direction"] == "max"
        if (merged["warn"] > merged["target"]) if lower else (merged["warn"] < merged["target"]):
            side = "above" if lower else "below"
            yield (
                f"{where}: warn {merged['warn']:g} is {side} target {merged['target']:g}; "
                f"a warning comes before the breach (direction {merged['direction']})"
            )


def _kpi_mistakes(where: str, rules: Any, merged: dict[str, Any]) -> Iterator[str]:
    if not isinstance(rules, dict):
        yield f"{where}: a table of KPIs, not {rules!r}"
        return
    for kpi, rule in rules.items():
        if kpi not in _TARGETABLE:
            yield f"{where}.{kpi}: no KPI has this name (see targets.toml for those that do)"
        else:
            yield from _rule_mistakes(f"{where}.{kpi}", rule, merged.get(kpi))


def _mistakes(user: dict[str, Any], merged: dict[str, Any]) -> Iterator[str]:
    """Every key of a user's targets file that would be ignored or misread."""
    for key in sorted(set(user) - {"promotion", "kpi", "domain"}):
        yield f"{key}: not a setting; the file holds [promotion], [kpi.<name>] and [domain.<name>.kpi.<name>]"
    promotion = user.get("promotion", {})
    if not isinstance(promotion, dict):
        yield f"promotion: a table, not {promotion!r}"
        promotion = {}
    for key, value in promotion.items():
        if key not in _PROMOTION_SETTINGS:
            yield f"promotion.{key}: not a setting; they are {', '.join(_PROMOTION_SETTINGS)}"
        elif not _PROMOTION_SETTINGS[key][0](value):
            yield f"promotion.{key}: {_PROMOTION_SETTINGS[key][1]}, not {value!r}"
    yield from _kpi_mistakes("kpi", user.get("kpi", {}), merged.get("kpi", {}))
    domains = user.get("domain", {})
    if not isinstance(domains, dict):
        yield f"domain: a table of domains, not {domains!r}"
        return
    for domain, settings in domains.items():
        where = f"domain.{domain}"
        rules = settings.get("kpi", {}) if isinstance(settings, dict) else None
        if not isinstance(rules, dict) or set(settings) - {"kpi"}:
            yield f"{where}: holds [{where}.kpi.<name>] tables only"
            continue
        # The domain's rules as they will be read: its keys (and the defaults') over the project's.
        project, overrides = merged.get("kpi", {}), merged["domain"][domain].get("kpi", {})
        read = {
            kpi: {**project.get(kpi, {}), **overrides[kpi]}
            for kpi in rules
            if isinstance(overrides[kpi], dict)
        }
        yield from _kpi_mistakes(f"{where}.kpi", rules, read)


@dataclass(frozen=True)
class Targets:
    settings: dict[str, Any]

    @classmethod
    def load(cls, path: Path | None = None) -> Targets:
        """The defaults, overridden by ``path`` when given."""
        text = resources.files("kpi_core").joinpath("targets.toml").read_text(encoding="utf-8")
        settings = tomllib.loads(text)
        if path is not None:
            try:
                user = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
                raise DataError(
                    [Problem(file=str(path), reason=f"cannot read targets: {error}")]
                ) from None
            merged = _merge(settings, user)
            # A misspelt key would leave its default in force without a word.
            problems = [Problem(file=str(path), reason=r) for r in _mistakes(user, merged)]
            if problems:
                raise DataError(problems)
            settings = merged
        return cls(settings)

    @property
    def promotion(self) -> Promotion:
        return Promotion(**self.settings.get("promotion", {}))

    def rule(self, kpi: str, domain: str | None = None) -> dict[str, Any] | None:
        """The target rule for ``kpi``, with ``domain``'s overrides applied."""
        rule = self.settings.get("kpi", {}).get(kpi)
        if rule is None:
            return None
        if domain is not None:
            override = self.settings.get("domain", {}).get(domain, {}).get("kpi", {}).get(kpi)
            if override:
                rule = {**rule, **override}
        return rule

    def has_own(self, kpi: str, domain: str) -> bool:
        """Whether ``domain``'s rule for ``kpi`` differs from the project's."""
        return self.rule(kpi, domain) != self.rule(kpi)

    def for_domain(self, domain: str) -> Targets:
        """These targets as seen from ``domain``: its overrides become the project's
        rules, for a view narrowed to that one domain (where "overall" is the domain)."""
        overrides = self.settings.get("domain", {}).get(domain, {}).get("kpi", {})
        return Targets(_merge(self.settings, {"kpi": overrides})) if overrides else self

    def status(self, kpi: str, value: float | None, domain: str | None = None) -> Status | None:
        """ok / warn / breach of ``value`` against ``kpi``'s target; None without one."""
        rule = self.rule(kpi, domain)
        if rule is None or value is None or value != value:
            return None
        worse = (lambda a, b: a > b) if rule["direction"] == "max" else (lambda a, b: a < b)
        if worse(value, rule["target"]):
            return "breach"
        if worse(value, rule["warn"]):
            return "warn"
        return "ok"

    def status_expr(self, kpi: str, domain_column: str | None = None) -> pl.Expr:
        """The status of column ``kpi`` as a polars expression (per-domain when asked)."""
        return self._by_domain(kpi, domain_column, partial(self._status_for, kpi)).alias(
            f"{kpi}_status"
        )

    def target_expr(self, kpi: str, domain_column: str) -> pl.Expr:
        """``kpi``'s target on each row: the row's domain's where it has its own, else
        the project's (null where the KPI has no target)."""

        def target(rule: dict[str, Any] | None) -> pl.Expr:
            return pl.lit(rule["target"] if rule else None, pl.Float64)

        return self._by_domain(kpi, domain_column, target).alias(f"{kpi}_target")

    def _by_domain(
        self,
        kpi: str,
        domain_column: str | None,
        expr_for: Callable[[dict[str, Any] | None], pl.Expr],
    ) -> pl.Expr:
        """``expr_for`` of the project's rule, or of a row's domain's rule where it differs."""
        domains = list(self.settings.get("domain", {})) if domain_column else []
        expr = expr_for(self.rule(kpi))
        for domain in domains:
            if self.has_own(kpi, domain):
                expr = (
                    pl.when(pl.col(domain_column) == domain)
                    .then(expr_for(self.rule(kpi, domain)))
                    .otherwise(expr)
                )
        return expr

    @staticmethod
    def _status_for(kpi: str, rule: dict[str, Any] | None) -> pl.Expr:
        if rule is None:
            return pl.lit(None, pl.String)
        value = pl.col(kpi)
        if rule["direction"] == "max":
            breach, warn = value > rule["target"], value > rule["warn"]
        else:
            breach, warn = value < rule["target"], value < rule["warn"]
        return (
            pl.when(value.is_null())
            .then(None)
            .when(breach)
            .then(pl.lit("breach"))
            .when(warn)
            .then(pl.lit("warn"))
            .otherwise(pl.lit("ok"))
        )
