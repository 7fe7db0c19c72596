"""Sentence parts for the demo news site, one module per language.

Every subject is singular and every phrase already carries its articles and case, so the
templates in `prose.py` can join them without grammar rules and the result reads as real text.
Keys: subjects, objects, verbs, times, places, templates, connectors, quote_templates, quotes,
roles, first_names, last_names, headlines, comments, and ui (the site chrome's words).
"""

from core.sources.demo_web.words import de, en, es, fr, it, nl

LANGUAGES: dict[str, dict] = {
    "en": en.WORDS,
    "de": de.WORDS,
    "fr": fr.WORDS,
    "es": es.WORDS,
    "it": it.WORDS,
    "nl": nl.WORDS,
}
ENGLISH = en.WORDS
