"""Every user-facing string comes from locales/<lang>/LC_MESSAGES/messages.po (Japanese first).

Message ids are stable keys (e.g. ``decision.progress``); the .po file holds the text, with
``{placeholders}`` filled by :func:`t`. Clinics edit the .po file (Poedit or any editor); no compile step.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

_PACKAGE = Path(__file__).resolve().parent
# An installed wheel carries the catalogues inside the package (bot/locales/, copied by build_hooks.py);
# a source checkout (also an editable install) reads the repository's top-level locales/.
LOCALES = _PACKAGE / "locales" if (_PACKAGE / "locales").is_dir() else _PACKAGE.parent / "locales"
DEFAULT_LANGUAGE = "ja"


@cache
def catalog(language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    path = LOCALES / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        po = read_po(fh, locale=language)
    # ids and texts are plain strings (no plural forms in this catalogue)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def t(key: str, /, **params: object) -> str:
    """The text for `key`, formatted with `params`. A missing key is logged and shown as the key.
    (No `language` argument: one would take a message's parameter of that name; there is one language.)"""
    text = catalog(DEFAULT_LANGUAGE).get(key)
    if text is None:
        log.error("missing message %s in locale %s", key, DEFAULT_LANGUAGE)
        return key
    return text.format(**params) if params else text


def has(key: str, language: str = DEFAULT_LANGUAGE) -> bool:
    return key in catalog(language)
