"""Bodies are kept as text at load and split into paragraphs when first asked for.

What the load must still do for the body (report its problems with their lines, tell an
article without body text), and that the paragraphs read later are the ones the file held at
load, as an independent reading of the composed file gives them.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from feedsvc.articles.model import Article, Body
from feedsvc.articles.store import ContentStore
from feedsvc.errors import ContentProblem, Severity
from feedsvc.settings import DEFAULT_DISCLAIMER, Settings

HEADER = (
    "Bijgewerkt: 3 maart 2025\nTitel van het bericht\nNieuws -> Lokaal\nBron: NAVO\n28-02-2025\n"
)
HEADER_LINES = HEADER.count("\n")


def load(folder: Path, disclaimer: str = DEFAULT_DISCLAIMER) -> ContentStore:
    store = ContentStore(Settings(content_dir=folder, disclaimer=disclaimer))
    store.reload()
    return store


def only_article(store: ContentStore) -> Article:
    (article,) = store.snapshot().articles
    return article


def problems(store: ContentStore) -> list[tuple[str, int, Severity, str]]:
    return [(p.path, p.line, p.severity, p.message) for p in store.problems()]


def composed_body(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """A body as an editor might type it (ragged white space, several blank lines, paragraphs
    of several lines) and the paragraphs it holds, each line stripped, made independently of
    the parser."""
    words = ["Amstelveen", "café", "€ 12,50", "gemeente", "‘quote’", "Oude", "Dorp", "2025", "—"]
    paragraphs = []
    text = ""
    for _ in range(rng.randint(1, 6)):
        lines = [
            " ".join(rng.choice(words) for _ in range(rng.randint(1, 40)))
            for _ in range(rng.randint(1, 3))
        ]
        paragraphs.append("\n".join(lines))
        text += "\n".join(
            rng.choice(["", "  ", "\t"]) + line + rng.choice(["", " "]) for line in lines
        )
        text += "\n" + rng.choice(["\n", "\n\n", " \n", "\n\t\n\n"])
    return text + DEFAULT_DISCLAIMER + "\n", tuple(paragraphs)


@pytest.mark.parametrize("seed", range(30))
def test_a_body_read_later_holds_the_paragraphs_the_file_held(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    body, expected = composed_body(rng)
    newline = rng.choice(["\n", "\r\n", "\r"])
    # Blank lines inside the header too, sometimes more than the first lines split off.
    header = HEADER.replace("\n", "\n" * rng.choice([1, 2, 12]))
    (tmp_path / "a.txt").write_bytes((header + body).replace("\n", newline).encode())
    store = load(tmp_path)
    article = only_article(store)
    assert article.title == "Titel van het bericht"
    assert article.paragraphs == expected
    summary = " ".join(expected[0].split())  # the first paragraph as one line
    if len(summary) <= 300:
        assert article.summary == summary
    else:
        assert article.summary.endswith("…")
        assert len(article.summary) <= 300
        assert summary.startswith(article.summary[:-1].rstrip(" ,;:-–—"))
    # The same as an article made with its paragraphs given whole.
    eager = Article(
        id=article.id,
        title=article.title,
        category=article.category,
        source=article.source,
        published=article.published,
        updated=article.updated,
        paragraphs=expected,
        summary=article.summary,
        source_path=article.source_path,
    )
    assert eager == article
    assert hash(eager) == hash(article)
    assert store.problems() == ()


def test_the_body_is_the_one_loaded_not_the_file_as_it_is_now(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(HEADER + "Eerste alinea.\n\nTweede alinea.\n")
    store = load(tmp_path)
    article = only_article(store)
    path.write_text(HEADER + "Iets heel anders.\n")  # not reloaded: the feeds still show the load
    assert article.paragraphs == ("Eerste alinea.", "Tweede alinea.")
    assert article.summary == "Eerste alinea."


def test_a_control_character_in_the_body_is_reported_at_load_with_its_line(
    tmp_path: Path,
) -> None:
    lines = ["Eerste alinea.", "", "Tweede \x07alinea.", "", "Derde alinea."]
    (tmp_path / "a.txt").write_text(HEADER + "\n".join(lines) + "\n")
    store = load(tmp_path)
    line = HEADER_LINES + 3
    assert problems(store) == [
        (
            "a.txt",
            line,
            Severity.WARNING,
            "dropped control characters XML cannot carry (on 1 line(s))",
        )
    ]
    assert only_article(store).paragraphs == ("Eerste alinea.", "Tweede alinea.", "Derde alinea.")


@pytest.mark.parametrize("character", ["\x85", "\x9f", "\ufffe", "\uffff", "\x7f", "\x1b"])
def test_every_kind_of_forbidden_character_in_the_body_is_found_at_load(
    tmp_path: Path, character: str
) -> None:
    """The bytes of valid UTF-8 are looked at rather than the text: each kind is found."""
    (tmp_path / "a.txt").write_text(HEADER + "Tekst.\n\nMet " + character + " erin.\n")
    store = load(tmp_path)
    assert [(p.line, p.severity) for p in store.problems()] == [
        (HEADER_LINES + 3, Severity.WARNING)
    ]
    assert only_article(store).paragraphs == ("Tekst.", "Met  erin.")


def test_invalid_utf8_in_the_body_is_reported_at_load_with_its_line(tmp_path: Path) -> None:
    data = (HEADER + "Eerste alinea.\n\nEen caf").encode() + b"\xe9 verderop.\n"
    (tmp_path / "a.txt").write_bytes(data)
    store = load(tmp_path)
    assert [(p.line, p.severity) for p in store.problems()] == [
        (HEADER_LINES + 3, Severity.WARNING)
    ]
    assert only_article(store).paragraphs == ("Eerste alinea.", "Een café verderop.")


@pytest.mark.parametrize(
    ("body", "disclaimer"),
    [
        ("", DEFAULT_DISCLAIMER),
        ("\n  \n\t\n", DEFAULT_DISCLAIMER),
        (DEFAULT_DISCLAIMER, DEFAULT_DISCLAIMER),
        # Wrapped over two lines, in capitals, with more periods: still only the disclaimer.
        (
            DEFAULT_DISCLAIMER.replace(" voor ", "\n  voor ").upper() + "..",
            DEFAULT_DISCLAIMER,
        ),
        ("...", ""),  # an empty disclaimer is what a paragraph of periods reads as
    ],
)
def test_an_article_with_no_body_text_is_told_at_load(
    tmp_path: Path, body: str, disclaimer: str
) -> None:
    (tmp_path / "a.txt").write_text(HEADER + body + "\n")
    store = load(tmp_path, disclaimer)
    assert problems(store) == [
        ("a.txt", HEADER_LINES, Severity.WARNING, "the article has no body text")
    ]
    assert only_article(store).paragraphs == ()
    assert only_article(store).summary == ""


@pytest.mark.parametrize(
    "body",
    [
        "Een zin.",
        DEFAULT_DISCLAIMER + " En meer.",
        "Een zin.\n" + DEFAULT_DISCLAIMER,  # the disclaimer as the paragraph's last line
        DEFAULT_DISCLAIMER + "\n\n" + DEFAULT_DISCLAIMER,
        " ".join(["woord"] * 5000),
    ],
)
def test_an_article_with_body_text_is_not_told_it_has_none(tmp_path: Path, body: str) -> None:
    (tmp_path / "a.txt").write_text(HEADER + body + "\n")
    store = load(tmp_path)
    assert store.problems() == ()
    assert only_article(store).paragraphs != ()


def test_a_broken_header_after_a_good_load_keeps_the_last_good_body(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(HEADER + "Goede tekst.\n")
    store = load(tmp_path)
    path.write_text("Titel\nNieuws\nBron: X\ngeen datum\n\nAndere tekst.\n")
    store.reload()
    (problem,) = store.problems()
    assert isinstance(problem, ContentProblem)
    assert (problem.path, problem.line, problem.severity) == ("a.txt", 4, Severity.ERROR)
    assert only_article(store).paragraphs == ("Goede tekst.",)


def test_a_body_made_of_paragraphs_checks_them_and_a_lazy_one_its_text() -> None:
    with pytest.raises(ValueError, match="XML cannot carry"):
        Body.of(("Goed.", "Slecht \x07."), "Goed.")
    lazy = Body.lazy("Een.\n\n  Twee\n", lambda text: (tuple(text.split("\n\n")), "Een."))
    assert lazy.paragraphs == ("Een.", "  Twee\n")
    assert lazy == Body.of(("Een.", "  Twee\n"), "Een.")


def test_a_body_read_once_keeps_its_summary_when_its_paragraphs_are_forgotten() -> None:
    """With keep_parsed (an export's renderer), a body whose paragraphs were forgotten still
    has its summary without reading its text again; its paragraphs are read again."""
    reads: list[str] = []

    def read(text: str) -> tuple[tuple[str, ...], str]:
        reads.append(text)
        paragraphs = tuple(text.split("\n\n"))
        return paragraphs, paragraphs[0][:3]

    first = Body.lazy("Eerste alinea.\n\nTweede.", read)
    second = Body.lazy("Andere tekst.\n\nNog een.", read)
    try:
        Body.keep_parsed(1)
        assert first.paragraphs == ("Eerste alinea.", "Tweede.")
        assert second.summary == "And"  # first's paragraphs are forgotten
        assert first.summary == "Eer"
        assert second.summary == "And"
        assert len(reads) == 2
        assert first.paragraphs == ("Eerste alinea.", "Tweede.")
        assert len(reads) == 3
    finally:
        Body._recent, Body._recent_limit = None, 0
