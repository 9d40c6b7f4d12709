"""The red-flag check-in's buttons (bot/handlers/checkin.py): two steps within LINE's 13 quick replies, and typed
words always lead to a button for what they suggest."""

from __future__ import annotations

from bot import callbacks
from bot.handlers import checkin
from rules import MENU_GROUPS, load_redflags
from rules.redflags import ITEM_FLAGS


def test_each_step_has_at_most_13_buttons_that_parse():
    menus = [checkin.flag_menu(), *(checkin.group_menu(g) for g in MENU_GROUPS)]
    for menu in menus:
        data = [d for row in menu.buttons for _, d in row]
        assert len(data) <= 13 and all(callbacks.RedFlag.parse(d) is not None for d in data)


def test_every_item_typed_words_can_suggest_has_a_button():
    """An item with phrases is a Flag's item, or the check-in names the buttons nearest to it."""
    for item in load_redflags().items:
        if item.phrases:
            assert item.id in ITEM_FLAGS or item.id in checkin._SUGGESTS, item.id
