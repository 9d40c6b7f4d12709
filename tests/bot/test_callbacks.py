"""Button values: every family's builder parses back, and forged or odd data parses to None."""

from __future__ import annotations

import pytest

from bot import callbacks as cb
from rules import CONDITIONS, Flag, load_program

BUILT = [
    *(cb.Rating(p, v) for p in (1, 42, cb.MAX_ID) for v in range(11)),
    *(cb.ReminderChoice(7, c) for c in ("now", "later", "skip")),
    cb.AskNow(3, "during"), cb.AskNow(3, "after"),
    cb.RedFlag("open"), cb.RedFlag("none"), *(cb.RedFlag(f) for f in Flag),
    cb.Trial(), cb.Trial("AB23CD45"),
    cb.Consent(True), cb.Consent(False), cb.Consent(True, "AB23CD45"),
    *(cb.SignupStep("cond", c) for c in CONDITIONS), *(cb.SignupStep("pain", str(n)) for n in range(11)),
    *(cb.SignupStep(step, v) for step in ("fall", "unst") for v in ("yes", "no")),
    cb.SignupStep("rf", "none"), cb.SignupStep("rf", "some"), *(cb.SignupStep("rff", f) for f in Flag),
    cb.SignupStep("time", "0700"), cb.SignupStep("morning", "2359"), cb.SignupStep("nick", "tg"),
    cb.SignupStep("ok"), cb.SignupStep("redo"),
    cb.Setting("time"), cb.Setting("time", "1800"), cb.Setting("morning"), cb.Setting("morning", "0600"),
    cb.Setting("pause"), cb.Setting("resume"), cb.Setting("cond"), *(cb.Setting("cond", c) for c in CONDITIONS),
    cb.TrialAnswer(9, "continue"), cb.TrialAnswer(9, "end"),
    cb.Delete(True), cb.Delete(False),
    cb.OpenPatient(1), cb.OpenPatient(cb.MAX_ID),
    *(cb.HowTo(x.id) for c in CONDITIONS for x in load_program(c).exercises), cb.HowTo("straight_leg_raise"),
    # the patient card's controls (issue 10): one family per group, and the question relay
    *(cb.LevelControl(3, w) for w in ("menu", "back", "hold", "unhold", "rom", "reps", "load", "speed")),
    cb.LevelControl(3, "reps", "5"), *(cb.ProgramControl(cb.MAX_ID, w) for w in ("pause", "resume", "clear", "keep")),
    cb.LimitControl(3, "ceil"), cb.LimitControl(3, "ceil", "4"), cb.LimitControl(3, "ceil", "std"),
    cb.LimitControl(3, "sev", "8"), *(cb.LimitControl(3, "cond", c) for c in CONDITIONS),
    cb.TrialControl(3, "ext"), cb.TrialControl(3, "ext", "14"), cb.TrialControl(3, "end"),
    cb.TrialControl(3, "endyes"), cb.NoteControl(3, "patient"), cb.NoteControl(3, "private"),
    cb.ReplyQuestion(12), cb.AskQuestion(),
]


@pytest.mark.parametrize("value", BUILT, ids=lambda v: v.data)
def test_every_built_value_parses_back_to_itself(value):
    assert len(value.data.encode()) <= 64  # Telegram's limit for callback data
    assert type(value).parse(value.data) == value
    assert cb.parse(value.data) == value


FORGED = [
    "", "rt", "rt:", "rt:1", "rt:1:2:3", "rt:x:3", "rt:1:x", "rt:1:11", "rt:1:-1", "rt:-1:3", "rt:0:3",
    "rt:²:3", "rt:1:²", "rt:１:3", "rt:1:３", "rt:٣:3", "rt:+1:3", "rt: 1:3", "rt:01:3", "rt:1:05",
    "rt:999999999999:3", "rt:2147483648:3", "rt:1:10.0",
    "rm:1:soon", "rm:1", "rm:²:now", "nx:1:before", "nx:99999999999:during",
    "rf:", "rf:fever:1", "rf:unknown", "rf:OPEN",
    "trial:", "trial:12", "trial:ab23cd45", "trial:A:B", "c:yes:1", "c:yes:42", "c:maybe", "c:no:AB23CD45",
    "su:cond:elbow", "su:pain:11", "su:pain:²", "su:rf:maybe", "su:rff:cold", "su:time:2400", "su:time:0760",
    "su:fall:maybe", "su:unst:", "su:time:７００", "su:nick:me", "su:ok:1", "su:ok:", "su:unknown", "su:",
    "st:time:25", "st:cond:elbow", "st:pause:1", "st:time:", "st:wat",
    "tr:1:stop", "tr:1", "tr:2147483648:end",
    "del:maybe", "del:", "cp:", "cp:0", "cp:-3", "cp:abc", "cp:123456789012", "cp:1:2",
    "hw:", "hw", "hw:Bridge", "hw:1bridge", "hw:bridge:1", "hw:brid ge", "hw:ｂridge", "hw:" + "a" * 41,
    "xx:1:2", "rt\n:1:3",
    "lv:3", "lv:3:", "lv:0:menu", "lv:3:arm", "lv:3:reps:0", "lv:3:reps:21", "lv:3:reps:", "lv:3:menu:1",
    "lv:３:menu", "ps:3:explode", "ps:3:pause:1", "ps:2147483648:pause", "lm:3:ceil:7", "lm:3:ceil:1",
    "lm:3:cond:elbow", "lm:3:sev:std:1", "tl:3:ext:30", "tl:3:end:1", "nt:3:public", "qa:", "qa:0", "qa:1:2",
    "ask:1", "ask:",
]


@pytest.mark.parametrize("data", FORGED)
def test_forged_or_odd_data_parses_to_none(data):
    assert cb.parse(data) is None


def test_a_button_value_names_the_question_kind_it_answers():
    assert cb.Rating.prompt_kinds == ("before", "during", "after", "next_morning", "recheck")
    assert cb.ReminderChoice.prompt_kinds == ("reminder",)
    assert cb.TrialAnswer.prompt_kinds == ("trial",)
