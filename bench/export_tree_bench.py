"""The write side of an edit's export at scale: what building and switching a generation costs
when an edit changes a few dozen files of a site of 100,000 articles, without rendering.

``python bench/export_tree_bench.py [-n 100000] [--edits 10] [--written 51]`` lists the files
of the site of ``-n`` articles (bench/corpus.py) as the export lays them out: every page of
``feedsvc.deploy.sitemap.site_pages`` at ``file_for``'s path, with a ``.gz`` and a ``.br``
beside it (images without). It writes that tree once (small files), then alternates, edit by
edit, two ways of publishing a generation in which ``--written`` files (picked at random, a
new sample each edit) have new bytes:

- ``baseline``: the generations of ``--baseline`` (``git show`` of its generations.py, run as
  it is) and what its ``SiteExporter`` does per file for an edit: an empty generation, every
  unchanged file hard-linked into it (its ``_new_path``/``_link``), the changed ones written,
  the generation before walked for files others put there (``_carry_foreign_files``), the
  manifest of every file written twice, then the switch (which removes the generation from
  two edits ago). The render side is left out: this is the write side only.
- ``branch``: this tree's :class:`feedsvc.deploy.generations.Generations`, as its exporter
  uses it: a spare tree brought up to date (``begin(reuse=True)``), the changed files replaced,
  the switch with the list of changes, and the folders' mtimes read twice (noted after the
  build, checked before the next).

Seconds per edit: median and worst, and the ratio, saved to bench/results/ as JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import corpus
from benchlib import BenchError, run_main, short_commit

from feedsvc.deploy.generations import Build, Generations

REPO = Path(__file__).resolve().parent.parent
SEED = 1
CORPUS_ROOT = Path(tempfile.gettempdir())
PAYLOAD = b"x" * 200
IMAGES = (".png", ".ico", ".jpg", ".svg")


def site_files(n: int) -> list[str]:
    """The files of the exported site of ``n`` articles (cached beside the corpus)."""
    folder = CORPUS_ROOT / f"feedsvc-corpus-{n}-v{corpus.FORMAT_VERSION}"
    cache = folder.with_name(folder.name + "-export-files.json")
    if cache.is_file():
        files: list[str] = json.loads(cache.read_text())
        return files
    if len(corpus.generate(folder, n, SEED)) != n:
        raise BenchError(f"{folder} does not hold {n} articles")
    from feedsvc import create_app  # noqa: PLC0415
    from feedsvc.deploy.export import file_for  # noqa: PLC0415
    from feedsvc.deploy.sitemap import site_pages  # noqa: PLC0415

    print(f"listing the pages of {n} articles ...", flush=True)
    app = create_app({"CONTENT_DIR": str(folder), "WATCH": False, "LOG_LEVEL": "WARNING"})
    files = []
    for page in site_pages(app):
        relpath = file_for(page.path, page.status)
        files.append(relpath)
        if not relpath.endswith(IMAGES):
            files += [relpath + ".gz", relpath + ".br"]
    cache.write_text(json.dumps(files))
    return files


def load_module(name: str, source: str) -> ModuleType:
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def write_tree(top: Path, files: list[str]) -> None:
    made: set[str] = set()
    for relpath in files:
        folder = os.path.dirname(f"{top}/{relpath}")
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with open(f"{top}/{relpath}", "wb") as file:
            file.write(PAYLOAD)


def link_copy(source: Path, target: Path) -> None:
    top = os.path.realpath(source)
    for directory, _, filenames in os.walk(top):
        into = f"{target}{directory[len(top) :]}"
        os.makedirs(into, exist_ok=True)
        for name in filenames:
            os.link(f"{directory}/{name}", f"{into}/{name}")


def write_file(path: str, revision: int, *, replace: bool) -> None:
    """What the exporter's ``_write`` does for a changed file."""
    if replace:
        os.unlink(path)
    with open(path, "xb") as file:
        file.write(PAYLOAD + str(revision).encode())
    os.chmod(path, 0o644)
    os.utime(path, (revision, revision))


class Baseline:
    """The baseline's generations, and its exporter's per-file work for an edit."""

    def __init__(self, module: ModuleType, outdir: Path, files: list[str]) -> None:
        self.generations = module.Generations(outdir, "public")
        self.outdir = outdir
        self.files = files

    def edit(self, changed: set[str], revision: int) -> None:
        current = self.generations.current()
        new = self.generations.begin()
        folders = {new}
        produced: set[str] = set()
        for relpath in self.files:
            path = f"{new}/{relpath}"
            folder = Path(os.path.dirname(path))
            if folder not in folders:
                folder.mkdir(parents=True, exist_ok=True)
                folders.add(folder)
            if relpath in changed:
                write_file(path, revision, replace=False)
            else:
                os.link(f"{current}/{relpath}", path)
            produced.add(relpath)
        top = str(current)
        for directory, _, filenames in os.walk(top):  # _carry_foreign_files
            prefix = directory[len(top) + 1 :]
            for name in filenames:
                relpath = f"{prefix}/{name}" if prefix else name
                if relpath not in produced:
                    raise BenchError(f"{relpath} is not the export's")
        for _ in range(2):  # _save_manifest before and after the switch
            text = json.dumps({"version": 2, "files": sorted(produced)}, indent=0)
            (self.outdir / "manifest.json").write_text(text + "\n")
        self.generations.publish(new)


class Branch:
    """This tree's generations, as its exporter uses them for an edit."""

    def __init__(self, outdir: Path) -> None:
        self.generations = Generations(outdir, "public")
        self.folders: list[str] = []

    def first(self, files: list[str]) -> None:
        build = self.generations.begin(reuse=False)
        write_tree(build.path, files)
        self.generations.publish(build, dict.fromkeys(files, "+"))
        folders = {""}
        for relpath in files:
            folder = os.path.dirname(relpath)
            while folder and folder not in folders:
                folders.add(folder)
                folder = os.path.dirname(folder)
        self.folders = sorted(folders)
        self._note(build)

    def edit(self, changed: set[str], revision: int) -> None:
        current = self.generations.current()
        assert current is not None
        self._check(current)
        build = self.generations.begin(reuse=True)
        if not build.reused:
            raise BenchError("no spare tree was reused")
        for relpath in changed:
            write_file(f"{build.path}/{relpath}", revision, replace=True)
        self.generations.publish(build, dict.fromkeys(changed, "+"))
        self.generations.forget_changes(0)
        self._note(build)

    def _note(self, build: Build) -> None:
        for folder in self.folders:
            os.stat(f"{build.path}/{folder}")

    def _check(self, current: Path) -> None:
        for folder in self.folders:
            os.stat(f"{current}/{folder}")


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--written", type=int, default=51)
    parser.add_argument("--baseline", default="main", help="git revision to compare with")
    parser.add_argument("--tmp", type=Path, default=None, help="work folder (default: a new one)")
    args = parser.parse_args()
    commit = short_commit()  # the tree measured: the one there when the run starts
    files = site_files(args.n)
    folders: dict[str, int] = {}
    for relpath in files:
        folder = os.path.dirname(relpath)
        folders[folder] = folders.get(folder, 0) + 1
    print(
        f"{len(files)} files in {len(folders)} folders; largest: "
        + ", ".join(f"{f or '.'} {c}" for f, c in sorted(folders.items(), key=lambda x: -x[1])[:5]),
        flush=True,
    )
    source = subprocess.run(
        ["git", "show", f"{args.baseline}:feedsvc/deploy/generations.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    old = load_module("baseline_generations", source)
    tmp = Path(tempfile.mkdtemp(prefix="export-tree-bench-", dir=args.tmp))
    load_before = os.getloadavg()
    runs: dict[str, list[float]] = {"baseline": [], "branch": []}
    try:
        started = time.perf_counter()
        branch = Branch(tmp / "branch")
        branch.first(files)
        baseline = Baseline(old, tmp / "baseline", files)
        first = baseline.generations.begin()
        link_copy(tmp / "branch/public", first)  # the same files
        baseline.generations.publish(first)
        print(f"trees written in {time.perf_counter() - started:.0f} s", flush=True)
        rng = random.Random(SEED)
        for number in range(args.edits):
            changed = set(rng.sample(files, args.written))
            order = ["baseline", "branch"] if number % 2 == 0 else ["branch", "baseline"]
            for name in order:
                model = baseline if name == "baseline" else branch
                started = time.perf_counter()
                model.edit(changed, 1_000_000 + number)
                runs[name].append(time.perf_counter() - started)
            print(
                f"edit {number + 1}: baseline {runs['baseline'][-1]:.3f} s, branch "
                f"{runs['branch'][-1]:.4f} s",
                flush=True,
            )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    medians = {name: summary(values) for name, values in runs.items()}
    ratios = {
        stat: medians["branch"][stat] / medians["baseline"][stat] for stat in ("median", "max")
    }
    for name, figures in medians.items():
        print(f"{name}: median {figures['median']:.4f} s, worst {figures['max']:.4f} s")
    print(f"branch / baseline: median {ratios['median']:.4f}x, worst {ratios['max']:.4f}x")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = REPO / "bench" / "results" / f"export-tree-{args.n}-{commit}-{stamp}.json"
    document = {
        "commit": commit,
        "baseline": short_commit(args.baseline),
        "articles": args.n,
        "files": len(files),
        "folders": len(folders),
        "largest_folders": dict(sorted(folders.items(), key=lambda x: -x[1])[:10]),
        "written_per_edit": args.written,
        "cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "runs": runs,
        "medians": medians,
        "ratios_branch_over_baseline": ratios,
    }
    out.write_text(json.dumps(document, indent=1) + "\n")
    print(f"saved {out}")
    shutil.rmtree(tmp, ignore_errors=True)  # after saving: minutes on a busy disk
    return 0


if __name__ == "__main__":
    run_main(main)
