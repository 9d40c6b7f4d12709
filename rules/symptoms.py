"""One symptom-phrase detector: which red-flag items a free-text message suggests.

    detect_symptoms("今日は足がしびれています")  ->  frozenset({"new_numbness"})

The phrases and the exclusions are catalogue data (rules/redflags.toml). Matching is on a normalised text
(NFKC, katakana as hiragana, lower case, no spaces), so ｼﾋﾞﾚ, シビレ and しびれ are one word. Excluded words
(息子, 便利, 郵便, 熱心 ...) are blanked out first. A phrase directly denied (「しびれはありません」,
「熱がない」) does not count; anything else does: a false alarm only opens the check-in, a miss could hide
an emergency. Fever is also found as a temperature (37.5度 and up).
"""

from __future__ import annotations

import re
import unicodedata

from rules.redflags import RedFlags, load_redflags

# Right after a noun phrase: は/も + a denial. Right after a phrase ending in が: a denial.
_DENIED_AFTER_NOUN = re.compile(r"^(は|も)(ない|ありません|ありませ|なし|無い|無し|しません|ないです|なかった)")
_DENIED_AFTER_GA = re.compile(r"^(ない|ありません|なし|無い|無し|ないです|なかった)")
_TEMPERATURE = re.compile(r"(3[7-9]|4[0-2])(\.[0-9])?(度|℃|°)")
FEVER_ITEM = "fever"


def normalise(text: str) -> str:
    """NFKC, katakana -> hiragana, lower case, whitespace removed."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)
    return re.sub(r"\s+", "", text)


def detect_symptoms(text: str, catalogue: RedFlags | None = None) -> frozenset[str]:
    """The ids of the catalogue items whose phrases `text` contains (not excluded, not denied)."""
    cat = load_redflags() if catalogue is None else catalogue
    body = normalise(text)
    for word in sorted((normalise(w) for w in cat.exclude), key=len, reverse=True):
        body = body.replace(word, "\u3000" * len(word))  # same length, never part of a phrase
    found = {item.id for item in cat.items if any(_present(body, normalise(p)) for p in item.phrases)}
    if FEVER_ITEM in cat and _TEMPERATURE.search(body):
        found.add(FEVER_ITEM)
    return frozenset(found)


def _present(body: str, phrase: str) -> bool:
    """`phrase` occurs in `body` at least once without being denied right after it."""
    start = body.find(phrase)
    while start >= 0:
        rest = body[start + len(phrase):]
        denied = _DENIED_AFTER_GA.match(rest) if phrase.endswith("が") else _DENIED_AFTER_NOUN.match(rest)
        if not denied:
            return True
        start = body.find(phrase, start + 1)
    return False
