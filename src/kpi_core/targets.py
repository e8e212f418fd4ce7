"""Targets: what each KPI should reach, and the status of a value against it.

Defaults live in ``targets.toml`` beside this module; a user's TOML file
overrides any key it sets (per project, and per domain under ``[domain.<name>]``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import polars as pl

from kpi_core.problems import DataError, Problem

Status = Literal["ok", "warn", "breach"]


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
                settings = _merge(settings, tomllib.loads(Path(path).read_text(encoding="utf-8")))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
                raise DataError(
                    [Problem(file=str(path), reason=f"cannot read targets: {error}")]
                ) from None
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
