"""Where the workplace's shared, read-only data lives: beside the repository, or CONSULT_SHARED_DIR.
Tests read the strategy and the labelled datasets from there and never copy them into the repo."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("CONSULT_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
DATASETS = SHARED / "datasets"
STRATEGY = SHARED / "seed" / "strategy.yaml"
