"""Itami Coach's decision rules: pure, stdlib-only, auditable. See docs/rules.md.

    from rules import Case, decide
    decision = decide(Case.from_json(obj))
"""

from rules.engine import MESSAGE_KEYS, REASONS, decide
from rules.limits import LIMITS, Limit, limits_broken
from rules.parsing import CaseError
from rules.programs import CONDITIONS, Exercise, Program, load_program
from rules.redflags import RedFlagError, RedFlagItem, RedFlags, Tier, load_redflags
from rules.request import parse_request
from rules.symptoms import detect_symptoms
from rules.thresholds import Thresholds
from rules.types import (
    ELEMENT_ORDER,
    MENU_FLAGS,
    MENU_GROUPS,
    URGENT_FLAGS,
    Action,
    Case,
    Decision,
    Element,
    Flag,
    SessionRecord,
    Stage,
)

__all__ = [
    "CONDITIONS",
    "ELEMENT_ORDER",
    "LIMITS",
    "MENU_FLAGS",
    "MENU_GROUPS",
    "MESSAGE_KEYS",
    "REASONS",
    "URGENT_FLAGS",
    "Action",
    "Case",
    "CaseError",
    "Decision",
    "Element",
    "Exercise",
    "Flag",
    "Limit",
    "Program",
    "RedFlagError",
    "RedFlagItem",
    "RedFlags",
    "SessionRecord",
    "Stage",
    "Thresholds",
    "Tier",
    "decide",
    "detect_symptoms",
    "limits_broken",
    "load_program",
    "load_redflags",
    "parse_request",
]
