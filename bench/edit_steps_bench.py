"""Where an edit's CPU goes in ``export --watch``, step by step, for this tree and a baseline.

``python bench/edit_steps_bench.py [-n 100000] [--edits 8] [--baseline main] [--rescan]``
starts one worker process per tree (this one and ``git archive`` of each ``--baseline``), each
over its own hard-link copy of the corpus (bench/corpus.py), which makes a first export with
placeholder bytes (as ``export_edit_bench.py --placeholder-first-export``) and freezes its heap
as ``export --watch`` does. Then each round saves the same edit by rename into every copy and
has each worker, in turn (the order alternating between rounds), do what the watcher's
callback does with it, without the watcher's thread: ``Runtime.refresh`` with the edited path
(split into the content's reload and ``Publication.build``), the export, and the heap's freeze.
For each step it records the CPU seconds of the process (``time.process_time``, which on a
shared machine varies far less than wall time) and the wall seconds, the export's own steps,
and the cyclic collector's collections and their CPU seconds per generation (``gc.callbacks``).
With ``--rescan``, each worker first reloads the whole folder as the watcher does every
30 seconds (its CPU is recorded apart), to see what that leaves for the edit after it.

The placeholder first export gives no page a date, where a real one gives every page one
(kept by the publication, and noted in the state journal): with ``--records``, each worker
records one for every page of the site after its first export, as a real one would have, so
what an edit does per record is measured too. Then it does what ``export --watch`` does before
watching (the tree's ``prepare_to_watch``, or freezing the heap in trees without it).

Each edit also records the seconds ``Publication._given`` slept (so that no Last-Modified is
ahead of the clock: a page with new bytes within a second of its last version waits).

Prints medians per tree and saves every figure to bench/results/ as JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from benchlib import (
    BenchError,
    environment_without_settings,
    extract_revision,
    run_main,
    short_commit,
    write_results,
)
from export_edit_bench import PLACEHOLDER_BOOTSTRAP, SEED, edited_articles, save_by_rename

REPO = Path(__file__).resolve().parent.parent
READY = "ready"


class _GcClock:
    """The cyclic collector's collections and their CPU seconds, per generation."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            generation = info["generation"]
            self.counts[generation] += 1
            self.seconds[generation] += time.process_time() - self._started

    def take(self) -> dict[str, Any]:
        taken = {"counts": self.counts, "cpu_s": [round(s, 4) for s in self.seconds]}
        self.counts, self.seconds = [0, 0, 0], [0.0, 0.0, 0.0]
        return taken


def record_every_page(app: Any) -> int:
    """A date for every page of the site, as a real first export gives: kept by the
    publication and noted in the state journal. Returns how many."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from feedsvc.deploy.sitemap import site_pages  # noqa: PLC0415
    from feedsvc.feeds.state import Recorded  # noqa: PLC0415
    from feedsvc.feeds.urls import FEEDS_PREFIX  # noqa: PLC0415

    service = app.extensions["feedsvc"]
    then = datetime(2020, 1, 1, tzinfo=UTC)
    records: dict[tuple[str, str, int], Any] = {}
    for page in site_pages(app):
        if page.path.startswith(FEEDS_PREFIX):
            base, _, number = page.path.partition("?page=")
            feed, _, extension = base[len(FEEDS_PREFIX) :].rpartition(".")
            key = (feed, extension, int(number or 1))
        else:
            key = (page.path, "html", 0)
        records[key] = Recorded(f'"placeholder-{len(records)}"', then)
    service.publication.adopt(records)
    for key, value in records.items():
        service.state.note(key, value)
    return len(records)


def worker(content: Path, out: Path, rescan: bool, records: bool) -> None:
    """One tree's process: a first export, then an edit per line read from stdin."""
    os.environ["FEEDSVC_CONTENT_DIR"] = str(content)
    # The placeholder first export of export_edit_bench, without its last line (the CLI).
    bootstrap = PLACEHOLDER_BOOTSTRAP.rsplit("main(", 1)[0]
    exec(compile(bootstrap, "<placeholder>", "exec"), {"__name__": "placeholder"})
    from feedsvc import cli, create_app  # noqa: PLC0415
    from feedsvc.cli import _Publisher  # noqa: PLC0415
    from feedsvc.deploy.export import SiteExporter  # noqa: PLC0415
    from feedsvc.feeds import publication  # noqa: PLC0415
    from feedsvc.runtime import freeze_heap  # noqa: PLC0415

    app = create_app({"WATCH": False})
    exporter = SiteExporter(app, out)
    publisher = _Publisher(exporter, None, watch=True)
    publisher.export()
    service = exporter.service
    if records:
        print(f"recorded {record_every_page(app)} pages", flush=True)
    prepare_to_watch = getattr(cli, "prepare_to_watch", None)
    if prepare_to_watch is not None:
        prepare_to_watch(service)
    else:
        freeze_heap()
    steps: dict[str, list[float]] = {}

    def timed(name: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            steps[name] = [round(cpu, 4), round(wall, 4)]

    # What Publication._given sleeps so that no Last-Modified is ahead of the clock.
    slept = _SleepClock(vars(publication)["time"])
    setattr(publication, "time", slept)  # noqa: B010
    reload = service.content.reload
    service.content.reload = lambda *a, **k: timed("content_reload", reload, *a, **k)  # type: ignore[method-assign]
    build = publication.Publication.build
    publication.Publication.build = lambda *a, **k: timed("publication_build", build, *a, **k)  # type: ignore[method-assign]
    export_steps: dict[str, float] = {}
    export = exporter.export

    def export_noting_steps() -> Any:
        report = export()
        export_steps.update({k: round(v, 4) for k, v in getattr(report, "steps", {}).items()})
        return report

    exporter.export = export_noting_steps  # type: ignore[method-assign]
    _edits(
        service,
        publisher,
        freeze_heap,
        steps=steps,
        export_steps=export_steps,
        timed=timed,
        rescan=rescan,
        slept=slept,
    )


class _SleepClock:
    """The ``time`` module as one module sees it, with its sleeps added up."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds
        self._module.sleep(seconds)

    def take(self) -> float:
        taken, self.seconds = self.seconds, 0.0
        return round(taken, 4)


def _edits(
    service: Any,
    publisher: Any,
    freeze_heap: Callable[[], None],
    *,
    steps: dict[str, list[float]],
    export_steps: dict[str, float],
    timed: Callable[..., Any],
    rescan: bool,
    slept: _SleepClock,
) -> None:
    """An edit per line of stdin (its path): each step timed, a JSON line per edit."""
    clock = _GcClock()
    print(READY, flush=True)
    for line in sys.stdin:
        path = line.strip()
        result: dict[str, Any] = {}
        if rescan:
            clock.take()
            cpu = time.process_time()
            service.refresh(None)
            result["rescan_cpu_s"] = round(time.process_time() - cpu, 4)
            result["rescan_gc"] = clock.take()
        result["unfrozen_objects"] = len(gc.get_objects())
        print(READY, flush=True)  # the driver saves the edit now
        sys.stdin.readline()
        steps.clear()
        export_steps.clear()
        clock.take()
        slept.take()
        cpu = time.process_time()
        timed("refresh", service.refresh, [path])
        timed("export", publisher.export)
        result["gc_before_heap"] = clock.take()
        result["given_sleep_s"] = slept.take()
        timed("heap", freeze_heap)
        result |= {
            "cpu_s": round(time.process_time() - cpu, 4),
            "steps": dict(steps),
            "export_steps": dict(export_steps),
        }
        print(json.dumps(result), flush=True)


class Worker:
    def __init__(
        self, name: str, tree: Path, content: Path, out: Path, *, rescan: bool, records: bool
    ) -> None:
        self.name, self.content = name, content
        env = environment_without_settings(PYTHONPATH=f"{tree}{os.pathsep}{REPO / 'bench'}")
        command = [sys.executable, __file__, "--worker", str(content), str(out)]
        self.process = subprocess.Popen(
            [*command, *(["--rescan"] if rescan else []), *(["--records"] if records else [])],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise BenchError(f"{self.name}: the worker ended (status {self.process.wait()})")
        return line.strip()

    def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def wait_ready(self) -> None:
        while (line := self.line()) != READY:
            print(f"  {self.name}: {line}", flush=True)

    def edit(self, relpath: str, data: bytes) -> dict[str, Any]:
        self.send(str(self.content / relpath))
        self.wait_ready()  # after the rescan, if any
        save_by_rename(self.content / relpath, data)
        self.send("go")
        while not (line := self.line()).startswith("{"):
            print(f"  {self.name}: {line}", flush=True)
        result: dict[str, Any] = json.loads(line)
        return result

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def medians(results: list[dict[str, Any]]) -> dict[str, float]:
    figures: dict[str, list[float]] = {"cpu_s": [r["cpu_s"] for r in results]}
    # The first edit's and the worst: what a median of edits does not show.
    figures["first_edit_cpu_s"] = [results[0]["cpu_s"]]
    figures["worst_edit_cpu_s"] = [max(r["cpu_s"] for r in results)]
    for result in results:
        for step, (cpu, _) in result["steps"].items():
            figures.setdefault(f"{step}_cpu_s", []).append(cpu)
        for step, seconds in result["export_steps"].items():
            figures.setdefault(f"export_{step}_s", []).append(seconds)
        figures.setdefault("gc_before_heap_cpu_s", []).append(
            sum(result["gc_before_heap"]["cpu_s"])
        )
        figures.setdefault("given_sleep_s", []).append(result.get("given_sleep_s", 0.0))
        if "rescan_cpu_s" in result:
            figures.setdefault("rescan_cpu_s", []).append(result["rescan_cpu_s"])
    return {key: round(statistics.median(values), 4) for key, values in figures.items()}


def main() -> int:
    if "--worker" in sys.argv:
        content, out = Path(sys.argv[2]), Path(sys.argv[3])
        worker(content, out, "--rescan" in sys.argv, "--records" in sys.argv)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=8)
    parser.add_argument("--baseline", action="append", help="git revision(s) to compare with")
    parser.add_argument("--rescan", action="store_true", help="a full rescan before each edit")
    parser.add_argument(
        "--records", action="store_true", help="a recorded date for every page, as a real export"
    )
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir()) / f"feedsvc-corpus-{args.n}-v{corpus.FORMAT_VERSION}"
    if len(corpus.generate(folder, args.n, SEED)) != args.n:
        raise BenchError(f"{folder} does not hold {args.n} articles")
    shape = corpus.CorpusShape.of(args.n, SEED)
    tmp = Path(tempfile.mkdtemp(prefix="edit-steps-bench-"))
    commit = short_commit()  # what the workers import: the tree as it is now
    baselines = {f"baseline-{short_commit(b)}": b for b in args.baseline or ["main"]}
    load_before = os.getloadavg()
    workers: dict[str, Worker] = {}
    runs: dict[str, list[dict[str, Any]]] = {}
    try:
        trees = {"branch": REPO}
        for name, revision in baselines.items():
            extract_revision(revision, tmp / name)
            trees[name] = tmp / name
        for name, tree in trees.items():
            content = tmp / f"content-{name}"
            subprocess.run(["cp", "-al", str(folder), str(content)], check=True)
            workers[name] = Worker(
                name, tree, content, tmp / f"out-{name}", rescan=args.rescan, records=args.records
            )
            runs[name] = []
        for name, each in workers.items():
            each.wait_ready()
            print(f"{name}: first export done", flush=True)
        names = list(workers)
        for number, (index, relpath) in enumerate(edited_articles(folder, args.edits)):
            data = corpus.article_file(index, shape, SEED, revision=number + 1).data
            for name in names if number % 2 == 0 else names[::-1]:
                result = workers[name].edit(relpath, data) | {"article": relpath}
                runs[name].append(result)
                print(f"edit {number + 1} {name}: CPU {result['cpu_s']:.3f} s", flush=True)
    finally:
        for each in workers.values():
            each.stop()
        load_after = os.getloadavg()
    summary = {name: medians(results) for name, results in runs.items() if results}
    for name, figures in summary.items():
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = REPO / "bench" / "results" / f"edit-steps-{args.n}-{commit}-{stamp}.json"
    document = {
        "commit": commit,
        "baselines": baselines,
        "articles": args.n,
        "edits": args.edits,
        "rescan": args.rescan,
        "records": args.records,
        "cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": load_after,
        "medians": summary,
        "runs": runs,
    }
    write_results(out, document)
    # After saving: removing the trees of 100,000 articles takes minutes on a busy disk.
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    run_main(main)
