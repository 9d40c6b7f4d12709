"""Reading what patients type: pain ratings, times and lists of item numbers, as a Japanese IME produces them."""

from __future__ import annotations

import re
import unicodedata

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def normalize(text: str) -> str:
    """NFKC folds full-width digits/colons/slashes (`３`, `：`, `／`) to ASCII; trims space."""
    return unicodedata.normalize("NFKC", text).strip()


def _kanji_number(text: str) -> int | None:
    """一..十, 十一..二十三 ... (enough for ratings and clock hours)."""
    if not text or any(ch not in _KANJI_DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return _KANJI_DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (_KANJI_DIGITS[tens] if tens else 1) * 10 + (_KANJI_DIGITS[ones] if ones else 0)


def _number(text: str) -> int | None:
    if text.isdigit() and text.isascii():
        return int(text)
    return _kanji_number(text)


# A rating as patients type it: the number, optionally out of 10 or with 点, with the few words people put
# around it (「２です」「2くらい」「たぶん3」「今は4かな」「痛みは5です」). Only these words: anything else
# (「2か3」「一番痛い」「3日前から」) is not a rating and gets the kind retry.
_NUM = r"[0-9]+|[〇零一二三四五六七八九十]+"
_BEFORE = r"(?:(?:今|いま)(?:は|の)?|痛みは|いたみは|たぶん|多分|だいたい|大体|およそ|約|う[ー〜~]+ん|えっと|えーと)"
_AFTER = (r"(?:くらい|ぐらい|位|程度|ほど|前後|かな|かなあ|かなぁ|かも|です|でした|だと思います|と思います|ですね|"
          r"ですかね|ですか|だね|だな|だよ|ですよ|ね|よ|な)")
_RATING = re.compile(
    rf"^(?:{_BEFORE}[、,\s]*)*(?P<n>{_NUM})\s*(?:/\s*10|点|てん)?\s*(?:{_AFTER})*[。.!?！？\s]*$")


def parse_rating(text: str) -> int | None:
    """A 0-10 pain rating from `3`, `３`, `3/10`, `３／１０`, `三`, `3点`, and with the words people type
    around it (`２です`, `2くらい`, `たぶん3`); None for anything else (11, -1, 3.5, `2か3`, other words,
    emoji)."""
    match = _RATING.match(normalize(text))
    if not match:
        return None
    value = _number(match["n"])
    return value if value is not None and 0 <= value <= 10 else None


# A list of item numbers as patients type it: 「1と3」「１、３」「1,3」「1・3」「1 3」「1番と3番です」「一と三」.
_LIST_SEP = re.compile(r"(?:[、,・/\s]|と|および|及び|か)+")
_LIST_END = re.compile(r"(?:です|でした|(?:が|に)?(?:当て|あて)はまります)?[。.!！\s]*$")


def parse_numbers(text: str) -> list[int] | None:
    """The numbers of a typed list (`1と3`, `１、３`, `1,3`, `1番と3番です`, `一と三`), each once, in the order typed;
    None when it is not a list of numbers (`13` is thirteen; `1-3`, other words and emoji are not read)."""
    body = _LIST_END.sub("", normalize(text))
    numbers: list[int] = []
    for part in _LIST_SEP.split(body):
        if not part:
            continue
        value = _number(part.removesuffix("番"))
        if value is None:
            return None
        numbers.append(value)
    return list(dict.fromkeys(numbers)) or None


_TIME = re.compile(
    r"^(?P<ampm>午前|午後|朝|夕方|夜|am|pm)?\s*(?P<h>[0-9]{1,2}|[〇零一二三四五六七八九十]+)"
    r"(?:\s*(?::|時)\s*(?P<m>[0-9]{1,2}|[〇零一二三四五六七八九十]+|半)?\s*分?)?\s*(?P<ampm2>am|pm)?"
    r"(?:ごろ|頃|くらい|ぐらい)?$",  # the signup asks 何時ごろ: `19時ごろ` is a natural answer
    re.IGNORECASE,
)


def parse_time(text: str) -> str | None:
    """"HH:MM" from `7:30`, `７：３０`, `19時`, `１９時`, `19時半`, `午後7時`, `7時30分`, `7pm`, `19時ごろ`; else None.
    """
    match = _TIME.match(normalize(text).replace(" ", ""))
    if not match:
        return None
    hour = _number(match["h"])
    minute_text = match["m"]
    minute = 30 if minute_text == "半" else (_number(minute_text) if minute_text else 0)
    if hour is None or minute is None:
        return None
    ampm = (match["ampm"] or match["ampm2"] or "").lower()
    if ampm in ("午後", "pm") and 0 <= hour <= 11:  # 午後0時 is noon
        hour += 12
    elif ampm in ("夕方", "夜") and 1 <= hour <= 11:
        hour += 12
    elif ampm in ("午前", "am", "夜") and hour == 12:  # 午前12時 and 夜12時 are midnight
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return f"{hour:02d}:{minute:02d}"


# Characters never allowed in a name: they hide or reorder text where clinicians read it (/patients,
# summaries, exports). Control (Cc: newlines, tabs ...), format (Cf: bidi overrides U+202A-202E and isolates
# U+2066-2069, marks U+200E/F, zero-width U+200B-200D, U+2060, U+FEFF ...), separators U+2028/9 (Zl, Zp),
# surrogates, private use and unassigned code points.
_NOT_IN_NAMES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
NAME_MAX = 20


def parse_name(text: str, max_length: int = NAME_MAX) -> str | None:
    """The one check for every name, typed or taken from Telegram: 1..max_length characters once spaces are
    collapsed, and no control, bidi, zero-width or line-breaking characters. None when it is not usable."""
    if any(unicodedata.category(ch) in _NOT_IN_NAMES for ch in text):
        return None
    name = " ".join(text.split())
    return name if 1 <= len(name) <= max_length else None


_CONTINUE = re.compile(r"^(?:続け(?:る|ます|たい|ます)?|つづけ(?:る|ます)?|継続(?:します|する)?)(?:です)?[。.!！\s]*$")
_END = re.compile(r"^(?:終了(?:します|する)?|終わ(?:る|ります|りにします)|やめ(?:る|ます)|止め(?:る|ます))[。.!！\s]*$")


def parse_trial_answer(text: str) -> str | None:
    """The end-of-trial question answered in words: "continue" (続ける, 続けます, 継続) or "end" (終了, やめます); None
    for anything else. On LINE the question's quick replies are gone once another message arrives."""
    word = normalize(text)
    if _CONTINUE.match(word):
        return "continue"
    if _END.match(word):
        return "end"
    return None
