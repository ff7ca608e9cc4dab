"""nginx's memory for the export's configuration as the number of feeds grows: what each feed's
locations cost nginx, as generated and less one construct.

``python bench/nginx_memory_bench.py [-n 100] [--feeds 1000] [--baseline REV]
[--variants NAME,...]`` exports a corpus of ``-n`` articles with this tree (and ``REV``'s), then
makes the configuration of a site with ``--feeds`` more feeds by repeating the locations of
``/feeds/all.rss`` (its own, and its careful one where it has one of its own) under other names,
and starts an nginx (no requests) with it, with PCRE's JIT on (as the benches' nginx) and off
(Debian's default). Memory is the proportional set size of master and workers together. Each
variant of :data:`nginx_static_bench.VARIANTS` is applied to this tree's configuration before
its feed's locations are repeated, so that every feed has it. Prints KB per feed and saves the
runs to bench/results/ as JSON. Needs the Debian package ``nginx``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import BenchError, free_port, run_main, short_commit, write_results
from corpus import generate
from nginx_static_bench import FEED, VARIANTS, exported, memory_kb, wait_for
from scale_bench import nginx

REPO = Path(__file__).resolve().parent.parent


def with_feeds(config: str, feeds: int) -> str:
    """``config`` with ``feeds`` more feeds: copies of :data:`FEED`'s locations (its own, and
    its careful one where it has one of its own), each under a name of its own."""
    blocks = [
        found
        for prefix in ("", "/_feedsvc/feed")
        if (
            found := re.search(
                r"\n    location = \"" + prefix + re.escape(FEED) + r"\" \{\n.*?\n    \}",
                config,
                re.S,
            )
        )
    ]
    if not blocks:
        raise BenchError(f"no location of {FEED} in the configuration")
    stem = FEED.removesuffix(".rss")
    copies = "".join(
        block.group(0)
        .replace(stem + ".rss", f"{stem}-{n}.rss")
        .replace(f'"{stem}"', f'"{stem}-{n}"')
        for n in range(feeds)
        for block in blocks
    )
    end = blocks[-1].end()
    return config[:end] + copies + config[end:]


def measure(config: str, tmp: Path, port: int, jit: bool) -> dict[str, int]:
    """The memory of an nginx serving ``config`` alone (listening on ``port``)."""
    folder = Path(tempfile.mkdtemp(dir=tmp, prefix="config-"))
    (folder / "feedsvc.conf").write_text(config)
    with nginx(tmp, f"  include {folder / 'feedsvc.conf'};\n", pcre_jit=jit) as pid:
        wait_for(port)
        time.sleep(0.5)
        return memory_kb(pid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument(
        "--baseline", metavar="REV", help="also the configuration of this git revision's export"
    )
    parser.add_argument(
        "--variants", default="", help=f"comma-separated, of: {', '.join(VARIANTS)}"
    )
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    if unknown := set(variants) - set(VARIANTS):
        parser.error(f"--variants: unknown {', '.join(sorted(unknown))}")
    commit = short_commit()
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="nginx-memory-") as tmp_name:
        tmp = Path(tmp_name)
        generate(tmp / "content", args.n)
        port = free_port()
        trees = exported(tmp / "content", tmp, port, args.baseline)
        generated = (tmp / "export" / "nginx" / "feedsvc.conf").read_text()
        configs = {"generated": generated} | {v: VARIANTS[v](generated) for v in variants}
        if unchanged := [v for v in variants if configs[v] == generated]:
            raise BenchError(f"variants that change nothing here: {', '.join(unchanged)}")
        if args.baseline:
            configs["baseline"] = (
                (trees["baseline"][1] / "nginx" / "feedsvc.conf")
                .read_text()
                .replace(f"127.0.0.1:{trees['baseline'][2]};", f"127.0.0.1:{port};")
            )
        for name, config in configs.items():
            for jit in (True, False):
                base = measure(config, tmp, port, jit)
                grown = measure(with_feeds(config, args.feeds), tmp, port, jit)
                per_feed = (grown["pss_kb"] - base["pss_kb"]) / args.feeds
                key = f"pcre_jit_{'on' if jit else 'off'}"
                results.setdefault(name, {})[key] = {
                    "pss_kb": base["pss_kb"],
                    "pss_kb_with_feeds": grown["pss_kb"],
                    "pss_kb_per_feed": per_feed,
                    "regex_ifs_per_feed": with_feeds(config, 1).count("if ($http_accept ~")
                    - config.count("if ($http_accept ~"),
                }
                print(f"{name:16} {key:12} {per_feed:7.1f} KB per feed", flush=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = REPO / "bench" / "results" / f"nginx-memory-{commit}-{stamp}.json"
    write_results(
        path,
        {
            "commit": commit,
            "articles": args.n,
            "feeds_added": args.feeds,
            "variants": variants,
            "baseline": args.baseline,
            "load": os.getloadavg(),
            # name -> pcre_jit_on/off -> nginx's memory (master and one worker, PSS)
            "memory": results,
        },
    )
    return 0


if __name__ == "__main__":
    run_main(main)
