"""What creating one file costs the export's process, system call by system call, here.

``python bench/file_create_cost.py [--dir DIR] [--also /dev/shm] [--files 5000] [--size 20000]
[--passes 3]`` creates ``--files`` new files of ``--size`` bytes in folders of 500 under a new
folder in ``DIR`` (default: the system's temporary folder, where the benches export), as the
export creates each (``feedsvc.deploy.export._create_file``: open with O_CREAT|O_EXCL, write,
utime, close), and records the CPU time (``process_time``: user and system) of each call per
file, the best of ``--passes``, for ``DIR`` and each ``--also`` folder (a tmpfs, to compare
with a file system that allocates inodes for nothing). Then it removes what it made, and once
more creates as many files right after removing a tree of them, as an export does after the
benches removed the one before. Saved to bench/results/ as JSON, with the file system and
whether it has a journal (ext4 without one checks each free inode for a recent deletion:
``recently_deleted`` in fs/ext4/ialloc.c).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import run_main, short_commit, write_results

REPO = Path(__file__).resolve().parent.parent
FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
PER_FOLDER = 500
CALLS = ("open", "write", "utime", "close")


def create(top: Path, files: int, data: bytes) -> dict[str, float]:
    """µs of CPU per file for each call, creating ``files`` files under ``top`` (new)."""
    spent = dict.fromkeys(CALLS, 0.0)
    clock = time.process_time
    top.mkdir()
    for number in range(files):
        folder = f"{top}/{number // PER_FOLDER}"
        if number % PER_FOLDER == 0:
            os.mkdir(folder)
        started = clock()
        fd = os.open(f"{folder}/{number}.html", FLAGS, 0o644)
        opened = clock()
        os.write(fd, data)
        written = clock()
        os.utime(fd, (1_000_000, 1_000_000))
        dated = clock()
        os.close(fd)
        closed = clock()
        spent["open"] += opened - started
        spent["write"] += written - opened
        spent["utime"] += dated - written
        spent["close"] += closed - dated
    return {call: seconds * 1e6 / files for call, seconds in spent.items()}


def file_system(path: Path) -> dict[str, object]:
    """The mount ``path`` is on: device, type, options, and whether an ext4 has a journal."""
    best: list[str] = []
    resolved = str(path.resolve()).rstrip("/") + "/"
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        mount = fields[1].rstrip("/") + "/"
        if resolved.startswith(mount) and (not best or len(fields[1]) >= len(best[1])):
            best = fields
    if not best:
        return {}
    found: dict[str, object] = {"device": best[0], "mount": best[1], "type": best[2]}
    found["options"] = best[3]
    if best[2] == "ext4":
        device = Path(best[0]).name
        found["journal"] = any(
            entry.name.startswith(device) for entry in Path("/proc/fs/jbd2").glob("*")
        )
    return found


def measure(where: Path, files: int, data: bytes, passes: int) -> dict[str, object]:
    fresh: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="file-create-", dir=where) as tmp_name:
        tmp = Path(tmp_name)
        for number in range(passes):
            fresh.append(create(tmp / f"fresh{number}", files, data))
        shutil.rmtree(tmp / "fresh0")
        after_removal = create(tmp / "again", files, data)
    best = {call: min(run[call] for run in fresh) for call in CALLS}
    return {
        "dir": str(where),
        "file_system": file_system(where),
        "us_per_file": best,
        "us_per_file_total": sum(best.values()),
        "runs": fresh,
        "right_after_removing_a_tree": after_removal,
        "load_1m": os.getloadavg()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--also", type=Path, action="append", default=[])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    data = b"x" * args.size
    results = [measure(where, args.files, data, args.passes) for where in [args.dir, *args.also]]
    for result in results:
        calls = ", ".join(f"{call} {us:.1f}" for call, us in result["us_per_file"].items())  # type: ignore[attr-defined]
        again = result["right_after_removing_a_tree"]["open"]  # type: ignore[index]
        print(
            f"{result['dir']}: {result['us_per_file_total']:.1f} µs CPU per file ({calls}); "
            f"open right after removing a tree: {again:.1f} µs"
        )
    commit = short_commit()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = REPO / "bench" / "results" / f"file-create-cost-{commit}-{stamp}.json"
    write_results(out, {"commit": commit, "files": args.files, "size": args.size, "runs": results})
    return 0


if __name__ == "__main__":
    run_main(main)
