"""What each forked renderer held against what the export counted it had written.

``python bench/renderer_memory_summary.py RESULTS.json ...`` reads runs of
``bench/export_memory_probe.py`` (samples every ``--every`` seconds, with each process's
``smaps_rollup`` sizes and its minor page faults as ``written_mb``) and prints, per run, each
renderer's life (first and last sample), its largest unique set size (private clean + private
dirty: what it holds that no other process does), its written count at its last sample, and
the ratio of the two; and the run's settings, CPU, wall time and peak summed PSS. It saves
them to bench/results/ as JSON (one file for all the runs given).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import run_main, write_results

REPO = Path(__file__).resolve().parent.parent


def renderers(document: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per process but the export's own (the first sampled): its life and largest sizes."""
    seen: dict[str, dict[str, float]] = {}
    parent = None
    for sample in document["samples"]:
        for pid, sizes in sample["processes"].items():
            if not sizes or "written_mb" not in sizes:
                continue
            parent = parent or pid
            uss = sizes.get("Private_Dirty", 0.0) + sizes.get("Private_Clean", 0.0)
            life = seen.setdefault(pid, {"first_s": sample["t_s"], "uss_max_mb": 0.0})
            life["last_s"] = sample["t_s"]
            life["uss_max_mb"] = max(life["uss_max_mb"], uss)
            life["uss_last_mb"] = uss
            life["written_last_mb"] = sizes["written_mb"]
    seen.pop(parent or "", None)
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="+")
    args = parser.parse_args()
    runs = []
    for path in args.results:
        document = json.loads(path.read_text())
        lives = renderers(document)
        # Renderers seen at least twice, so that their last sample is not their first.
        lived = [life for life in lives.values() if life["last_s"] > life["first_s"]]
        ratios = [
            life["written_last_mb"] / life["uss_last_mb"] for life in lived if life["uss_last_mb"]
        ]
        run = {
            "file": path.name,
            "tree_commit": document["tree_commit"],
            "settings": document["settings"],
            "cpu_s": document["export"]["cpu_s"],
            "wall_s": document["export"]["wall_s"],
            "peak_pss_sum_mb": document["peak"]["pss_sum_mb"],
            "renderers_seen": len(lives),
            "renderer_uss_max_mb": max((life["uss_max_mb"] for life in lives.values()), default=0),
            "written_over_uss_median": statistics.median(ratios) if ratios else None,
            "written_over_uss_range": [min(ratios), max(ratios)] if ratios else None,
            "renderers": lives,
        }
        runs.append(run)
        print(
            f"{path.name}: {document['settings'] or 'defaults'}: CPU {run['cpu_s']:.1f} s, "
            f"wall {run['wall_s']:.1f} s, peak PSS sum {run['peak_pss_sum_mb']:.0f} MB, "
            f"{len(lives)} renderers, largest USS {run['renderer_uss_max_mb']:.0f} MB, "
            f"written/USS median {run['written_over_uss_median'] or 0:.2f} "
            f"({run['written_over_uss_range']})"
        )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = REPO / "bench" / "results" / f"renderer-memory-summary-{stamp}.json"
    write_results(out, {"runs": runs})
    return 0


if __name__ == "__main__":
    run_main(main)
