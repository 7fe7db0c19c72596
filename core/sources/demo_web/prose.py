"""Real-looking news prose in six languages, from sentence templates and word banks.

Everything takes a `random.Random`, so the same seed always writes the same article. Also
writes the planted problems the refinery must find: near-copies, keyword spam, contact details.
"""

from __future__ import annotations

import random
import unicodedata

from core.sources.demo_web.words import ENGLISH, LANGUAGES

__all__ = ["ENGLISH", "LANGUAGES"]  # re-exported for the sites
PHONE_FORMATS = {
    "en": "+44 20 7946 {:04d}",
    "de": "+49 30 9018 {:04d}",
    "fr": "+33 1 42 68 {:02d} {:02d}",
    "es": "+34 912 345 {:03d}",
    "it": "+39 06 6982 {:04d}",
    "nl": "+31 20 555 {:04d}",
}
CONTACT_LINES = {
    "en": "Tips for our newsroom? Write to {email} or call {phone}.",
    "de": "Hinweise an die Redaktion? Schreiben Sie an {email} oder rufen Sie {phone} an.",
    "fr": "Une information pour la rédaction ? Écrivez à {email} ou appelez le {phone}.",
    "es": "¿Tiene una pista para la redacción? Escriba a {email} o llame al {phone}.",
    "it": "Segnalazioni alla redazione? Scrivete a {email} o chiamate il {phone}.",
    "nl": "Tips voor de redactie? Mail naar {email} of bel {phone}.",
}
SPAM_KEYWORDS = [
    "cheap watches",
    "replica handbags",
    "casino bonus",
    "weight loss pills",
    "cheap flights deals",
]
# Words a syndication partner's editor swaps, to make near-copies rather than exact copies.
EDITOR_SWAPS = {
    "en": {"said": "stated", "new": "fresh", "plan": "scheme", "clear": "marked", "many": "numerous"},
    "de": {"sagte": "betonte", "neuen": "frischen", "Plan": "Entwurf", "deutlichen": "klaren"},
    "fr": {"nouveau": "récent", "déclaré": "affirmé", "nette": "forte", "nombreux": "beaucoup de"},
    "es": {"nuevo": "reciente", "afirmó": "aseguró", "claro": "notable", "muchos": "numerosos"},
    "it": {"nuovo": "recente", "dichiarato": "affermato", "netto": "forte", "molti": "numerosi"},
    "nl": {"nieuw": "vernieuwd", "zei": "verklaarde", "duidelijke": "forse", "veel": "talrijke"},
}


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lowered(text: str) -> str:
    return text[:1].lower() + text[1:]


def person(bank: dict, rng: random.Random) -> str:
    return f"{rng.choice(bank['first_names'])} {rng.choice(bank['last_names'])}"


def _slots(bank: dict, rng: random.Random) -> dict[str, str]:
    subject, time = rng.choice(bank["subjects"]), rng.choice(bank["times"])
    return {
        "subject": subject,
        "subject_low": _lowered(subject),
        "verb": rng.choice(bank["verbs"]),
        "object": rng.choice(bank["objects"]),
        "time": time,
        "time_cap": _capitalised(time),
        "place": rng.choice(bank["places"]),
        "connector": rng.choice(bank["connectors"]),
    }


def sentence(bank: dict, rng: random.Random) -> str:
    if rng.random() < 0.15:
        return rng.choice(bank["quote_templates"]).format(
            quote=rng.choice(bank["quotes"]), person=person(bank, rng), role=rng.choice(bank["roles"])
        )
    return rng.choice(bank["templates"]).format(**_slots(bank, rng))


def paragraph(bank: dict, rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(bank, rng) for _ in range(sentences))


def paragraphs(bank: dict, rng: random.Random, count: int) -> list[str]:
    return [paragraph(bank, rng, rng.randint(3, 5)) for _ in range(count)]


def headline(bank: dict, rng: random.Random) -> str:
    return _capitalised(rng.choice(bank["headlines"]).format(**_slots(bank, rng)))


def ascii_slug(text: str, limit: int = 60) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    words = "".join(ch if ch.isalnum() else " " for ch in plain).split()
    return "-".join(words)[:limit].strip("-") or "article"


def contact_line(language: str, reporter: str, domain: str, rng: random.Random) -> str:
    """A sentence with an e-mail address and a phone number (PII the refinery should find)."""
    email = f"{ascii_slug(reporter).replace('-', '.')}@{domain}"
    if language == "fr":
        phone = PHONE_FORMATS["fr"].format(rng.randint(10, 99), rng.randint(10, 99))
    else:
        phone = PHONE_FORMATS[language].format(rng.randint(0, 999))
    return CONTACT_LINES[language].format(email=email, phone=phone)


def near_copy(original: list[str], language: str, rng: random.Random) -> list[str]:
    """The article as a partner republished it: one paragraph dropped and a few words changed."""
    kept = list(original)
    if len(kept) > 2:
        del kept[rng.randrange(1, len(kept))]
    swaps = EDITOR_SWAPS[language]
    edited = []
    for text in kept:
        words = text.split(" ")
        for position, word in enumerate(words):
            if word in swaps and rng.random() < 0.6:
                words[position] = swaps[word]
        edited.append(" ".join(words))
    return edited


def spam_paragraphs(rng: random.Random) -> tuple[str, list[str]]:
    """A keyword-stuffed SEO page: (title, paragraphs)."""
    keyword = rng.choice(SPAM_KEYWORDS)
    title = f"Best {keyword} online - {keyword} cheap - buy {keyword} now"
    filler = [
        f"buy {keyword}",
        f"{keyword} discount",
        f"best {keyword}",
        f"cheap {keyword} online",
        f"{keyword} free shipping",
        f"{keyword} sale",
        "click here",
        "limited offer",
    ]
    texts = []
    for _ in range(rng.randint(4, 7)):
        texts.append(" ".join(rng.choice(filler) for _ in range(rng.randint(25, 45))).capitalize() + ".")
    return title, texts
