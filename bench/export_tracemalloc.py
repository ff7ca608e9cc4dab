"""What a first export's own process holds beyond the loaded service, by where it was allocated.

``python bench/export_tracemalloc.py CONTENT [--tree DIR] [--top 25]`` loads the articles in
``CONTENT`` with the feedsvc of ``--tree`` (default: this checkout), starts ``tracemalloc``
once the app is loaded, and runs one first export (with its pool of forked renderers, which stop
tracing as they start: only the export's own process is traced). It takes a snapshot when the
pages are about to be rendered (before the first fork: what every renderer shares), when the
last page is written (what the export holds at the end of rendering, where the summed memory
peaks), and after the export; for each, the traced total and the largest allocation sites,
each by the innermost line of feedsvc that made it. Saved to bench/results/ as JSON. One run,
for seeing what the export keeps, not for ratios (``export_memory_probe.py`` reads the real
memory of every process).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import BenchError, modified, run_main, short_commit, write_results

REPO = Path(__file__).resolve().parent.parent

DRIVER = r"""
import json, sys, tempfile, time, tracemalloc
from collections import defaultdict
from pathlib import Path
import feedsvc.deploy.export as export
from feedsvc import create_app

content, top = sys.argv[1], int(sys.argv[2])
app = create_app({"CONTENT_DIR": content, "WATCH": False, "LOG_LEVEL": "WARNING"})
start_renderer = export._start_renderer
def untraced_renderer(*args):
    tracemalloc.stop()
    start_renderer(*args)
export._start_renderer = untraced_renderer
snapshots = {}
def snap(name):
    gc_before = time.process_time()
    snapshot = tracemalloc.take_snapshot()
    sites = defaultdict(lambda: [0, 0])
    for trace in snapshot.traces:
        frames = [f for f in trace.traceback if "/feedsvc/" in f.filename]
        frame = frames[-1] if frames else trace.traceback[-1]
        name_ = frame.filename.rpartition("/feedsvc/")[2] or frame.filename
        site = sites[f"{name_}:{frame.lineno}"]
        site[0] += trace.size
        site[1] += 1
    ranked = sorted(sites.items(), key=lambda item: -item[1][0])
    snapshots[name] = {
        "traced_mb": sum(size for size, _ in sites.values()) / 2**20,
        "peak_mb": tracemalloc.get_traced_memory()[1] / 2**20,
        "sites": [{"site": s, "mb": v[0] / 2**20, "blocks": v[1]} for s, v in ranked[:top]],
    }
render_all = export.SiteExporter._render_all
def watched(self, todo, feed):
    snap("before_render")
    yield from render_all(self, todo, feed)
    snap("after_render")
export.SiteExporter._render_all = watched
tracemalloc.start(12)
with tempfile.TemporaryDirectory(prefix="export-tracemalloc-") as out:
    report = export.SiteExporter(app, Path(out)).export()
    snap("after_export")
print(json.dumps({"pages": report.pages, "snapshots": snapshots}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    parser.add_argument("--tree", type=Path, default=REPO)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    commit = short_commit("HEAD", args.tree)
    dirty = modified(args.tree)
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-c", DRIVER, str(args.content), str(args.top)],
        cwd=args.tree,
        env={"PYTHONPATH": str(args.tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    if process.returncode != 0:
        raise BenchError(f"the export failed: {process.stderr[-2000:]}")
    result = json.loads(process.stdout.splitlines()[-1])
    for name, snapshot in result["snapshots"].items():
        print(f"{name}: traced {snapshot['traced_mb']:.1f} MB (peak {snapshot['peak_mb']:.1f})")
        for site in snapshot["sites"][:12]:
            print(f"  {site['mb']:7.1f} MB {site['blocks']:8d} blocks  {site['site']}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    document = {
        "tree_commit": commit,
        "tree_modified": dirty,
        "content": str(args.content),
        "seconds": time.monotonic() - started,
        **result,
    }
    name = f"export-tracemalloc-{args.content.name}-{commit}-{stamp}.json"
    out = REPO / "bench" / "results" / name
    write_results(out, document)
    return 0


if __name__ == "__main__":
    run_main(main)
