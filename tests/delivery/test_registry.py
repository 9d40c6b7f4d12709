"""The registry of scheduled kinds is complete: every kind the bot schedules is declared once, with a
preparation, and the cancel rules say what the patient states need."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.delivery.kinds  # noqa: F401  (attaches the preparations)
from bot.delivery.registry import KINDS, cancelled_by_end, cancelled_by_pause

ROOT = Path(__file__).resolve().parents[2]


def scheduled_kinds() -> set[str]:
    """Every `kind="..."` given to outbox.schedule (or to a row dict for the batch inserts) in bot/."""
    found = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if "standin" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node.func, "attr", getattr(node.func, "id", "")) if isinstance(node, ast.Call) else ""
            if name in ("schedule", "dict"):
                found |= {kw.value.value for kw in node.keywords
                          if kw.arg == "kind" and isinstance(kw.value, ast.Constant)}
    return found


def test_every_scheduled_kind_is_declared_with_a_preparation():
    assert "weekly_summary" in scheduled_kinds() and scheduled_kinds() <= set(KINDS)
    for kind in KINDS.values():
        assert (kind.prepare is None) != (kind.prepare_batch is None), kind.name


def test_cancel_rules():
    assert set(cancelled_by_pause()) <= set(cancelled_by_end())
    assert {"alert", "staff_notice", "weekly_summary"}.isdisjoint(cancelled_by_end())  # they go to the clinic
    assert {"trial_notice", "trial_expire"}.isdisjoint(cancelled_by_pause())  # the trial runs out when paused
