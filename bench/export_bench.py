"""The static export at scale: first export, then one edit's incremental export.

``python bench/export_bench.py [-n 10000] [--runs 3] [--baseline main] [--corpus DIR]`` writes a
corpus of ``-n`` articles (bench/corpus.py; into ``--corpus``, where it is kept for the next
run, else into a temporary folder), then alternates runs of this tree's export and of the
baseline's (``git archive`` of the ``--baseline`` revision, run with the same interpreter and
packages). Each run is one process that, as ``export --watch`` does, exports the whole site
into an empty folder (seconds, files, bytes, peak RSS of the process and its workers), then
edits one article (a new file renamed over it), refreshes the content and exports again (the
incremental export's seconds and pages rendered), with the CPU time of the process and its
workers (also of the process alone, and the system's part) and the load average when it started
(the machine is shared). It prints medians with their spread and the ratios against the
baseline, and saves every run to bench/results/ as JSON.
The corpus is read once, untimed, before each run (``benchlib.warm_page_cache``).

Every run exports into a folder of its own, and the folders are removed only once all runs have
ended, after ``os.sync()`` so that no run pays for the one before's writeback. Removing the previous
run's tree (25,000 files at 10,000 articles) just before a run, as this bench did until
2026-12-01, tripled the next first export's kernel time: 7.9 s against 2.6 s, median of 3
(bench/results/export-10000-692e121-20261201T031315Z.json against
export-10000-f1b0d2f-20261201T031208Z.json, the same export code). This machine's ext4 has no
journal, and its inode allocator then checks every recently freed inode it meets
(``recently_deleted`` in fs/ext4/ialloc.c; ``find_get_block_common`` and
``recently_deleted`` top the kernel's symbols in a perf profile of such an export), for minutes
after the removal. ``--remove-between`` measures that case: each run's tree removed just
before the next (a re-export after ``rm -rf`` of the previous one). What the file system is, and
whether it has a journal, is saved with the results.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
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
    extract_revision,
    process_tree,
    run_main,
    short_commit,
    warm_page_cache,
    write_results,
)
from corpus import generate

REPO = Path(__file__).resolve().parent.parent

# Run in the tree under test (PYTHONPATH), so both trees run the same driver.
DRIVER = r"""
import hashlib, json, os, resource, sys, time
from pathlib import Path
from feedsvc import create_app
from feedsvc.deploy.export import SiteExporter

content, out, edited = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
app = create_app({"CONTENT_DIR": str(content), "WATCH": False, "LOG_LEVEL": "WARNING"})
exporter = SiteExporter(app, out)
load_before = os.getloadavg()[0]
def cpu():  # this process and the workers it waited for, user and system
    both = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, both))
def own_cpu():  # this process only: what its renderers leave to it
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
def system_cpu():  # the kernel's part of cpu(): file and pipe system calls, page faults
    both = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    return sum(u.ru_stime for u in map(resource.getrusage, both))
cpu_before, own_before, system_before = cpu(), own_cpu(), system_cpu()
started = time.perf_counter()
first = exporter.export()
first_s = time.perf_counter() - started
first_cpu_s = cpu() - cpu_before
first_own_cpu_s = own_cpu() - own_before
first_system_cpu_s = system_cpu() - system_before
files = size = 0
inodes = set()
by_size = {}
for folder, _, names in os.walk(out / "public" / "."):
    for name in names:
        path = os.path.join(folder, name)
        info = os.stat(path)
        files += 1
        if info.st_ino not in inodes:
            inodes.add(info.st_ino)
            size += info.st_size
            by_size.setdefault(info.st_size, []).append(path)
# Files with the same bytes (what hard links between them would save): only same-size files
# are read.
bodies = set()
for paths in by_size.values():
    if len(paths) > 1:
        bodies.update(hashlib.sha256(open(p, "rb").read()).digest() for p in paths)
    else:
        bodies.add(paths[0])
text = edited.read_text("utf-8")
temporary = edited.with_name(".bench-edit.tmp")
temporary.write_text(text.rstrip("\n") + " Bijgewerkt voor de meting.\n", "utf-8")
started = time.perf_counter()
os.replace(temporary, edited)
service = app.extensions["feedsvc"]
service.refresh([str(edited)])
refreshed_s = time.perf_counter() - started
second = exporter.export()
edit_s = time.perf_counter() - started
edited.write_text(text, "utf-8")
# ru_maxrss in KiB: the largest of this process and of the pool's workers it waited for.
usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
peak = max(u.ru_maxrss for u in usage)
print(json.dumps({
    "peak_rss_mb": peak / 1024,
    "first_s": first_s, "first_cpu_s": first_cpu_s, "first_own_cpu_s": first_own_cpu_s,
    "first_system_cpu_s": first_system_cpu_s, "load_1m_before": load_before,
    "pages": first.pages, "files": files, "bytes": size,
    "distinct_files": len(inodes), "distinct_bodies": len(bodies), "edit_refresh_s": refreshed_s,
    "edit_export_s": second.seconds, "edit_total_s": edit_s,
    "edit_rendered": second.rendered, "edit_written": second.written,
}))
"""


def pss_kib(pid: int) -> int:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def sample_pss(process: subprocess.Popen[str], peak: list[int]) -> None:
    """The largest sum of the proportional set sizes of the export and its forked renderers,
    sampled every 0.2 s: what the export costs the machine in memory, shared pages counted
    once (the largest process's peak RSS counts a fork's inherited pages in every fork)."""
    while process.poll() is None:
        peak[0] = max(peak[0], sum(pss_kib(pid) for pid in process_tree(process.pid)))
        time.sleep(0.2)


def run_once(tree: Path, content: Path, out: Path, edited: Path) -> dict[str, float]:
    warm_page_cache(content)
    os.sync()  # the previous run's writeback, done before this run starts, not during it
    env = environment_without_settings(PYTHONPATH=str(tree))
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(content), str(out), str(edited)],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak_pss_kib = [0]
    sampler = threading.Thread(target=sample_pss, args=(process, peak_pss_kib), daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    sampler.join()
    if process.returncode != 0:
        raise BenchError(f"the export in {tree} failed:\n{stderr[-3000:]}")
    result: dict[str, float] = json.loads(stdout.strip().splitlines()[-1])
    result["peak_pss_sum_mb"] = peak_pss_kib[0] / 1024
    return result


def file_system(folder: Path) -> dict[str, object]:
    """The file system ``folder`` is on, from /proc/self/mounts (the longest mount point that
    holds it), and whether it has a journal (ext4: whether /proc/fs/jbd2 lists the device;
    unknown for other file systems)."""
    resolved = str(folder.resolve())
    best: tuple[str, str, str, str] = ("", "", "", "")
    with contextlib.suppress(OSError), open("/proc/self/mounts") as mounts:
        for line in mounts:
            device, point, kind, options = line.split()[:4]
            inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
            if inside and len(point) > len(best[1]):
                best = (device, point, kind, options)
    device, point, kind, options = best
    journal: bool | None = None
    if kind == "ext4":  # a mounted ext4 with a journal has a jbd2 entry: DEVICE-INODE
        with contextlib.suppress(OSError):
            name = os.path.basename(device)
            journal = any(entry.startswith(name + "-") for entry in os.listdir("/proc/fs/jbd2"))
    return {
        "device": device,
        "mount_point": point,
        "type": kind,
        "options": options,
        "journal": journal,
    }


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", default="main", help="git revision to compare with")
    parser.add_argument("--no-baseline", action="store_true", help="measure this tree only")
    parser.add_argument("--corpus", type=Path, help="where the corpus is written and kept")
    parser.add_argument(
        "--remove-between",
        action="store_true",
        help="remove each run's tree just before the next run, not after the last",
    )
    args = parser.parse_args()
    commit = short_commit()
    base_commit = short_commit(args.baseline)
    with tempfile.TemporaryDirectory(prefix="export-bench-") as tmp_name:
        tmp = Path(tmp_name)
        content = args.corpus or tmp / "content"
        print(f"writing {args.n} articles ...", flush=True)
        paths = generate(content, args.n)
        edited = sorted(paths)[len(paths) // 2]
        trees = {"branch": REPO}
        if not args.no_baseline:
            base = tmp / "baseline"
            extract_revision(base_commit, base)
            trees = {"baseline": base, "branch": REPO}
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        where = file_system(tmp)
        previous: Path | None = None
        removed_for_space: list[int] = []  # runs before which a tree was removed all the same
        for number in range(args.runs):
            for name, tree in trees.items():  # alternating, baseline first
                started = time.perf_counter()
                out = tmp / f"out-{name}-{number + 1}"
                last_bytes = runs[name][-1]["bytes"] if runs[name] else 0
                short_of_space = shutil.disk_usage(tmp).free < 2 * last_bytes
                if previous is not None and (args.remove_between or short_of_space):
                    if short_of_space and not args.remove_between:
                        print("too little free space to keep every tree: removing the last")
                        removed_for_space.append(number + 1)
                    shutil.rmtree(previous)
                previous = out
                result = run_once(tree, content, out, edited)
                runs[name].append(result)
                print(
                    f"run {number + 1} {name}: first export {result['first_s']:.1f} s "
                    f"({result['first_cpu_s']:.1f} s CPU, of which the export's own process "
                    f"{result.get('first_own_cpu_s', 0):.1f} s; load "
                    f"{result['load_1m_before']:.1f}), "
                    f"{result['files']} files, {result['bytes'] / 1e6:.0f} MB, peak RSS "
                    f"{result.get('peak_rss_mb', 0):.0f} MB (all processes, PSS: "
                    f"{result['peak_pss_sum_mb']:.0f} MB); edit exported in "
                    f"{result['edit_export_s']:.3f} s ({result['edit_rendered']} pages "
                    f"rendered); run {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    keys = (
        "first_s",
        "first_cpu_s",
        "first_own_cpu_s",
        "first_system_cpu_s",
        "files",
        "bytes",
        "peak_rss_mb",
        "peak_pss_sum_mb",
        "edit_export_s",
        "edit_total_s",
    )
    medians = {
        name: {key: summary([r[key] for r in results if key in r]) for key in keys}
        for name, results in runs.items()
    }
    for name, figures in medians.items():
        print(
            f"{name}: first export median {figures['first_s']['median']:.1f} s "
            f"({figures['first_s']['min']:.1f}-{figures['first_s']['max']:.1f}), edit "
            f"{figures['edit_export_s']['median']:.3f} s "
            f"({figures['edit_export_s']['min']:.3f}-{figures['edit_export_s']['max']:.3f})"
        )
    ratios = {}
    if "baseline" in medians:
        ratios = {
            key: medians["branch"][key]["median"] / medians["baseline"][key]["median"]
            for key in keys
            if medians["baseline"][key]["median"]
        }
        print(
            "branch / baseline (medians): " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items())
        )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = REPO / "bench" / "results" / f"export-{args.n}-{commit}-{stamp}.json"
    write_results(
        out,
        {
            "commit": commit,
            "baseline": None if args.no_baseline else base_commit,
            "articles": args.n,
            "cores": os.cpu_count(),
            "load_before": os.getloadavg(),
            "file_system": where,
            "trees_removed_between_runs": args.remove_between,
            "trees_removed_for_space_before_runs": removed_for_space,
            "runs": runs,
            "medians": medians,
            "ratios_branch_over_baseline": ratios,
        },
    )
    return 0


if __name__ == "__main__":
    run_main(main)
