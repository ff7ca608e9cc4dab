"""What people read when something goes wrong: a Dutch title and explanation per status code.

Werkzeug's own descriptions are English and technical; ours replace them unless a route
raised the error with a message of its own (always Dutch, and never an internal id).
"""

from __future__ import annotations

from werkzeug.exceptions import HTTPException

_TITLES = {
    400: "Dit verzoek begrijpen we niet",
    403: "Hier mag je niet komen",
    404: "Deze pagina bestaat niet",
    405: "Dat kan hier niet",
    406: "Dit formaat hebben we niet",
    410: "Deze pagina is weg",
    413: "Dat is te veel",
    414: "Dit adres is te lang",
    429: "Even rustig aan",
    500: "Er ging iets mis",
    501: "Dat kunnen we (nog) niet",
    503: "Even niet beschikbaar",
}
_MESSAGES = {
    400: "Er klopt iets niet aan het adres of de gegevens die je browser stuurde.",
    404: "Misschien is het adres verkeerd overgenomen, of bestaat deze pagina niet meer.",
    405: "Deze pagina kun je alleen bekijken, niet op deze manier gebruiken.",
    500: "Dat is onze fout, niet de jouwe. Probeer het later nog eens.",
    503: "De site is even bezet. Probeer het over een paar minuten opnieuw.",
}
_FALLBACK_TITLE = "Er ging iets mis"
_FALLBACK_MESSAGE = "Probeer het later nog eens, of ga terug naar de voorpagina."


def title(code: int | None) -> str:
    """A short Dutch heading for status ``code``."""
    return _TITLES.get(code or 500, _FALLBACK_TITLE)


def message(error: HTTPException) -> str:
    """The route's own (Dutch) description, or a friendly Dutch one for Werkzeug's default."""
    description = error.description or ""
    if not description or description == type(error).description:
        return _MESSAGES.get(error.code or 500, _FALLBACK_MESSAGE)
    return description
