"""The benchmarks' generated data: ``kpi sample`` output cached in ``benchmarks/data/``.

A cached directory is reused only while it was written by the same sampler (a hash
of ``kpi_core/sampling.py``) with the same size and seed; otherwise it is written
again, so a change to the sampler never leaves the benchmarks timing old data.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

from kpi_core import sampling

DATA = Path(__file__).resolve().parent / "data"


def ensure_sample(annotations: int, seed: int = 7) -> Path:
    """``benchmarks/data/sample-<annotations>``, written by ``kpi sample`` unless it holds
    exactly that sample already."""
    out = DATA / f"sample-{annotations}"
    marker = out / ".bench-sample.json"
    wanted = {
        "annotations": annotations,
        "seed": seed,
        "sampler": hashlib.sha256(Path(sampling.__file__).read_bytes()).hexdigest()[:16],
    }
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        print(f"reusing {out} ({annotations:,} annotations, seed {seed})", file=sys.stderr)
        return out
    shutil.rmtree(out, ignore_errors=True)
    print(f"generating {annotations:,} annotations into {out} ...", file=sys.stderr)
    started = time.perf_counter()
    sampling.write_sample(out, annotations, seed=seed, fmt="parquet", progress=True)
    marker.write_text(json.dumps(wanted))
    print(f"  generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return out
