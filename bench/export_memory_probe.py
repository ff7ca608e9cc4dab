"""Where a first export's memory goes: the export and each of its forked renderers, over time.

``python bench/export_memory_probe.py CONTENT [--tree DIR] [--set NAME=VALUE ...]`` runs one
first export of the articles in ``CONTENT`` with the feedsvc of ``--tree`` (default: this
checkout; a ``git worktree`` of ``main`` for a baseline) and reads ``/proc/PID/smaps_rollup`` of
the export's process and of every process it forked, every 0.3 s: resident, proportional,
private and shared sizes, and what the export counts as written (minor page faults, from
``/proc/PID/stat``). A forked renderer's RSS counts the pages it shares with
the parent; its private dirty pages are what it copied (every page it wrote to, reference counts
included) or made itself. ``--set RENDERER_PAGES=1000`` sets a constant of
``feedsvc.deploy.export`` before the export (a trial of another setting, same code). It prints a
line every 10 s and saves the samples, the peak of the summed proportional sizes with each
process's figures at that moment, and the export's CPU and wall time to bench/results/ as JSON.
One run, no baseline of its own: for seeing what grows, not for ratios (``export_bench.py``).
``--attach PID --until SECONDS`` samples an export already running instead (one that
``export_bench.py`` started), until it ends or for that long, with the number of files in
``--out DIR`` (its output folder) as its progress.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    BenchError,
    environment_without_settings,
    process_tree,
    run_main,
    short_commit,
)

REPO = Path(__file__).resolve().parent.parent
FIELDS = ("Rss", "Pss", "Private_Dirty", "Private_Clean", "Shared_Dirty", "Shared_Clean")
_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20

DRIVER = r"""
import json, resource, sys, time
from pathlib import Path
import feedsvc.deploy.export as export
from feedsvc import create_app
for name, value in json.loads(sys.argv[3]).items():
    setattr(export, name, value)
app = create_app({"CONTENT_DIR": sys.argv[1], "WATCH": False, "LOG_LEVEL": "WARNING"})
def cpu():
    both = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, both))
def system_cpu():  # the kernel's part of cpu()
    both = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    return sum(u.ru_stime for u in map(resource.getrusage, both))
print("LOADED", flush=True)
cpu_before, system_before, started = cpu(), system_cpu(), time.perf_counter()
report = export.SiteExporter(app, Path(sys.argv[2])).export()
print(json.dumps({"pages": report.pages, "cpu_s": cpu() - cpu_before,
                  "system_cpu_s": system_cpu() - system_before,
                  "wall_s": time.perf_counter() - started}), flush=True)
"""


def rollup_mb(pid: int) -> dict[str, float]:
    """The process's smaps_rollup sizes of :data:`FIELDS`, in MB; empty if it is gone."""
    sizes: dict[str, float] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            name, _, rest = line.partition(":")
            if name in FIELDS:
                sizes[name] = int(rest.split()[0]) / 1024
    with contextlib.suppress(OSError, IndexError, ValueError), open(f"/proc/{pid}/stat") as stat:
        # What the export counts as "written" (export._written_mb): minor faults (field 10).
        fields = stat.read().rpartition(")")[2].split()
        sizes["written_mb"] = int(fields[7]) * _PAGE_MB
    return sizes


def files_in(folder: Path | None) -> int | None:
    if folder is None:
        return None
    return sum(len(names) for _, _, names in os.walk(folder))


def sample(root: int, started: float) -> dict[str, object]:
    processes = {pid: rollup_mb(pid) for pid in process_tree(root)}
    return {
        "t_s": time.monotonic() - started,
        "pss_sum_mb": sum(sizes.get("Pss", 0.0) for sizes in processes.values()),
        "processes": processes,
    }


def attach(pid: int, seconds: float, out: Path | None, content: Path) -> int:
    """Sample the running export ``pid`` for up to ``seconds``; save what was seen."""
    started = time.monotonic()
    samples: list[dict[str, object]] = []
    peak: dict[str, object] = {"pss_sum_mb": 0.0}
    shown = 0.0
    while os.path.exists(f"/proc/{pid}") and time.monotonic() - started < seconds:
        now = sample(pid, started)
        if now["pss_sum_mb"] > peak["pss_sum_mb"]:  # type: ignore[operator]
            peak = now
        if time.monotonic() - shown >= 30:
            shown = time.monotonic()
            now["files"] = files_in(out)
            samples.append(now)
            print(f"{now['t_s']:5.0f} s: PSS sum {now['pss_sum_mb']:.0f} MB, {now['files']} files")
        time.sleep(0.3)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = REPO / "bench" / "results" / f"export-memory-attached-{content.name}-{stamp}.json"
    document = {
        "attached_pid": pid,
        "content": str(content),
        "ended": not os.path.exists(f"/proc/{pid}"),
        "seconds": time.monotonic() - started,
        "peak": peak,
        "samples": samples,
    }
    path.write_text(json.dumps(document, indent=1) + "\n")
    print(f"saved {path}")
    return 0


def setting(item: str) -> tuple[str, float]:
    """``NAME=VALUE`` of ``--set``: an int, or a float if it has a point."""
    name, _, value = item.partition("=")
    return name, float(value) if "." in value else int(value)


def show(now: float, pss_sum: float, processes: dict[int, dict[str, float]]) -> None:
    print(
        f"{now:5.0f} s: PSS sum {pss_sum:.0f} MB; "
        + "; ".join(
            f"{pid}: RSS {s.get('Rss', 0):.0f}, private dirty {s.get('Private_Dirty', 0):.0f}, "
            f"written {s.get('written_mb', 0):.0f}"
            for pid, s in processes.items()
        ),
        flush=True,
    )


def settled() -> tuple[float, float, float]:
    """Sync the file systems, so that the writeback of whatever ran before is done before the
    export starts, not during it, and return the load average then. (Trees removed just before
    slow an export on ext4 without a journal: bench/export_bench.py.)"""
    os.sync()
    return os.getloadavg()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    parser.add_argument("--tree", type=Path, default=REPO)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--attach", type=int, help="an export's process, already running")
    parser.add_argument("--until", type=float, default=3600.0, help="seconds, with --attach")
    parser.add_argument("--out", type=Path, help="the attached export's output, with --attach")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between kept samples")
    args = parser.parse_args()
    if args.attach is not None:
        return attach(args.attach, args.until, args.out, args.content)
    settings = dict(map(setting, args.set))
    env = environment_without_settings(PYTHONPATH=str(args.tree))
    commit = short_commit("HEAD", args.tree)
    samples: list[dict[str, object]] = []
    peak: dict[str, object] = {}
    peak_mb = 0.0
    lines: list[str] = []
    load_before = settled()
    with tempfile.TemporaryDirectory(prefix="export-memory-") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(args.content), out, json.dumps(settings)],
            cwd=args.tree,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        output = process.stdout
        assert output is not None
        reader = threading.Thread(target=lambda: lines.extend(output), daemon=True)
        reader.start()
        started = shown = time.monotonic()
        while process.poll() is None:
            now = time.monotonic() - started
            processes = {pid: rollup_mb(pid) for pid in process_tree(process.pid)}
            pss_sum = sum(sizes.get("Pss", 0.0) for sizes in processes.values())
            if pss_sum > peak_mb:
                peak_mb = pss_sum
                peak = {"pss_sum_mb": pss_sum, "t_s": now, "processes": processes}
            if time.monotonic() - shown >= args.every:
                shown = time.monotonic()
                samples.append({"t_s": now, "pss_sum_mb": pss_sum, "processes": processes})
                if len(samples) % max(1, round(10 / args.every)) == 0:
                    show(now, pss_sum, processes)
            time.sleep(0.3)
        reader.join()
    if process.returncode != 0:
        raise BenchError(f"the export failed (exit status {process.returncode})")
    result = json.loads(lines[-1])
    print(f"peak PSS sum {peak_mb:.0f} MB; {result}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    name = f"export-memory-{args.content.name}-{commit}-{stamp}.json"
    path = REPO / "bench" / "results" / name
    document = {
        "tree_commit": commit,
        "probe_commit": short_commit(),
        "content": str(args.content),
        "settings": settings,
        "load_before": load_before,
        "export": result,
        "peak": peak,
        "samples": samples,
    }
    path.write_text(json.dumps(document, indent=1) + "\n")
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    run_main(main)
