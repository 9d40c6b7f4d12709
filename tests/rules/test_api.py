"""The names the bot codes against, and their JSON forms."""

from __future__ import annotations

import datetime as dt

import pytest


def test_public_api() -> None:
    from rules import (  # noqa: F401 - the import is the test
        CONDITIONS,
        MENU_FLAGS,
        MENU_GROUPS,
        URGENT_FLAGS,
        Action,
        Case,
        CaseError,
        Decision,
        Element,
        Flag,
        Program,
        SessionRecord,
        Stage,
        Thresholds,
        decide,
        load_program,
    )

    assert CONDITIONS == ("low_back", "knee", "both")
    assert URGENT_FLAGS == {Flag.BLADDER_BOWEL, Flag.SADDLE_NUMBNESS, Flag.CHEST_PAIN, Flag.BREATHLESSNESS,
                            Flag.FAINT_DIZZY, Flag.LEG_WEAKNESS_WORSENING}
    assert tuple(Element.ORDER) == (Element.ROM, Element.REPS, Element.LOAD, Element.SPEED)
    assert [a.value for a in Action] == ["progress", "hold", "step_back", "stop"]
    # the check-in's two steps: every flag in exactly one group; no step above LINE's 13 quick replies
    assert sorted(MENU_FLAGS) == sorted(Flag) and len(MENU_FLAGS) == len(set(MENU_FLAGS)) == 19
    assert len(MENU_GROUPS) + 1 <= 13 and all(len(g) + 2 <= 13 for g in MENU_GROUPS.values())


def test_case_error_names_the_field() -> None:
    from rules import Case, CaseError

    with pytest.raises(CaseError) as info:
        Case.from_json({"today": "2026-11-25", "stage": "during", "levels": {"rom": 1, "reps": 1, "load": 1,
                        "speed": 1}, "max_levels": {"rom": 3, "reps": 5, "load": 4, "speed": 3},
                        "sessions": [{"date": "2026-11-25"}, {"date": "2026-11-25", "during": 3.5}]})
    assert info.value.field == "sessions[1].during"
    assert info.value.message == "rating must be an integer 0-10, got 3.5"


def test_session_record_normalises_strings() -> None:
    from rules import Action, Flag, SessionRecord

    s = SessionRecord(date="2026-11-25", flags=["fever"], level_change="step_back")  # type: ignore[arg-type]  # on purpose: plain strings, as JSON gives them
    assert s.date == dt.date(2026, 11, 25) and s.flags == {Flag.FEVER} and s.level_change is Action.STEP_BACK


def test_direct_construction_is_validated() -> None:
    from rules import Case, CaseError, Element, Stage

    ones = dict.fromkeys(Element, 1)
    with pytest.raises(CaseError, match=r"levels.rom: level must be between 1 and 1, got 2"):
        Case(dt.date(2026, 11, 25), Stage.BEFORE, {**ones, Element.ROM: 2}, ones)
