"""Coverage-guided fuzzing of the article parser with atheris (libFuzzer), for a bounded time.

The property the hypothesis tests check, searched for by coverage instead of by strategy: for
any bytes, ``parse_article`` returns an article whose text XML can carry, or raises
``ContentError`` with the path and a line; any other exception, or one input taking longer than
``--max-input-seconds``, is a finding (libFuzzer writes the input to ``crash-*`` / ``timeout-*``).

atheris is not a test dependency (it is a compiled extension that pins its own libFuzzer)::

    python3.11 -m venv /tmp/fuzz && /tmp/fuzz/bin/pip install -r requirements.txt atheris==3.0.0
    /tmp/fuzz/bin/python bench/fuzz_parser.py --seconds 300 [CORPUS_DIR]

The bundled content and the test fixtures seed the corpus; a CORPUS_DIR collects what it finds.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import atheris  # noqa: E402

with atheris.instrument_imports():
    from feedsvc.articles.dates import parse_dutch_datetime
    from feedsvc.articles.model import XML_UNSAFE
    from feedsvc.articles.parser import parse_article
    from feedsvc.errors import ContentError
    from feedsvc.settings import DEFAULT_DISCLAIMER

ZONE = ZoneInfo("Europe/Amsterdam")


def one_input(data: bytes) -> None:
    """The property; raises (and so reports) on anything else."""
    try:
        result = parse_article(data, "fuzz/input.txt", zone=ZONE, disclaimer=DEFAULT_DISCLAIMER)
    except ContentError as error:
        if error.line < 0 or not error.reason or error.path != "fuzz/input.txt":
            raise AssertionError(f"a content error without a place or reason: {error}") from None
        return
    article = result.article
    texts = [article.title, article.summary, *article.paragraphs, *article.category.names]
    if article.source is not None:
        texts.append(article.source.name)
    for text in texts:
        if XML_UNSAFE.search(text):
            raise AssertionError(f"the article carries a character XML cannot: {text!r}")
    if article.updated < article.published or article.published.tzinfo is None:
        raise AssertionError(f"dates break the model's promise: {article!r}")
    # The date parser on its own, with the first line as input.
    first = data.split(b"\n", 1)[0].decode("utf-8", "replace")
    with contextlib.suppress(ValueError):
        parse_dutch_datetime(first)


def seeds(folder: Path) -> None:
    """Copy the bundled articles and the parser fixtures into ``folder`` as the first corpus."""
    for source in (REPO / "content", REPO / "tests" / "fixtures"):
        for path in sorted(source.rglob("*.txt")):
            (folder / f"seed-{len(list(folder.iterdir())):04d}").write_bytes(path.read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="how long to fuzz (60)")
    parser.add_argument("--max-input-seconds", type=int, default=5, help="a slow input (5)")
    parser.add_argument("corpus", nargs="?", type=Path, help="a folder to keep the corpus in")
    args = parser.parse_args()
    corpus = args.corpus or Path(tempfile.mkdtemp(prefix="feedsvc-fuzz-"))
    corpus.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        seeds(corpus)
    libfuzzer_args = [
        sys.argv[0],
        str(corpus),
        f"-max_total_time={args.seconds}",
        f"-timeout={args.max_input_seconds}",
        "-max_len=65536",
        "-rss_limit_mb=2048",
        "-print_final_stats=1",
    ]
    atheris.Setup(libfuzzer_args, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
