"""Shared test set-up: tests import the readable fixtures in tests/datasets.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
