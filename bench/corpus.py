"""A synthetic corpus: N realistic article files in the editors' format, for the benchmarks.

Deterministic for a given ``(n, seed)``: article ``i`` is always the same text, so a corpus can be
regenerated, cached under /tmp and edited one article at a time. What makes it realistic:

- the real file format (``Bijgewerkt:``, title, category path, ``Bron:``, date, paragraphs, the
  disclaimer), with the variants editors produce: CRLF endings, a BOM, dates with a time, no
  ``Bron:`` line, a trailing newline or none;
- Dutch text (words, place names and organisations of a local news site, accents, ``€``);
- category paths one to three levels deep, and, as N grows, hundreds of categories and sources
  (about 2·√N categories and 1.5·√N sources, at most 600 and 400) used with a skewed popularity;
- bodies the size of press releases: 3 to 12 paragraphs, about 2.3 KB on average (median 2 KB,
  5% over 4.5 KB).

Usage::

    .venv/bin/python bench/corpus.py OUTDIR -n 10000 [--seed 1]

Generated corpora belong under /tmp, never in the repository.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

DISCLAIMER = "Amstelveenweb.com is niet verantwoordelijk voor de inhoud van de nieuwsberichten."
FORMAT_VERSION = 2  # bump when the generated text changes, so cached corpora are regenerated
MARKER = ".corpus.json"

_TOP = (
    "Nieuws",
    "Sport",
    "Cultuur",
    "Evenementen",
    "Economie",
    "Onderwijs",
    "Zorg",
    "Verkeer",
    "Politiek",
    "Natuur",
    "Wonen",
    "Jeugd",
)
_TOPICS = (
    "Informatief",
    "Politie",
    "Brandweer",
    "Gemeente",
    "Hockey",
    "Voetbal",
    "Tennis",
    "Zwemmen",
    "Theater",
    "Musea",
    "Muziek",
    "Klassiek",
    "Pop",
    "Jazz",
    "Film",
    "Literatuur",
    "Markten",
    "Festivals",
    "Ondernemers",
    "Winkels",
    "Horeca",
    "Basisscholen",
    "Voortgezet onderwijs",
    "Ouderen",
    "Huisartsen",
    "Ziekenhuis",
    "Openbaar vervoer",
    "Fietsers",
    "Wegwerkzaamheden",
    "Parkeren",
    "Gemeenteraad",
    "College",
    "Begroting",
    "Parken",
    "Bomen",
    "Water",
    "Dieren",
    "Nieuwbouw",
    "Huurwoningen",
    "Duurzaamheid",
    "Energie",
    "Vrijwilligers",
    "Kinderopvang",
    "Veiligheid",
    "Afval",
)
_PLACES = (
    "Amstelveen",
    "Westwijk",
    "Bovenkerk",
    "Middenhoven",
    "Elsrijk",
    "Keizer Karelpark",
    "Randwijck",
    "Waardhuizen",
    "Kostverloren",
    "Ouderkerk aan de Amstel",
    "Uithoorn",
    "Aalsmeer",
    "Buitenveldert",
    "Stadshart",
    "Oude Dorp",
    "Groenelaan",
    "Nes aan de Amstel",
    "Legmeer",
    "Bankras",
    "Patrimonium",
)
_ORG_KINDS = (
    "Gemeente",
    "Politie",
    "Brandweer",
    "Stichting",
    "Vereniging",
    "Bibliotheek",
    "Wijkcentrum",
    "Sportclub",
    "Muziekschool",
    "Woonstichting",
    "Ondernemersvereniging",
    "Huisartsenpraktijk",
    "Natuurvereniging",
    "Toneelgroep",
    "Zwemvereniging",
    "Hockeyclub",
    "Voetbalvereniging",
    "Basisschool",
    "Buurtvereniging",
    "Cultuurhuis",
)
_ORG_NAMES = (
    "De Meent",
    "Het Kruispunt",
    "Amstelland",
    "De Poel",
    "Het Zonnehuis",
    "De Bolder",
    "Oranje",
    "De Vlinder",
    "Het Anker",
    "'88",
    "Zuid",
    "Noord",
    "De Linde",
    "Het Bos",
    "Cobra",
    "De Hoeksteen",
    "Het Carillon",
    "De Regenboog",
    "Sint Urbanus",
    "Het Veen",
)
_NOUNS = (
    "gemeente",
    "bewoners",
    "wethouder",
    "raad",
    "plan",
    "project",
    "wijk",
    "straat",
    "park",
    "school",
    "vereniging",
    "college",
    "burgemeester",
    "politie",
    "brandweer",
    "bibliotheek",
    "ondernemers",
    "vrijwilligers",
    "kinderen",
    "ouderen",
    "jongeren",
    "voorstelling",
    "tentoonstelling",
    "wedstrijd",
    "seizoen",
    "begroting",
    "subsidie",
    "aanvraag",
    "bijeenkomst",
    "avond",
    "middag",
    "week",
    "maand",
    "jaar",
    "toekomst",
    "veiligheid",
    "duurzaamheid",
    "energie",
    "woningen",
    "nieuwbouw",
    "fietspad",
    "kruising",
    "tramlijn",
    "bushalte",
    "markt",
    "festival",
    "concert",
    "orkest",
    "museum",
    "collectie",
    "natuur",
    "bomen",
    "water",
    "dijk",
    "sportpark",
    "kunstgrasveld",
    "zwembad",
    "gezondheid",
    "zorg",
    "huisarts",
    "cultuur",
    "theater",
    "onderzoek",
    "resultaten",
    "ervaring",
    "informatie",
    "inwoners",
    "organisatie",
    "samenwerking",
    "ontwikkeling",
    "aanpak",
)
_ADJECTIVES = (
    "nieuwe",
    "grote",
    "kleine",
    "oude",
    "lokale",
    "jaarlijkse",
    "eerste",
    "laatste",
    "belangrijke",
    "bijzondere",
    "gratis",
    "extra",
    "duurzame",
    "veilige",
    "groene",
    "drukke",
    "rustige",
    "volgende",
    "gezamenlijke",
    "creatieve",
    "financiële",
    "culturele",
    "ideële",
    "coöperatieve",
)
_VERBS = (
    "opent",
    "start",
    "presenteert",
    "organiseert",
    "ontvangt",
    "zoekt",
    "vraagt",
    "meldt",
    "waarschuwt voor",
    "investeert in",
    "werkt aan",
    "kiest voor",
    "besluit over",
    "praat over",
    "viert",
    "steunt",
    "onderzoekt",
    "vernieuwt",
    "verbetert",
    "sluit",
)
_ADVERBS = (
    "binnenkort",
    "vandaag",
    "vanaf maandag",
    "dit voorjaar",
    "deze zomer",
    "na de zomer",
    "in het najaar",
    "komend weekend",
    "opnieuw",
    "voor het eerst",
    "samen met partners",
    "op verzoek van bewoners",
)
_CONNECTORS = ("Daarnaast", "Ook", "Volgens de organisatie", "Bovendien", "Tegelijkertijd", "Wel")
_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
_FIRST = datetime(2015, 1, 1)
_SPAN_DAYS = 12 * 365


@dataclass(frozen=True, slots=True)
class CorpusShape:
    """The categories and sources of a corpus of ``n`` articles, fixed by ``seed``."""

    categories: tuple[str, ...]  # "Nieuws -> Gemeente -> Westwijk"
    category_weights: tuple[float, ...]
    sources: tuple[str, ...]
    source_weights: tuple[float, ...]

    @classmethod
    def of(cls, n: int, seed: int) -> CorpusShape:
        rng = random.Random(f"shape-{seed}")
        wanted = max(15, min(600, round(2 * math.sqrt(n))))
        categories: list[str] = []
        seen: set[str] = set()
        while len(categories) < wanted:
            depth = rng.choices((1, 2, 3), weights=(1, 5, 3))[0]
            levels = [rng.choice(_TOP)]
            if depth >= 2:
                levels.append(rng.choice(_TOPICS))
            if depth >= 3:
                levels.append(rng.choice((*_PLACES, *_TOPICS)))
            path = " -> ".join(levels)
            if path not in seen:
                seen.add(path)
                categories.append(path)
        n_sources = max(10, min(400, round(1.5 * math.sqrt(n))))
        sources: list[str] = []
        source_set: set[str] = set()
        while len(sources) < n_sources:
            name = f"{rng.choice(_ORG_KINDS)} {rng.choice((*_ORG_NAMES, *_PLACES))}"
            if name not in source_set:
                source_set.add(name)
                sources.append(name)
        # Zipf-like popularity: a few busy categories and sources, a long tail of quiet ones.
        return cls(
            tuple(categories),
            tuple(1 / (rank + 1) ** 0.8 for rank in range(len(categories))),
            tuple(sources),
            tuple(1 / (rank + 1) ** 0.9 for rank in range(len(sources))),
        )


def _sentence(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        words = [
            rng.choice(("De", "Het", "Een")),
            rng.choice(_ADJECTIVES),
            rng.choice(_NOUNS),
            "in",
            rng.choice(_PLACES),
            rng.choice(_VERBS),
            rng.choice(("de", "het", "een")),
            rng.choice(_NOUNS),
            rng.choice(_ADVERBS),
        ]
    elif kind < 0.7:
        words = [
            rng.choice(_CONNECTORS),
            rng.choice(_VERBS).split()[0],
            "de",
            rng.choice(_NOUNS),
            "van",
            rng.choice(_PLACES),
            "een",
            rng.choice(_ADJECTIVES),
            rng.choice(_NOUNS),
            "voor",
            rng.choice(_NOUNS),
            "en",
            rng.choice(_NOUNS),
        ]
    elif kind < 0.85:
        words = [
            "'We",
            "willen",
            "met",
            "dit",
            rng.choice(_ADJECTIVES),
            rng.choice(_NOUNS),
            "de",
            rng.choice(_NOUNS),
            "versterken',",
            "aldus",
            rng.choice(("[wethouder]", "[burgemeester]", "de voorzitter", "de directeur")),
            rng.choice(("Jansen", "De Vries", "Bakker", "Visser", "Smit", "Meijer", "Yılmaz")),
        ]
    else:
        amount = rng.randint(2, 950)
        words = [
            "Het",
            "project",
            "kost",
            f"€ {amount},{rng.randint(0, 9)} miljoen" if amount < 20 else f"€ {amount}.000",
            "en",
            "loopt",
            "tot",
            f"{rng.randint(1, 28)} {rng.choice(_MONTHS)} {rng.randint(2025, 2030)}",
        ]
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(3, 7)))


def article_text(i: int, shape: CorpusShape, seed: int, *, revision: int = 0) -> str:
    """Article ``i`` of the corpus, as its file's text; ``revision`` > 0 gives an edited body."""
    rng = random.Random(f"article-{seed}-{i}")
    published = _FIRST + timedelta(
        days=rng.randrange(_SPAN_DAYS), minutes=rng.randrange(24 * 60) if rng.random() < 0.3 else 0
    )
    has_time = published.hour or published.minute
    category = rng.choices(shape.categories, weights=shape.category_weights)[0]
    source = (
        rng.choices(shape.sources, weights=shape.source_weights)[0] if rng.random() < 0.85 else None
    )
    title_words = [
        rng.choice(_ADJECTIVES).capitalize(),
        rng.choice(_NOUNS),
        rng.choice(_VERBS),
        rng.choice(_NOUNS),
        "in",
        rng.choice(_PLACES),
    ]
    lines: list[str] = []
    if rng.random() < 0.15:
        updated = published + timedelta(days=rng.randint(1, 30))
        lines += [f"Bijgewerkt: {updated.day} {_MONTHS[updated.month - 1]} {updated.year}", ""]
    lines += [" ".join(title_words), "", category, ""]
    if source is not None:
        lines.append(f"Bron: {source}")
    date = f"{published:%d-%m-%Y}" + (f" {published:%H:%M}" if has_time else "")
    lines += [date, ""]
    # Press releases: mostly 3 to 7 paragraphs, now and then a long one.
    count = min(12, 3 + int(rng.expovariate(0.35)))
    body = [_paragraph(rng) for _ in range(count)]
    if revision:
        body[0] = f"[Aangepast, versie {revision}] " + body[0]
    for paragraph in body:
        lines += [paragraph, ""]
    lines.append(DISCLAIMER)
    text = "\n".join(lines)
    if rng.random() < 0.3:
        text += "\n"
    if rng.random() < 0.05:
        text = text.replace("\n", "\r\n")
    if rng.random() < 0.02:
        text = "\ufeff" + text
    return text


def article_relpath(i: int, text: str) -> str:
    """``2019/004711_nieuwe-bomen-zoekt-subsidie.txt``: year folder of the published date."""
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    title_at = 1 if lines[0].startswith("Bijgewerkt:") else 0
    date_line = next(line for line in lines[title_at + 2 :] if line[:1].isdigit())
    year = date_line.split()[0].split("-")[2]
    slug = "-".join(lines[title_at].lower().split()[:4])
    slug = "".join(c for c in slug if c.isascii() and (c.isalnum() or c == "-"))
    return f"{year}/{i:06d}_{slug}.txt"


def generate(folder: Path, n: int, seed: int = 1) -> list[Path]:
    """Write the corpus to ``folder`` (reused when it already holds this exact corpus)."""
    marker = folder / MARKER
    wanted = {"n": n, "seed": seed, "version": FORMAT_VERSION}
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        return sorted(folder.rglob("*.txt"))
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shape = CorpusShape.of(n, seed)
    paths = []
    for i in range(n):
        text = article_text(i, shape, seed)
        path = folder / article_relpath(i, text)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    marker.write_text(json.dumps(wanted))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("-n", type=int, default=1000, help="number of articles")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    paths = generate(args.folder, args.n, args.seed)
    size = sum(path.stat().st_size for path in paths)
    shape = CorpusShape.of(args.n, args.seed)
    print(
        f"{len(paths)} articles in {args.folder} ({size / 1e6:.1f} MB, "
        f"{size / max(1, len(paths)) / 1024:.1f} KiB average), "
        f"{len(shape.categories)} category paths, {len(shape.sources)} sources"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
