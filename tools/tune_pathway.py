#!/usr/bin/env python3
"""Judge candidate pathway settings on the scenario matrix with the tuning seeds only, and
append what was used to the committed tuning record (tests/pathway/test_seeds.py reads it).

    .venv/bin/python tools/tune_pathway.py --patients 150 --candidates cands.json [--chosen NAME]

cands.json: {"name": {overrides as in a site's TOML}, ...}; "default" is the pathway as it is.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pathway import default_pathway
from pathway.evaluation.matrix import table
from pathway.evaluation.scenarios import named
from pathway.evaluation.seeds import TUNING_SEEDS
from pathway.evaluation.tuning import judge_candidate, record

RECORD = Path(__file__).resolve().parent.parent / "pathway" / "evaluation" / "tuning-record.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=150)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seeds", type=int, nargs="*", default=list(TUNING_SEEDS))
    parser.add_argument("--candidates", type=Path, required=True)
    parser.add_argument("--chosen", default="")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    candidates = json.loads(args.candidates.read_text(encoding="utf-8"))
    seeds = tuple(args.seeds)
    outcomes = {}
    with ProcessPoolExecutor(args.workers) as pool:
        for name, overrides in candidates.items():
            started = time.monotonic()
            config = default_pathway().with_overrides(overrides) if overrides else default_pathway()
            rows, summary = judge_candidate(
                config, named("all"), args.patients, args.days, seeds, pool.map
            )
            outcomes[name] = summary
            sys.stdout.write(f"== {name} {overrides} ({time.monotonic() - started:.0f} s)\n")
            sys.stdout.write(table(rows, summary) + "\n")
            sys.stdout.flush()
    runs = json.loads(RECORD.read_text(encoding="utf-8")) if RECORD.exists() else []
    runs.append(record(seeds, args.patients, args.days, candidates, args.chosen, outcomes))
    RECORD.write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
