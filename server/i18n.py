"""The message catalogue: every user-facing string, Vietnamese first, English second.

Catalogues are flat JSON files under ``server/locale/<lang>/*.json`` (one file per area,
merged at load) with ``{name}`` placeholders. The web client bundles the same files.
Lookups fall back to Vietnamese, then to the key itself, so a missing string shows up
as a key rather than crashing a screen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources

LANGUAGES = ("vi", "en")
DEFAULT = "vi"


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    merged: dict[str, str] = {}
    folder = resources.files("server") / "locale" / lang
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".json"):
            merged.update(json.loads(entry.read_text(encoding="utf-8")))
    return merged


class _Safe(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(key: str, lang: str = DEFAULT, **params: object) -> str:
    """The message for ``key`` in ``lang`` with ``params`` filled in."""
    lang = lang if lang in LANGUAGES else DEFAULT
    text = catalogue(lang).get(key) or catalogue(DEFAULT).get(key) or key
    return text.format_map(_Safe(params))


def negotiate(requested: str | None) -> str:
    """The supported language closest to ``requested`` ("en-GB" → "en")."""
    if requested:
        base = requested.split(",")[0].split("-")[0].strip().lower()
        if base in LANGUAGES:
            return base
    return DEFAULT
