"""Button values (callback data): one typed builder and parser per family, and nothing else builds them.

Each family is a small frozen dataclass: `.data` builds the string (at most 64 bytes, Telegram's limit),
`Family.parse(data)` reads it back or returns None when it has any other shape. A parser accepts only
what the builder makes: ASCII digits (no `²`, no full-width digits), ids within the database's integer
column (1 .. 2147483647), values in range, known words. None means "forged or stale": the handler answers
common.closed and changes nothing. Which question a value may answer is checked when it is taken
(`PROMPT_KINDS`: a `rt:` value answers only a rating question, `rm:` only a reminder, `tr:` only the
end-of-trial question).

  rt:<prompt>:<0-10>            Rating          a pain rating
  rm:<prompt>:now|later|skip    ReminderChoice  a reminder's choice
  nx:<session>:during|after     AskNow          "ask me now" for the during / after rating
  rf:open|none|<group>|<flag>   RedFlag         red-flag check-in (groups first, then a group's signs)
  trial | trial:<link code>     Trial           start a trial (from a clinician's invite link)
  c:yes[:<link code>] | c:no    Consent         consent (the invite link travels until consent)
  su:<step>[:<value>]           SignupStep      enrolment steps
  st:<what>[:<value>]           Setting         /settings
  tr:<prompt>:continue|end|endyes  TrialAnswer  the end-of-trial question (end asks, endyes confirms)
  rj:start|ok|flag              Rejoin          re-joining after the end (safety check, then a new trial)
  del:yes|no                    Delete          /delete confirmation
  cp:<patient>                  OpenPatient     a clinician opens a patient's detail
  ls:<1-7>                      Lesson          one of the seven lessons (/why)
  om:<round>:<step>:<0-99>|done OutcomeAnswer   an outcome measure's answer (done: no more activities to name)
  lv: ps: lm: tl: nt:<patient>:<what>[:<value>]  the clinician's controls on the patient card, one family
                                per group: levels, program state, limits and condition, trial, notes
  qa:<question>                 ReplyQuestion   「返信する」 under a patient's question
  ask                           AskQuestion     「質問する」 in the patient's menu
  ap:<prompt>:book|self|am|pm|sat|any  Booking  the end-of-trial report: ask for an appointment (then when) or
                                                continue on one's own
  hw:<exercise id>              HowTo           「やり方を見る」: an exercise's picture (of the patient's program)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, Self, TypeVar, get_args

from bot.storage.sessions import RATING_KINDS
from rules import CONDITIONS, ELEMENT_ORDER, MENU_GROUPS, Flag

MAX_ID = 2_147_483_647  # int4 (PostgreSQL `integer`): the id columns' type
_DIGITS = re.compile(r"[0-9]{1,10}")
_HHMM = re.compile(r"([01][0-9]|2[0-3])[0-5][0-9]")
_LINK_CODE = re.compile(r"[A-Z0-9]{4,24}")
W = TypeVar("W", bound=str)  # the words a family's value may hold (a Literal)


def parse_id(text: str) -> int | None:
    """An id typed or carried in a button: ASCII digits, 1 .. MAX_ID (else None)."""
    return _number(text, 1, MAX_ID)


def _number(text: str, lo: int, hi: int) -> int | None:
    """ASCII digits without leading zeros (only what a builder makes), lo .. hi (else None)."""
    if not _DIGITS.fullmatch(text) or str(int(text)) != text:
        return None
    value = int(text)
    return value if lo <= value <= hi else None


def _split(data: str | None, prefix: str, sizes: tuple[int, ...]) -> list[str] | None:
    if not data:
        return None
    parts = data.split(":")
    return parts[1:] if parts[0] == prefix and len(parts) in sizes else None


def _word(text: str, words: tuple[W, ...]) -> W | None:
    """`text` when it is one of `words` (typed as those words), else None."""
    return next((w for w in words if w == text), None)


def _id_and_word(data: str | None, prefix: str, words: tuple[W, ...]) -> tuple[int, W] | None:
    """`<prefix>:<id>:<word>` -> (id, word) when the id is valid and the word one of `words`."""
    parts = _split(data, prefix, (3,))
    word = _word(parts[1], words) if parts is not None else None
    found = parse_id(parts[0]) if parts is not None and word is not None else None
    return (found, word) if found is not None and word is not None else None


@dataclass(frozen=True)
class Rating:
    prompt_id: int
    value: int
    prompt_kinds: ClassVar[tuple[str, ...]] = RATING_KINDS

    @property
    def data(self) -> str:
        return f"rt:{self.prompt_id}:{self.value}"

    @classmethod
    def parse(cls, data: str | None) -> Rating | None:
        parts = _split(data, "rt", (3,))
        if parts is None:
            return None
        prompt_id, value = parse_id(parts[0]), _number(parts[1], 0, 10)
        return cls(prompt_id, value) if prompt_id is not None and value is not None else None


Choice = Literal["now", "later", "skip"]
Which = Literal["during", "after"]
TrialChoice = Literal["continue", "end", "endyes"]
RejoinStep = Literal["start", "ok", "flag"]
BookingChoice = Literal["book", "self", "am", "pm", "sat", "any"]


@dataclass(frozen=True)
class _Answer(Generic[W]):
    """`<prefix>:<prompt>:<word>`: the answer to one question (its prompt id), one of a few words."""

    prompt_id: int
    choice: W
    prefix: ClassVar[str]
    words: ClassVar[tuple[Any, ...]]  # the values of W
    prompt_kinds: ClassVar[tuple[str, ...]]

    @property
    def data(self) -> str:
        return f"{self.prefix}:{self.prompt_id}:{self.choice}"

    @classmethod
    def parse(cls, data: str | None) -> Self | None:
        found = _id_and_word(data, cls.prefix, cls.words)
        return cls(*found) if found is not None else None


@dataclass(frozen=True)
class ReminderChoice(_Answer[Choice]):
    prefix, words, prompt_kinds = "rm", get_args(Choice), ("reminder",)


@dataclass(frozen=True)
class AskNow(_Answer[Which]):
    """"Ask me now" for the during / after rating: nx:<session>:during|after (the id is the session's)."""

    prefix, words, prompt_kinds = "nx", get_args(Which), ()

    @property
    def session_id(self) -> int:
        return self.prompt_id

    @property
    def which(self) -> Which:
        return self.choice


@dataclass(frozen=True)
class RedFlag:
    """`open` (the groups), `none` (no symptom), a group of rules.MENU_GROUPS (its signs) or one Flag."""

    value: str

    @property
    def data(self) -> str:
        return f"rf:{self.value}"

    @property
    def flag(self) -> Flag | None:
        return Flag(self.value) if self.value in Flag.__members__.values() else None

    @property
    def group(self) -> str | None:
        return self.value if self.value in MENU_GROUPS else None

    @classmethod
    def parse(cls, data: str | None) -> RedFlag | None:
        parts = _split(data, "rf", (2,))
        if parts is None or not (parts[0] in ("open", "none") or parts[0] in MENU_GROUPS
                                 or parts[0] in Flag.__members__.values()):
            return None
        return cls(parts[0])


@dataclass(frozen=True)
class Trial:
    """Start a trial; `link_code` is the clinician's invite-link code the person came with."""

    link_code: str | None = None

    @property
    def data(self) -> str:
        return "trial" if self.link_code is None else f"trial:{self.link_code}"

    @classmethod
    def parse(cls, data: str | None) -> Trial | None:
        if data == "trial":
            return cls()
        parts = _split(data, "trial", (2,))
        return cls(parts[0]) if parts is not None and _LINK_CODE.fullmatch(parts[0]) else None


@dataclass(frozen=True)
class Consent:
    """Consent given (or declined). Before consent nothing is stored, so the invite link's code travels here;
    the clinician is looked up from that code (never from an id a button could forge)."""

    yes: bool
    link_code: str | None = None

    @property
    def data(self) -> str:
        if not self.yes:
            return "c:no"
        return "c:yes" if self.link_code is None else f"c:yes:{self.link_code}"

    @classmethod
    def parse(cls, data: str | None) -> Consent | None:
        if data in ("c:yes", "c:no"):
            return cls(data == "c:yes")
        parts = _split(data, "c", (3,))
        if parts is None or parts[0] != "yes" or not _LINK_CODE.fullmatch(parts[1]):
            return None
        return cls(True, parts[1])


# su:<step>[:<value>]: the value each step's button carries
_SIGNUP_VALUES: dict[str, Callable[[str], bool]] = {
    "cond": lambda v: v in CONDITIONS,
    "pain": lambda v: _number(v, 0, 10) is not None,
    "fall": lambda v: v in ("yes", "no"),  # a fall in the last year (fall risk)
    "unst": lambda v: v in ("yes", "no"),  # unsteady standing up or walking
    "rf": lambda v: v in ("none", "some"),
    "rfg": lambda v: v in ("all", "none") or v in MENU_GROUPS,  # today's signs: a kind's, all kinds, or none
    "rff": lambda v: v in Flag.__members__.values(),
    "scr": lambda v: v in ("none", "some"),  # the guideline screen of the condition (rules.RedFlags.signup_screen)
    "scw": lambda v: _number(v, 1, 30) is not None,  # which of its items (1-based)
    "time": lambda v: _HHMM.fullmatch(v) is not None,
    "morning": lambda v: _HHMM.fullmatch(v) is not None,
    "nick": lambda v: v == "tg",
    "ok": lambda v: v == "",
    "redo": lambda v: v == "",
    "contact": lambda v: v == "",  # optional: a phone number or the clinic's patient number, typed (issue 10 §5)
    "nocontact": lambda v: v == "",
}


def _name_and_value(data: str | None, prefix: str,
                    checks: dict[str, Callable[[str], bool]]) -> tuple[str, str] | None:
    """`<prefix>:<name>` or `<prefix>:<name>:<value>` -> (name, value) when `checks[name]` accepts the value
    ("" when there is none; an empty value written out, `st:time:`, is not what a builder makes)."""
    parts = _split(data, prefix, (2, 3))
    if parts is None or (len(parts) > 1 and not parts[1]):
        return None
    name, value = parts[0], (parts[1] if len(parts) > 1 else "")
    check = checks.get(name)
    return (name, value) if check is not None and check(value) else None


def hhmm(time: str) -> str:
    """"07:30" -> "0730" (times travel in buttons without the colon)."""
    return time.replace(":", "")


def from_hhmm(value: str) -> str:
    return f"{value[:2]}:{value[2:]}"


@dataclass(frozen=True)
class _Named:
    """`<prefix>:<what>[:<value>]`: a named step and its value ("" when there is none), checked by `checks`."""

    what: str
    value: str = ""
    prefix: ClassVar[str]
    checks: ClassVar[dict[str, Callable[[str], bool]]]

    @property
    def data(self) -> str:
        return f"{self.prefix}:{self.what}:{self.value}" if self.value else f"{self.prefix}:{self.what}"

    @classmethod
    def parse(cls, data: str | None) -> Self | None:
        found = _name_and_value(data, cls.prefix, cls.checks)
        return cls(*found) if found is not None else None


@dataclass(frozen=True)
class SignupStep(_Named):
    """Enrolment steps: what = cond | pain | fall | unst | rf | rfg | rff | scr | scw | time | morning | nick | ok |
    redo."""

    prefix, checks = "su", _SIGNUP_VALUES


_SETTING_VALUES: dict[str, Callable[[str], bool]] = {
    "time": lambda v: v == "" or _HHMM.fullmatch(v) is not None,
    "morning": lambda v: v == "" or _HHMM.fullmatch(v) is not None,
    "pause": lambda v: v == "",
    "resume": lambda v: v == "",
    "cond": lambda v: v == "" or v in CONDITIONS,
    "end": lambda v: v in ("", "yes", "no"),  # ask, then confirmed or not
}


@dataclass(frozen=True)
class Setting(_Named):
    """/settings: what = time | morning | pause | resume | cond | end; value a time as HHMM, a condition, or ""
    (ask)."""

    prefix, checks = "st", _SETTING_VALUES


@dataclass(frozen=True)
class TrialAnswer(_Answer[TrialChoice]):
    """`end` asks for confirmation, `endyes` confirms."""

    prefix, words, prompt_kinds = "tr", get_args(TrialChoice), ("trial",)


@dataclass(frozen=True)
class Rejoin:
    """After the end: `start` shows the safety check, `ok` starts a new trial period, `flag` (a warning sign
    applies) points to the clinic first."""

    step: RejoinStep

    @property
    def data(self) -> str:
        return f"rj:{self.step}"

    @classmethod
    def parse(cls, data: str | None) -> Rejoin | None:
        parts = _split(data, "rj", (2,))
        step = _word(parts[0], get_args(RejoinStep)) if parts is not None else None
        return cls(step) if step is not None else None


@dataclass(frozen=True)
class Delete:
    yes: bool

    @property
    def data(self) -> str:
        return "del:yes" if self.yes else "del:no"

    @classmethod
    def parse(cls, data: str | None) -> Delete | None:
        return cls(data == "del:yes") if data in ("del:yes", "del:no") else None


@dataclass(frozen=True)
class _Number:
    """`<prefix>:<n>`: one number, an id (1 .. MAX_ID) unless `bounds` narrows it."""

    n: int
    prefix: ClassVar[str]
    bounds: ClassVar[tuple[int, int]] = (1, MAX_ID)

    @property
    def data(self) -> str:
        return f"{self.prefix}:{self.n}"

    @classmethod
    def parse(cls, data: str | None) -> Self | None:
        parts = _split(data, cls.prefix, (2,))
        n = _number(parts[0], *cls.bounds) if parts is not None else None
        return cls(n) if n is not None else None


@dataclass(frozen=True)
class OpenPatient(_Number):
    """A clinician opens a patient's detail: cp:<n = the patient's id>."""

    prefix = "cp"


@dataclass(frozen=True)
class Lesson(_Number):
    """One of the seven lessons (bot/coaching/lessons.py): ls:<n = 1-7>."""

    prefix, bounds = "ls", (1, 7)


_EXERCISE_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")  # the ids of rules/programs/*.toml


@dataclass(frozen=True)
class HowTo:
    """「やり方を見る」 under the day's plan: hw:<exercise id>. The id is only shaped here; the handler checks
    that the patient's program has it (a stale button after a change of program gets the closed answer)."""

    exercise_id: str

    @property
    def data(self) -> str:
        return f"hw:{self.exercise_id}"

    @classmethod
    def parse(cls, data: str | None) -> HowTo | None:
        parts = _split(data, "hw", (2,))
        return cls(parts[0]) if parts is not None and _EXERCISE_ID.fullmatch(parts[0]) else None


@dataclass(frozen=True)
class Acknowledge(_Number):
    """「対応しました」 under an alert (and its re-notification): ak:<n = the alert's outbox row id>."""

    prefix = "ak"


FlagAnswer = Literal["ok", "still"]


@dataclass(frozen=True)
class FlagAgain(_Answer[FlagAnswer]):
    """The morning after a rest-today red flag: has the sign gone? fa:<prompt>:ok|still."""

    prefix, words, prompt_kinds = "fa", get_args(FlagAnswer), ("flag_again",)


@dataclass(frozen=True)
class Booking(_Answer[BookingChoice]):
    """After the end-of-trial report: `book` (an appointment: then when, am/pm/sat/any) or `self`."""

    prefix, words, prompt_kinds = "ap", get_args(BookingChoice), ("booking", "booking_time")
    TIMES: ClassVar[tuple[str, ...]] = ("am", "pm", "sat", "any")

    @property
    def kinds(self) -> tuple[str, ...]:
        """The question this value answers: the report's (book/self) or the preferred time's."""
        return ("booking_time",) if self.choice in self.TIMES else ("booking",)


@dataclass(frozen=True)
class OutcomeAnswer:
    """An answer in an outcome round (bot/coaching/outcomes.py): the round, the step it answers, and an answer
    value (0-99) or `done` (no more activities to name)."""

    round_id: int
    step: int
    value: int | None  # None: done

    @property
    def data(self) -> str:
        return f"om:{self.round_id}:{self.step}:{'done' if self.value is None else self.value}"

    @classmethod
    def parse(cls, data: str | None) -> OutcomeAnswer | None:
        parts = _split(data, "om", (4,))
        if parts is None:
            return None
        round_id, step = parse_id(parts[0]), _number(parts[1], 0, 99)
        value = None if parts[2] == "done" else _number(parts[2], 0, 99)
        if round_id is None or step is None or (value is None and parts[2] != "done"):
            return None
        return cls(round_id, step, value)


# --- the clinician's controls on the patient card (issue 10 §1) and the question relay (§2) -------------
# One family per control group: `<prefix>:<patient>:<what>[:<value>]`, the value checked per `what`.

def _digits_in(lo: int, hi: int, *extra: str) -> Callable[[str], bool]:
    return lambda v: v in extra or _number(v, lo, hi) is not None


@dataclass(frozen=True)
class _Control:
    """A control on one patient: `<prefix>:<patient id>:<what>` or `...:<what>:<value>`."""

    patient_id: int
    what: str
    value: str = ""
    prefix: ClassVar[str]
    values: ClassVar[dict[str, Callable[[str], bool]]]  # what -> the values it takes ("" = none)

    @property
    def data(self) -> str:
        tail = f":{self.value}" if self.value else ""
        return f"{self.prefix}:{self.patient_id}:{self.what}{tail}"

    @classmethod
    def parse(cls, data: str | None) -> Self | None:
        parts = _split(data, cls.prefix, (3, 4))
        if parts is None or (len(parts) == 3 and not parts[2]):
            return None
        patient_id, what, value = parse_id(parts[0]), parts[1], (parts[2] if len(parts) == 3 else "")
        check = cls.values.get(what)
        return cls(patient_id, what, value) if patient_id is not None and check is not None and check(value) \
            else None


_NONE: Callable[[str], bool] = lambda v: v == ""  # noqa: E731
_LEVEL = _digits_in(1, 20, "")  # an element's level (its program's maximum is checked when set)


@dataclass(frozen=True)
class LevelControl(_Control):
    """lv: choose an element (menu), set its level (<element>[:<n>]), step back (back), hold / unhold raises."""

    prefix, values = "lv", {"menu": _NONE, "back": _NONE, "hold": _NONE, "unhold": _NONE,
                            **{str(e): _LEVEL for e in ELEMENT_ORDER}}


@dataclass(frozen=True)
class ProgramControl(_Control):
    """ps: pause, resume, clear after a red-flag evaluation, keep paused."""

    prefix, values = "ps", {"pause": _NONE, "resume": _NONE, "clear": _NONE, "keep": _NONE}


@dataclass(frozen=True)
class LimitControl(_Control):
    """lm: the pain ceiling (ceil: 2-6 or std), the "too painful today" rating (sev: 6-10 or std), the condition
    (cond); no value asks."""

    prefix, values = "lm", {"ceil": _digits_in(2, 6, "", "std"), "sev": _digits_in(1, 10, "", "std"),
                            "cond": lambda v: v == "" or v in CONDITIONS}


@dataclass(frozen=True)
class TrialControl(_Control):
    """tl: extend the trial (ext[:<days>]), end the program (end asks, endyes confirms)."""

    prefix, values = "tl", {"ext": lambda v: v in ("", "7", "14"), "end": _NONE, "endyes": _NONE}


@dataclass(frozen=True)
class NoteControl(_Control):
    """nt: write a note to the patient (patient) or a private note on the card (private): the next message."""

    prefix, values = "nt", {"patient": _NONE, "private": _NONE}


@dataclass(frozen=True)
class ReplyQuestion(_Number):
    """「返信する」 under a patient's question: qa:<n = the question's id>."""

    prefix = "qa"


@dataclass(frozen=True)
class AskQuestion:
    """「質問する」 (the patient's menu): the next message is a question for the clinic."""

    @property
    def data(self) -> str:
        return "ask"

    @classmethod
    def parse(cls, data: str | None) -> AskQuestion | None:
        return cls() if data == "ask" else None


CONTROL_FAMILIES: dict[str, type[_Control]] = {
    "lv": LevelControl, "ps": ProgramControl, "lm": LimitControl, "tl": TrialControl, "nt": NoteControl}


FAMILIES: dict[str, type[Callback]] = {
    "rt": Rating, "rm": ReminderChoice, "nx": AskNow, "rf": RedFlag, "trial": Trial, "c": Consent,
    "su": SignupStep, "st": Setting, "tr": TrialAnswer, "rj": Rejoin, "del": Delete, "cp": OpenPatient,
    "ls": Lesson, "hw": HowTo, "ak": Acknowledge, "fa": FlagAgain, "om": OutcomeAnswer, **CONTROL_FAMILIES,
    "qa": ReplyQuestion, "ask": AskQuestion, "ap": Booking,
}
# The python-telegram-bot patterns that route a press to its family's handler (the parser then checks it).
PATTERNS = {prefix: rf"^{prefix}(:|$)" for prefix in FAMILIES}

Callback = (Rating | ReminderChoice | AskNow | RedFlag | Trial | Consent | SignupStep | Setting | TrialAnswer
            | Rejoin | Delete | OpenPatient | Lesson | HowTo | Acknowledge | FlagAgain | OutcomeAnswer | _Control
            | ReplyQuestion | AskQuestion | Booking)


def parse(data: str | None) -> Callback | None:
    """Any button value -> its family's value, or None (unknown, forged or stale)."""
    family = FAMILIES.get((data or "").split(":", 1)[0])
    return family.parse(data) if family is not None else None


def rating_buttons(prompt_id: int) -> list[list[tuple[str, str]]]:
    """0-10 in two rows of big buttons (0-5, 6-10), easy to tap on a phone."""
    return [[(str(n), Rating(prompt_id, n).data) for n in range(0, 6)],
            [(str(n), Rating(prompt_id, n).data) for n in range(6, 11)]]
