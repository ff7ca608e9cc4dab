"""A synthetic corpus: N realistic article files in the editors' format, for the benchmarks.

Deterministic for a given ``(n, seed)``: article ``i`` is always the same text, so a corpus can be
regenerated, cached under /tmp and edited one article at a time. What makes it realistic:

- the real file format (``Bijgewerkt:``, title, category path, ``Bron:``, date, paragraphs, the
  disclaimer) with every variant the README's "Article files" section accepts, in these
  proportions (each drawn independently per article):

  - published date (``DATE_FORMS``): ``DD-MM-YYYY`` 40%, without leading zeros (``3-2-2025``)
    10%, ``DD/MM/YYYY`` 5%, ``DD.MM.YYYY`` 5%, full month name (``3 maart 2025``) 15%,
    abbreviated with a period (``3 mrt. 2025``) 7% and without (``12 okt 2025``) 6% (September
    as ``sept``/``sept.`` half the time), month capitalised (``3 Maart 2025``) 3% or in capitals
    (``3 MAART 2025``) 3%; beyond the README, labelled (``Datum: 03-02-2025``) 3% and with the
    weekday (``maandag 3 februari 2025``, read by dateutil) 3%;
  - a time on 30% of published dates (``TIME_FORMS``): `` 09:30`` 70%, ``, 09:30`` 10%,
    `` om 9:30 uur`` 10%, `` 09.30`` 10% (numeric dates only);
  - ``Bijgewerkt:`` on 20% of articles, its date drawn from the same forms (a time on 20%; the
    labelled form counts as ``DD-MM-YYYY``),
    spelt ``Bijgewerkt:`` 90%, ``bijgewerkt:`` 5%, ``BIJGEWERKT :`` 5%, as the first line 80% of
    the time and after the date 20%;
  - ``Bron:`` on 85% of articles, before the date 75% of the time and after it 25%;
  - blank lines between header lines: none 45%, one 50%, two 5%; trailing white space on the
    header lines of 5% of articles;
  - titles with a year in them (``Begroting 2026 …``) 8%, with another number 5%;
  - line endings LF 80%, CRLF 15%, CR 5%; a final line break 70%; UTF-8 93%, UTF-8 with a BOM
    5%, Windows-1252 2% (read with a warning);
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
FORMAT_VERSION = 3  # bump when the generated text changes, so cached corpora are regenerated
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


_ABBREVIATIONS = (
    "jan",
    "feb",
    "mrt",
    "apr",
    "mei",
    "jun",
    "jul",
    "aug",
    "sep",
    "okt",
    "nov",
    "dec",
)
_WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
# How a date line is written: (form, weight in percent). The README's "Article files" section
# lists every form below but the last two, which the parser still reads (through dateutil).
DATE_FORMS = (
    ("DD-MM-YYYY", 40),
    ("D-M-YYYY", 10),  # no leading zeros
    ("DD/MM/YYYY", 5),
    ("DD.MM.YYYY", 5),
    ("D maand YYYY", 15),  # full month name
    ("D mnd. YYYY", 7),  # abbreviated with a period (September: "sept." half the time)
    ("D mnd YYYY", 6),  # abbreviated without a period (September: "sept" half the time)
    ("D Maand YYYY", 3),  # the month capitalised
    ("D MAAND YYYY", 3),  # a line typed in capitals
    ("Datum: DD-MM-YYYY", 3),  # labelled
    ("weekdag D maand YYYY", 3),  # with the weekday
)
# How a time is added, when the article has one (30% of published dates, 20% of Bijgewerkt).
TIME_FORMS = (
    (" HH:MM", 70),
    (", HH:MM", 10),
    (" om H:MM uur", 10),
    (" HH.MM", 10),  # numeric dates only; a worded date takes " HH:MM" instead
)


def _weighted(rng: random.Random, forms: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([form for form, _ in forms], weights=[weight for _, weight in forms])[0]


def _date_line(rng: random.Random, when: datetime, with_time: bool, *, label: bool = True) -> str:
    form = _weighted(rng, DATE_FORMS)
    if form == "Datum: DD-MM-YYYY" and not label:
        form = "DD-MM-YYYY"
    day, month, year = when.day, when.month, when.year
    if form == "DD-MM-YYYY":
        text = f"{day:02d}-{month:02d}-{year}"
    elif form == "D-M-YYYY":
        text = f"{day}-{month}-{year}"
    elif form == "DD/MM/YYYY":
        text = f"{day:02d}/{month:02d}/{year}"
    elif form == "DD.MM.YYYY":
        text = f"{day:02d}.{month:02d}.{year}"
    elif form == "Datum: DD-MM-YYYY":
        text = f"Datum: {day:02d}-{month:02d}-{year}"
    elif form.startswith(("D mnd", "weekdag")) or "aand" in form or "AAND" in form:
        name = _MONTHS[month - 1]
        if form.startswith("D mnd"):
            name = _ABBREVIATIONS[month - 1]
            if month == 9 and rng.random() < 0.5:
                name = "sept"
            if form == "D mnd. YYYY":
                name += "."
        elif form == "D Maand YYYY":
            name = name.capitalize()
        elif form == "D MAAND YYYY":
            name = name.upper()
        text = f"{day} {name} {year}"
        if form.startswith("weekdag"):
            text = f"{_WEEKDAYS[when.weekday()]} {text}"
    else:
        raise AssertionError(form)
    if with_time:
        time = _weighted(rng, TIME_FORMS)
        if time == " HH.MM" and text[-5] not in "-/.":
            time = " HH:MM"
        text += {
            " HH:MM": f" {when:%H:%M}",
            ", HH:MM": f", {when:%H:%M}",
            " om H:MM uur": f" om {when.hour}:{when:%M} uur",
            " HH.MM": f" {when:%H.%M}",
        }[time]
    return text


def _title(rng: random.Random, published: datetime) -> str:
    words = [
        rng.choice(_ADJECTIVES).capitalize(),
        rng.choice(_NOUNS),
        rng.choice(_VERBS),
        rng.choice(_NOUNS),
        "in",
        rng.choice(_PLACES),
    ]
    kind = rng.random()
    if kind < 0.08:  # "Begroting 2027 aangenomen": a year that does not make the title a date
        words.insert(2, str(published.year + rng.choice((0, 1))))
    elif kind < 0.13:  # "450 woningen", "18 maart": numbers that are not a year
        words.insert(1, rng.choice((str(rng.randint(2, 950)), f"{published.day} {_MONTHS[0]}")))
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class ArticleFile:
    """One generated article: its path in the corpus and its bytes, as an editor saved them."""

    relpath: str
    data: bytes


def article_file(i: int, shape: CorpusShape, seed: int, *, revision: int = 0) -> ArticleFile:
    """Article ``i`` of the corpus; ``revision`` > 0 gives an edited body (same path)."""
    rng = random.Random(f"article-{seed}-{i}")
    with_time = rng.random() < 0.3
    published = _FIRST + timedelta(
        days=rng.randrange(_SPAN_DAYS), minutes=rng.randrange(24 * 60) if with_time else 0
    )
    category = rng.choices(shape.categories, weights=shape.category_weights)[0]
    source = (
        rng.choices(shape.sources, weights=shape.source_weights)[0] if rng.random() < 0.85 else None
    )
    title = _title(rng, published)
    updated_line = None
    late_updated = False
    if rng.random() < 0.2:
        updated = published + timedelta(days=rng.randint(1, 30), minutes=rng.randrange(24 * 60))
        label = _weighted(rng, (("Bijgewerkt: ", 90), ("bijgewerkt: ", 5), ("BIJGEWERKT : ", 5)))
        updated_line = label + _date_line(rng, updated, rng.random() < 0.2, label=False)
        late_updated = rng.random() < 0.2
    date_line = _date_line(rng, published, with_time)
    header: list[str] = []
    if updated_line is not None and not late_updated:
        header.append(updated_line)
    header += [title, category]
    tail = [date_line]
    if source is not None:
        # Bron before the date (as the README shows it) three times in four, else after it.
        tail.insert(0 if rng.random() < 0.75 else 1, f"Bron: {source}")
    if updated_line is not None and late_updated:
        tail.append(updated_line)
    header += tail
    # Blank lines between header lines: none, one, or now and then two.
    blanks = _weighted(rng, (("", 45), ("\n", 50), ("\n\n", 5)))
    trailing = " \t" if rng.random() < 0.05 else ""
    lines = ["\n".join(line + trailing + blanks for line in header), ""]
    # Press releases: mostly 3 to 7 paragraphs, now and then a long one.
    count = min(12, 3 + int(rng.expovariate(0.35)))
    body = [_paragraph(rng) for _ in range(count)]
    if revision:
        body[0] = f"[Aangepast, versie {revision}] " + body[0]
    for paragraph in body:
        lines += [paragraph, ""]
    lines.append(DISCLAIMER)
    text = "\n".join(lines)
    if rng.random() < 0.7:
        text += "\n"
    ending = _weighted(rng, (("\n", 80), ("\r\n", 15), ("\r", 5)))
    if ending != "\n":
        text = text.replace("\n", ending)
    encoding = _weighted(rng, (("utf-8", 93), ("utf-8-sig", 5), ("cp1252", 2)))
    slug = "-".join(title.lower().split()[:4])
    slug = "".join(c for c in slug if c.isascii() and (c.isalnum() or c == "-"))
    if encoding == "cp1252":
        text = text.replace("ı", "i")  # not in Windows-1252: such an editor would type "i"
    data = text.encode(encoding)
    return ArticleFile(f"{published.year}/{i:06d}_{slug}.txt", data)


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
        article = article_file(i, shape, seed)
        path = folder / article.relpath
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(article.data)
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
