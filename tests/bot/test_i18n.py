"""The Japanese catalogue is complete: every key the code (and the rules) can ask for has a text, and no
text uses a {placeholder} the code does not fill in."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import get_args

import pytest

from bot import alerts
from bot.callbacks import BookingChoice
from bot.coaching.controls import ACTIONS as CONTROL_ACTIONS
from bot.coaching.lessons import COUNT as LESSONS
from bot.coaching.progress import CHEERS, MILESTONES
from bot.handlers.patient_settings import FIELDS
from bot.i18n import catalog, has, t
from bot.menus import ADMIN, CLINICIAN, PATIENT
from bot.reports.charts import DECISION_STYLE
from bot.reports.summary import ATTENTION, LIMITS, TIERS
from bot.reports.text import STOP_REASONS
from bot.storage.reports import NOTABLE_HOLDS
from bot.storage.sessions import RATING_KINDS
from rules import CONDITIONS, MENU_GROUPS, MESSAGE_KEYS, Action, Element, Flag, Tier, decide, load_redflags
from rules.engine import EXPECTED
from rules.outcomes import OCCASIONS
from tests.rules.helpers import S, case

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for p in (ROOT / "bot").rglob("*.py") if "standin" not in p.parts)
SESSION_STATUSES = ("planned", "started", "done", "skipped", "missed", "stopped")
STAFF_EVENTS = ("signup_done", "signup_red_flag", "rejoined", "booking")


def _calls() -> list[tuple[str, bool, frozenset[str], str]]:
    """Every `t(...)` call in bot/: (key or f-string prefix, is_prefix, keyword names, where)."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t"
                    and node.args):
                continue
            params = frozenset(k.arg for k in node.keywords if k.arg)
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            arg = node.args[0]
            options = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
            for opt in options:
                if isinstance(opt, ast.Constant) and isinstance(opt.value, str):
                    found.append((opt.value, False, params, where))
                elif isinstance(opt, ast.JoinedStr) and opt.values and isinstance(opt.values[0], ast.Constant):
                    found.append((opt.values[0].value, True, params, where))
    return found


CALLS = _calls()
LITERAL_KEYS = sorted({key for key, prefix, _, _ in CALLS if not prefix})
PREFIXES = sorted({key for key, prefix, _, _ in CALLS if prefix})

# The keys built at run time (f-strings, keys held in variables), by family.
FAMILIES: dict[str, list[str]] = {
    "condition.": [f"condition.{c}" for c in CONDITIONS],
    "signup.": ["signup.falls", "signup.unsteady"],  # the fall-risk questions (handlers/signup.question)
    "signup.fall_risk.": [f"signup.fall_risk.{k}" for k in ("none", "falls", "unsteady")],
    "flag.": [f"flag.{f}" for f in Flag],
    "checkin.group.": [f"checkin.group.{g}" for g in MENU_GROUPS],
    "command.": [f"command.{c}" for c in PATIENT + CLINICIAN + ADMIN],
    "history.status.": [f"history.status.{s}" for s in SESSION_STATUSES],
    "today.status.": [f"today.status.{s}" for s in (*SESSION_STATUSES, "none")],
    "rating.": sorted({f"rating.{r}" for names in EXPECTED.values() for r in names}),  # decision.hold.missing
    "ask.": [f"ask.{k}" for k in RATING_KINDS],
    "reminder.chose_": [f"reminder.chose_{c}" for c in ("now", "later", "skip")],
    "settings.saved_": [f"settings.saved_{f}" for f in FIELDS.values()] + ["settings.saved_condition"],
    "settings.ask_": [f"settings.ask_{w}" for w in FIELDS],
    "alert.event.": [f"alert.event.{e}" for e in alerts.ALERT_EVENTS],
    "alert.tier.": [f"alert.tier.{tier}" for tier in Tier],
    "staff.": [f"staff.{e}" for e in STAFF_EVENTS],
    # clinicians (issue 4)
    "report.tier.": [f"report.tier.{x}" for x in TIERS],
    "report.mark.": [f"report.mark.{x}" for x in TIERS],
    "chart.tier.": [f"chart.tier.{x}" for x in TIERS],
    "report.reason.": [f"report.reason.{x}" for x in ATTENTION],
    "report.limit.": [f"report.limit.{x}" for x in LIMITS],
    "report.hold.": [f"report.hold.{m.rsplit('.', 1)[-1]}" for m in NOTABLE_HOLDS],
    "report.stop.": [f"report.stop.{r}" for r in STOP_REASONS],
    "report.status.": ["report.status.trial", "report.status.active", "report.status.ended"],
    "report.session.": [f"report.session.{s}" for s in SESSION_STATUSES],
    "chart.decision.": [f"chart.decision.{k}" for k in DECISION_STYLE],
    "clinic.export.action.": [f"clinic.export.action.{a}" for a in Action],
    "lesson.": [k for n in range(1, LESSONS + 1) for k in (f"lesson.{n}", f"lesson.{n}.title")],
    # outcome measures (issue 10 §3)
    "outcome.intro.": [f"outcome.intro.{o}" for o in OCCASIONS],
    # clinician controls (issue 10 §1)
    "control.action.": [f"control.action.{a}" for a in CONTROL_ACTIONS],
    "control.state.": [f"control.state.{x}" for x in ("running", "paused", "held", "ended", "trial", "active")],
    "control.usage.": [f"control.usage.{a}" for a in ("pause", "resume", "keep_paused", "step_back", "hold",
                                                      "unhold", "end")],
    "control.done.": [f"control.done.{a}" for a in ("note", "memo", "reply")],
    "control.ask.": ["control.ask.note", "control.ask.memo"],
    "clinic.export.occasion.": [f"clinic.export.occasion.{o}" for o in OCCASIONS],
    # the patient's progress (issue 10 §5)
    "progress.milestone.": [f"progress.milestone.{m}" for m in MILESTONES],
    "booking.time.": [f"booking.time.{x}" for x in get_args(BookingChoice)[2:]],
    "booking.chose.": ["booking.chose.book", "booking.chose.self", "booking.chose.time"],
    "channel.": ["channel.telegram", "channel.line"],  # the messenger's name (coaching/progress.py)
    # LINE's monthly pushes (bot/line/quota.py, delivery/kinds._line_quota)
    "line.quota.level": [f"line.quota.level{n}" for n in (1, 2, 3)],
}
VARIABLE_KEYS = [*MESSAGE_KEYS, "ask.severe_follow_up", "reminder.text", "reminder.repeat", "reminder.snooze_over",
                 *CHEERS, "alert.text", "alert.urgent", "staff.signup_red_flag_urgent",
                 # the red-flag catalogue's questions and advice (rules/redflags.toml), rendered by the bot
                 *sorted({key for i in load_redflags().items for key in (i.question, i.advice)})]


def _engine_keys() -> list[str]:
    text = (ROOT / "rules" / "engine.py").read_text(encoding="utf-8")
    return sorted(set(re.findall(r"\"(decision\.[a-z_.]+)\"", text)))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_catalogue_loads_and_is_japanese():
    cat = catalog()
    assert len(cat) > 100
    assert t("common.closed").startswith("この質問は")


def test_the_scan_finds_the_calls():
    assert "common.closed" in LITERAL_KEYS and "delete.done" in LITERAL_KEYS and "mydata.nothing" in LITERAL_KEYS
    assert "condition." in PREFIXES and "flag." in PREFIXES


@pytest.mark.parametrize("key", LITERAL_KEYS)
def test_every_literal_key_in_the_code_exists(key):
    assert has(key), f"t({key!r}) has no text in messages.po"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_every_built_key_family_is_known(prefix):
    """A new t(f"...") family must be listed in FAMILIES (so its keys are checked below)."""
    assert prefix in FAMILIES, f"t(f'{prefix}...') is not covered by this test"


@pytest.mark.parametrize("key", sorted({k for keys in FAMILIES.values() for k in keys} | set(VARIABLE_KEYS)))
def test_every_built_key_exists(key):
    assert has(key), f"{key} has no text in messages.po"


@pytest.mark.parametrize("key", _engine_keys())
def test_every_decision_message_of_the_rules_exists(key):
    assert has(key)


def test_the_rules_list_every_message_they_use():
    assert set(_engine_keys()) <= set(MESSAGE_KEYS)


def test_every_alert_a_decision_raises_has_an_event_text():
    low = {e: 1 for e in Element}
    decisions = [
        decide(case("during", S(0, 2, 5))),  # step back: no alert
        decide(case("during", S(0, 2, 5), levels=low, history=())),  # step back at level 1: alert
        decide(case("during", S(0, 2, 8))),  # severe
        decide(case("checkin", flags=("bladder_bowel",))),
        decide(case("checkin", flags=("swelling",))),
    ]
    events = [alerts.event_of(d) for d in decisions if d.alert]
    assert len(events) == 4
    for event in events:
        assert has(f"alert.event.{event}"), event


# What the code passes to each text with placeholders (keys held in variables are listed by hand).
PARAMS_BY_KEY: dict[str, set[str]] = {}
for _key, _prefix, _params, _ in CALLS:
    for _k in (FAMILIES.get(_key, []) if _prefix else [_key]):
        PARAMS_BY_KEY.setdefault(_k, set()).update(_params)
CONTACT = {"contact", "advice_line"}  # coaching.safety.contact(): the clinic in every red-flag text
for _k in MESSAGE_KEYS:  # coaching.decision_text()
    PARAMS_BY_KEY.setdefault(_k, set()).update({"missing", "element", "changes", "limit", *CONTACT, "before",
                                                 "during", "after", "next_morning", "recheck", "now", "ratings",
                                                 "usual", "last_week", "this_week"})
for _k in ("rejoin.red_flag", "redflag.call_clinic", "trial.invite", "redflag.held", "redflag.again_still",
           "redflag.again_still_call",
           "signup.welcome_held", "redflag.undelivered", "clinic_notice.kept_paused", "question.ended", "line.paused",
           *{i.advice for i in load_redflags().items}):
    PARAMS_BY_KEY.setdefault(_k, set()).update(CONTACT)
for _k in ("reminder.text", "reminder.repeat", "reminder.snooze_over", "ask.severe_follow_up", *FAMILIES["ask."]):
    PARAMS_BY_KEY.setdefault(_k, set()).add("nickname")
for _k in [*FAMILIES["progress.milestone."], *CHEERS]:  # coaching/progress.celebration(), encouragement()
    PARAMS_BY_KEY.setdefault(_k, set()).update({"nickname", "n"})
for _k in FAMILIES["outcome.intro."]:  # coaching/outcomes.start_round()
    PARAMS_BY_KEY.setdefault(_k, set()).add("nickname")
for _k in ("alert.text", "alert.urgent"):  # delivery/kinds._alert()
    PARAMS_BY_KEY.setdefault(_k, set()).update({"nickname", "patient_id", "event"})
for _k in [*FAMILIES["staff."], "staff.signup_red_flag_urgent"]:
    PARAMS_BY_KEY.setdefault(_k, set()).update({"nickname", "detail"})
for _k in FAMILIES["line.quota.level"]:  # delivery/kinds._line_quota()
    PARAMS_BY_KEY.setdefault(_k, set()).update({"used", "cap"})
# reports/build.summary_replies(): bot/line/quota.figures() as the text's parameters
PARAMS_BY_KEY.setdefault("report.line_usage", set()).update(
    {"month", "pushes", "replies", "held", "cap", "line_patients", "pushes_projected", "pushes_per_patient_month"})


@pytest.mark.parametrize("key", sorted(catalog()))
def test_no_text_uses_a_placeholder_the_code_does_not_pass(key):
    text = catalog()[key]
    used = placeholders(text)
    assert used <= PARAMS_BY_KEY.get(key, set()), f"{key}: {used - PARAMS_BY_KEY.get(key, set())} never passed"
    params = {name: "x" for name in PARAMS_BY_KEY.get(key, set())}
    if params:  # it formats with what the code passes (a stray brace would raise here)
        assert "{" not in t(key, **params)
