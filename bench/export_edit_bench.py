"""An edit's export at scale, under ``export --watch``: its own seconds, and rename-to-visible.

``python bench/export_edit_bench.py [-n 100000] [--edits 10] [--baseline main]`` starts one
``feedsvc export OUT --watch`` for this tree and one for the baseline (``git archive`` of
``--baseline``, same interpreter and packages), each over its own copy of the corpus
(bench/corpus.py; hard links, so a copy costs no bytes and an edit saved by rename leaves the
corpus alone). Both make their first, full export at the same time (minutes at 100,000
articles). Then each round saves the same edit of one article (a different article each round,
over every year of the corpus) by rename into both copies, one after the other, the order
alternating between rounds, and for each:

- ``visible_s``: from the rename until ``OUT/public`` (followed as nginx follows it) holds the
  article page with the edit: what a reader of the export waits;
- ``export_s``: the seconds the export itself reports on its line (``exported ... (X s)``),
  from the start of the export to the switch, without the watcher's detection and reload;
- ``reload_s`` and ``heap_s``: what the process logs of the same edit (FEEDSVC_LOG_LEVEL=INFO):
  the reload of the content and the publication before the export, and the heap's freeze
  after it; ``cpu_s``: the CPU seconds the process spent on the edit (reload, export and
  heap, read from /proc from the save until the export is reported and settled), which on a
  shared machine vary far less than wall times;
  ``steps``: the export's own steps (listing, plan, render, ...).

It prints medians and worst cases and the ratio against the baseline, the load average before
and after (the machine is shared), and saves everything to bench/results/ as JSON.

``--placeholder-first-export``: the first, full export of each process writes every page's
files with placeholder bytes (each route's real headers, from one page of it rendered for
real), and every export after it renders for real. What an edit costs is what is measured, and
a first export of 100,000 articles takes most of an hour of CPU for the two trees on a shared
machine; this takes minutes. An edit's pages then differ from the placeholders and are written
rather than linked, and the publication remembers only the pages rendered since (a real first
export leaves a record of every page): both trees alike, and the second favours a tree whose
reload looks at every record (the baseline's). The results file says which first export ran.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from queue import Empty, Queue
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from benchlib import (
    BenchError,
    environment_without_settings,
    extract_revision,
    run_main,
    short_commit,
)

REPO = Path(__file__).resolve().parent.parent
SEED = 1
CORPUS_ROOT = Path(tempfile.gettempdir())
REPORT = re.compile(
    r"exported (\d+) pages: (\d+) files written, (\d+) unchanged, (\d+) removed \(([\d.]+) s\)"
)
FIRST_EXPORT_TIMEOUT_S = 3 * 3600
EDIT_LOG = re.compile(
    r"edit: reload ([\d.]+) s, export ([\d.]+) s, heap ([\d.]+) s(?:, cpu ([\d.]+) s)?"
)
STEPS_LOG = re.compile(r"export steps: (.*)")
STEP = re.compile(r"(\w+) ([\d.]+) s")
EDIT_TIMEOUT_S = 120
EDIT_LOG_TIMEOUT_S = 30  # for the "edit: reload ..." line after the export's report


# Run instead of ``python -m feedsvc export OUT --watch`` with --placeholder-first-export.
PLACEHOLDER_BOOTSTRAP = """
import dataclasses
import sys
from feedsvc.cli import main
from feedsvc.deploy import export

real = export.SiteExporter._render
made = {}


def render(self, page):
    if self._keys:  # after the first export: every page for real
        return real(self, page)
    status = page.status
    endpoint = export.endpoint_of(self.app, page.path) if status == 200 else status
    kind = (endpoint, page.path.partition("?")[0].rpartition(".")[2])
    model = made.get(kind)
    if model is None:
        model = made[kind] = real(self, page)
        return model
    relpath = export.file_for(page.path, status)
    stem = export.file_for(model.page.path, model.page.status)
    files = {relpath + f[len(stem):]: b"placeholder " + relpath.encode() for f in model.files}
    return dataclasses.replace(model, page=page, files=files)


export.SiteExporter._render = render
main(["export", sys.argv[1], "--watch"], prog_name="feedsvc")
"""


class Watcher:
    """One ``export --watch`` process and the report lines it prints."""

    def __init__(
        self, name: str, tree: Path, content: Path, out: Path, *, placeholder: bool = False
    ) -> None:
        self.name = name
        self.content = content
        self.out = out
        env = environment_without_settings()
        env |= {
            "PYTHONPATH": str(tree),
            "FEEDSVC_CONTENT_DIR": str(content),
            "FEEDSVC_LOG_LEVEL": "INFO",  # the edit's reload and the export's steps
        }
        command = ["-m", "feedsvc", "export", str(out), "--watch"]
        if placeholder:
            command = ["-c", PLACEHOLDER_BOOTSTRAP, str(out)]
        self.process = subprocess.Popen(
            [sys.executable, *command],
            cwd=tree,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: Queue[str] = Queue()
        self.watching = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("watching "):
                self.watching.set()
            self.lines.put(line.rstrip("\n"))

    def next_report(self, timeout: float) -> dict[str, Any]:
        """The next ``exported ...`` line, as numbers, with the export's steps if logged."""
        deadline = time.monotonic() + timeout
        steps: dict[str, float] = {}
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except Empty:
                raise BenchError(f"{self.name}: no export reported within {timeout} s") from None
            logged = STEPS_LOG.search(line)
            if logged:
                steps = {name: float(s) for name, s in STEP.findall(logged.group(1))}
                continue
            match = REPORT.search(line)
            if match:
                pages, written, unchanged, removed, seconds = match.groups()
                return {
                    "pages": int(pages),
                    "written": int(written),
                    "unchanged": int(unchanged),
                    "removed": int(removed),
                    "export_s": float(seconds),
                    "steps": steps,
                }
            print(f"  {self.name}: {line}", flush=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def save_by_rename(path: Path, data: bytes) -> None:
    """Save as editors and their tools do: a hidden temporary file, renamed over the article."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def edit_once(watcher: Watcher, relpath: str, data: bytes, marker: bytes) -> dict[str, Any]:
    """Save the edit into the watcher's content; seconds until the export shows it, and the
    export's own report."""
    page = "artikelen/" + relpath.removesuffix(".txt") + ".html"
    cpu = process_cpu_s(watcher.process.pid)
    written = time.perf_counter()
    save_by_rename(watcher.content / relpath, data)
    while True:
        elapsed = time.perf_counter() - written
        if elapsed > EDIT_TIMEOUT_S:
            raise BenchError(f"{watcher.name}: {page} not exported within {EDIT_TIMEOUT_S} s")
        site = os.path.realpath(watcher.out / "public")  # once per look, as nginx does
        try:
            with open(os.path.join(site, page), "rb") as file:
                if marker in file.read():
                    break
        except FileNotFoundError:
            pass
        time.sleep(0.002)
    result = watcher.next_report(EDIT_TIMEOUT_S) | {"visible_s": elapsed}
    # Let the watcher settle (a last rescan) before the next edit; an export more for the
    # same edit would be counted here, not taken for the next edit's.
    # The edit's own log line comes after the heap's freeze, which on a loaded machine can
    # take longer than that: it is waited for (a while), so that every edit has its reload.
    time.sleep(0.5)
    extra = 0
    deadline = time.monotonic() + EDIT_LOG_TIMEOUT_S
    while True:
        try:
            if "reload_s" in result:
                line = watcher.lines.get_nowait()
            else:
                line = watcher.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except Empty:
            break
        extra += bool(REPORT.search(line))
        logged = EDIT_LOG.search(line)
        if logged and "reload_s" not in result:
            result |= {"reload_s": float(logged.group(1)), "heap_s": float(logged.group(3))}
        elif not STEPS_LOG.search(line):
            print(f"  {watcher.name}: {line}", flush=True)
    return result | {"extra_exports": extra, "cpu_s": process_cpu_s(watcher.process.pid) - cpu}


def process_cpu_s(pid: int) -> float:
    """User and system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "count": len(values),
    }


def edited_articles(folder: Path, count: int) -> list[tuple[int, str]]:
    """``count`` articles spread over the corpus's years: (index, relpath)."""
    paths = sorted(folder.rglob("*.txt"))
    step = max(len(paths) // count, 1)
    chosen = paths[step // 2 :: step][:count]
    return [(int(p.name.split("_", 1)[0]), p.relative_to(folder).as_posix()) for p in chosen]


def run_edits(
    watchers: dict[str, Watcher],
    runs: dict[str, list[dict[str, Any]]],
    folder: Path,
    shape: corpus.CorpusShape,
    edits: int,
) -> None:
    """The rounds of edits, each saved into every watcher's content in turn."""
    names = list(watchers)
    for number, (index, relpath) in enumerate(edited_articles(folder, edits)):
        revision = number + 1
        data = corpus.article_file(index, shape, SEED, revision=revision).data
        marker = f"[Aangepast, versie {revision}]".encode()
        order = names if number % 2 == 0 else names[::-1]
        for name in order:
            result = edit_once(watchers[name], relpath, data, marker)
            runs[name].append(result | {"article": relpath})
            print(
                f"edit {revision} {name}: visible after {result['visible_s']:.3f} s, "
                f"export {result['export_s']:.2f} s ({result['written']} files written), "
                f"reload {result.get('reload_s', float('nan')):.3f} s, "
                f"CPU {result.get('cpu_s', float('nan')):.3f} s",
                flush=True,
            )


def save_results(info: dict[str, object], runs: dict[str, list[dict[str, Any]]]) -> Path:
    """Print medians, worst cases and ratios; save them with every run."""
    medians = {
        name: {
            key: summary([r[key] for r in results if key in r])
            for key in ("visible_s", "export_s", "written", "reload_s", "heap_s", "cpu_s")
            if any(key in r for r in results)
        }
        for name, results in runs.items()
        if results
    }
    for name, figures in medians.items():
        visible, export = figures["visible_s"], figures["export_s"]
        print(
            f"{name}: visible median {visible['median']:.3f} s, worst {visible['max']:.3f} s; "
            f"export median {export['median']:.2f} s, worst {export['max']:.2f} s"
        )
    ratios = {}
    if "baseline" in medians and "branch" in medians:
        ratios = {
            f"{key}_{stat}": medians["branch"][key][stat] / medians["baseline"][key][stat]
            for key in ("visible_s", "export_s", "reload_s", "cpu_s")
            if key in medians["branch"] and key in medians["baseline"]
            for stat in ("median", "max")
            if medians["baseline"][key][stat]
        }
        print("branch / baseline: " + ", ".join(f"{k} {v:.3f}x" for k, v in ratios.items()))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = (
        REPO / "bench" / "results" / f"export-edit-{info['articles']}-{info['commit']}-{stamp}.json"
    )
    out.write_text(
        json.dumps(
            {
                **info,
                "runs": runs,
                "medians": medians,
                "ratios_branch_over_baseline": ratios,
            },
            indent=1,
        )
        + "\n"
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--baseline", default="main", help="git revision to compare with")
    parser.add_argument("--no-baseline", action="store_true", help="measure this tree only")
    parser.add_argument("--tmp", type=Path, default=None, help="work folder (default: a new one)")
    parser.add_argument(
        "--placeholder-first-export",
        action="store_true",
        help="first exports write placeholder bytes (see the module's docstring)",
    )
    args = parser.parse_args()
    commit = short_commit()
    base_commit = None if args.no_baseline else short_commit(args.baseline)
    folder = CORPUS_ROOT / f"feedsvc-corpus-{args.n}-v{corpus.FORMAT_VERSION}"
    print(f"corpus: {folder}", flush=True)
    if len(corpus.generate(folder, args.n, SEED)) != args.n:
        raise BenchError(f"{folder} does not hold {args.n} articles")
    shape = corpus.CorpusShape.of(args.n, SEED)
    tmp = Path(tempfile.mkdtemp(prefix="export-edit-bench-", dir=args.tmp))
    load_before = os.getloadavg()
    watchers: dict[str, Watcher] = {}
    runs: dict[str, list[dict[str, Any]]] = {}
    first_s: dict[str, float] = {}
    try:
        trees = {"branch": REPO}
        if base_commit is not None:
            extract_revision(base_commit, tmp / "baseline-tree")
            trees = {"baseline": tmp / "baseline-tree", "branch": REPO}
        started = time.perf_counter()
        for name, tree in trees.items():
            content = tmp / f"content-{name}"
            subprocess.run(["cp", "-al", str(folder), str(content)], check=True)
            watchers[name] = Watcher(
                name, tree, content, tmp / f"out-{name}", placeholder=args.placeholder_first_export
            )
            runs[name] = []
        for name, watcher in watchers.items():
            if not watcher.watching.wait(FIRST_EXPORT_TIMEOUT_S):
                raise BenchError(f"{name}: no first export")
            first_s[name] = time.perf_counter() - started
            print(f"{name}: watching after {first_s[name]:.0f} s", flush=True)
        time.sleep(3)  # the watchers rescan once more before they watch
        for watcher in watchers.values():
            while not watcher.lines.empty():
                print(f"  {watcher.name}: {watcher.lines.get()}", flush=True)
        run_edits(watchers, runs, folder, shape, args.edits)
    finally:
        for watcher in watchers.values():
            watcher.stop()
        load_after = os.getloadavg()
    info = {
        "commit": commit,
        "baseline": base_commit,
        "articles": args.n,
        "edits": args.edits,
        "cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": load_after,
        "first_export_s": first_s,
        "first_export": "placeholder" if args.placeholder_first_export else "real",
    }
    out = save_results(info, runs)
    if not os.environ.get("EXPORT_EDIT_BENCH_KEEP"):
        # After saving: removing the trees of 100,000 articles takes minutes on a busy disk.
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    run_main(main)
