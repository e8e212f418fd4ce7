"""Functions that accept a polars DataFrame or LazyFrame and answer in kind."""

from __future__ import annotations

import polars as pl

Frame = pl.DataFrame | pl.LazyFrame


def as_lazy(frame: Frame) -> pl.LazyFrame:
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def like(result: pl.LazyFrame, frame: Frame) -> Frame:
    """Eager in, eager out; lazy in, lazy out."""
    return result.collect() if isinstance(frame, pl.DataFrame) else result
