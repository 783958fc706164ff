"""Find a platform the way customers type: any case, part of a name, a category (its identifier or its name in
the active language), an alias, small typos."""

import difflib
import re
import unicodedata

from .categories import category_name
from .models import Platform

_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    # "Comércio" and "comercio" are the same word to someone typing fast.
    plain = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return _WORD.findall(plain)


def search_platforms(query: str, platforms=None) -> list[Platform]:
    if platforms is None:
        # The list shows and searches these; the rest of a platform (its boxes, notes) waits for its choice.
        platforms = Platform.objects.only("slug", "name", "category", "aliases")
    platforms = list(platforms)
    terms = _words(query)
    if not terms:
        return platforms
    scored = []
    for platform in platforms:
        haystack = " ".join(
            [
                platform.name,
                platform.category,
                category_name(platform.category),
                platform.aliases,
                platform.slug,
            ]
        )
        words = set(_words(haystack))
        joined = " ".join(_words(haystack))
        score = 0.0
        for term in terms:
            if term in words:
                score += 3
            elif term in joined:
                score += 2
            elif difflib.get_close_matches(term, words, n=1, cutoff=0.75):
                score += 1
            else:
                score = 0
                break
        if score:
            scored.append((-score, platform.name.lower(), platform))
    return [platform for *_, platform in sorted(scored, key=lambda item: item[:2])]
