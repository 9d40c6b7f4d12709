"""What patients type, as a Japanese IME produces it: pain ratings and clock times."""

from __future__ import annotations

import pytest

from bot.parsing import normalize, parse_numbers, parse_rating, parse_time, parse_trial_answer


@pytest.mark.parametrize(("text", "expected"), [
    ("0", 0), ("3", 3), ("10", 10), (" 3 ", 3), ("03", 3),
    ("３", 3), ("１０", 10), ("０", 0),                      # full-width digits
    ("三", 3), ("〇", 0), ("零", 0), ("十", 10),              # kanji
    ("3/10", 3), ("３／１０", 3), ("3 / 10", 3), ("10/10", 10), ("三/10", 3),
    ("3点", 3), ("３点", 3), ("3てん", 3), ("十点", 10),
    # with the words people type around the number
    ("3です", 3), ("２です", 2), ("2くらい", 2), ("2ぐらいです", 2), ("たぶん3", 3), ("多分３です。", 3),
    ("今は4かな", 4), ("今は、4かな", 4), ("痛みは5です", 5), ("三です", 3), ("10点です", 10), ("3/10です", 3),
    ("うーん、4かな", 4), ("約3", 3), ("5です！", 5), ("3ぐらいかな？", 3), ("今は十です", 10),
])
def test_parse_rating_accepts(text, expected):
    assert parse_rating(text) == expected


@pytest.mark.parametrize("text", [
    "", " ", "11", "１１", "十一", "100", "-1", "−1", "3.5", "３．５", "2-3", "3/5", "3/", "/10",
    "abc", "三つ", "痛い", "😀", "3😀", "NaN", "٣", "1e1", "0x3", "3 4",
    # ambiguous or not a rating: two numbers, out of range, other words
    "2か3", "2〜3", "12です", "十一です", "一番痛い", "3日前から", "息子は3", "3時", "ー3",
])
def test_parse_rating_rejects(text):
    assert parse_rating(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("7:30", "07:30"), ("07:30", "07:30"), ("7:05", "07:05"), ("0:00", "00:00"), ("23:59", "23:59"),
    ("７：３０", "07:30"), ("１９：００", "19:00"),             # full-width
    ("19時", "19:00"), ("１９時", "19:00"), ("7時", "07:00"), ("7時30分", "07:30"), ("１９時３０分", "19:30"),
    ("19時半", "19:30"), ("七時半", "07:30"), ("十九時", "19:00"), ("二十三時", "23:00"),
    ("午後7時", "19:00"), ("午後７時", "19:00"), ("午後7時半", "19:30"), ("午後7:30", "19:30"),
    ("午前7時", "07:00"), ("午前12時", "00:00"), ("午後0時", "12:00"),  # 午後0時 is noon
    ("朝6時", "06:00"), ("夕方6時", "18:00"), ("夜8時", "20:00"), ("夜12時", "00:00"),
    ("7pm", "19:00"), ("7 pm", "19:00"), ("7PM", "19:00"), ("７ｐｍ", "19:00"), ("7:30pm", "19:30"),
    ("12am", "00:00"), ("12pm", "12:00"), ("9", "09:00"),
    ("19時ごろ", "19:00"), ("19時頃", "19:00"), ("7時半ごろ", "07:30"),  # signup asks 何時ごろ
])
def test_parse_time_accepts(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", [
    "", "abc", "そのうち", "午後", "時", "24:00", "25時", "7:60", "7.30", "7-30", "二十四時", "三十時",
    "19時99分", "7:3:0", "ごろ", "😀",
])
def test_parse_time_rejects(text):
    assert parse_time(text) is None


def test_normalize_folds_full_width_and_trims():
    assert normalize("　３／１０　") == "3/10"
    assert normalize("７：３０") == "7:30"


# --- names -------------------------------------------------------------------------------------------
from bot.parsing import NAME_MAX, parse_name  # noqa: E402


@pytest.mark.parametrize("text, expected", [
    ("はなこ", "はなこ"), ("  山田　花子  ", "山田 花子"), ("Hanako 🌸", "Hanako 🌸"), ("$\\x$", "$\\x$"),
    ("あ" * NAME_MAX, "あ" * NAME_MAX),
])
def test_usable_names_are_kept_with_spaces_collapsed(text, expected):
    assert parse_name(text) == expected


@pytest.mark.parametrize("text", [
    "", "   ", "あ" * (NAME_MAX + 1), "はな\nこ", "はな\rこ", "はな\tこ", "はな\x00こ", "はな\x1bこ",
    *(f"はな{chr(c)}こ" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)),  # bidi
    *(f"はな{chr(c)}こ" for c in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)),  # zero width
    "はな\u2028こ", "はな\u2029こ", "はな\ue000こ",  # line/paragraph separators, private use
])
def test_names_with_hidden_or_line_breaking_characters_or_bad_length_are_refused(text):
    assert parse_name(text) is None


def test_longer_limits_for_other_names():
    assert parse_name("あ" * 64, 64) == "あ" * 64 and parse_name("あ" * 65, 64) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("1と3", [1, 3]), ("１、３", [1, 3]), ("1,3", [1, 3]), ("１，２，３。", [1, 2, 3]), ("1・3", [1, 3]),
    ("1 3", [1, 3]), ("1番と3番です", [1, 3]), ("一と三", [1, 3]), ("3", [3]), ("3です", [3]),
    ("1と3が当てはまります", [1, 3]),
    ("3と1と3", [3, 1]), ("13", [13]), ("0と12", [0, 12]),  # out of range is the screen's to say
])
def test_parse_numbers_reads_a_typed_list(text, expected):
    assert parse_numbers(text) == expected


@pytest.mark.parametrize("text", ["", "いいえ", "1-3", "1〜3", "3.5", "たぶん", "👍"])
def test_parse_numbers_rejects_what_is_not_a_list_of_numbers(text):
    assert parse_numbers(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("続ける", "continue"), ("続けます。", "continue"), ("つづける", "continue"), ("継続", "continue"),
    ("終了", "end"), ("やめます", "end"), ("終わります", "end"),
    ("続けるかどうか迷っています", None), ("3", None), ("", None), ("終了時間を変えたい", None),
])
def test_the_trial_s_end_question_in_words(text, expected):
    assert parse_trial_answer(text) == expected
