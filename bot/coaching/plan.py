"""The day's plan as a patient sees it (issue 9 §2, §4): a short card (the exercises with today's dose, one line
each) with a 「やり方を見る」 button per exercise, and each exercise's picture with its instruction as caption.

A picture goes with the first reminder that includes an exercise new to the patient (`new_pictures`, recorded
in `patient.exercises_shown`), and again whenever the button is pressed (`how_to`). Pictures travel as ids
(bot/media.py): the drawn one (bot/exercise_pictures.py), or the clinic's own file or URL named by
`picture = "..."` in the program file, which replaces it; `video = "..."` adds a video after the picture.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot import exercise_pictures, media
from bot.callbacks import HowTo
from bot.coaching.messages import Buttons, Reply
from bot.i18n import t
from bot.storage import patients
from bot.storage.models import Patient
from rules import Element, Program, load_program
from rules.programs import Exercise

log = logging.getLogger(__name__)


def program_of(p: Patient) -> Program:
    """The patient's program: the rules' program data for their condition; at risk of falling, the supported
    variant of every standing exercise (docs/clinical.md, "Fall risk")."""
    return load_program(p.condition, supported=patients.fall_risk(p))


def levels_of(p: Patient) -> dict[Element, int]:
    """The patient's levels (one counter per element), within their program's (a counter kept from an
    earlier program file above every exercise's top comes down to the highest top, so a step back lowers
    a dose)."""
    return program_of(p).clamp(patients.levels(p))


def dose_lines(program: Program, levels: Mapping[Element, int]) -> list[str]:
    """Today's exercises with their dose (Program.dose), one line each; a dose the same for every exercise (a
    program file in the program-wide form) is said once, after the names."""
    doses = [program.dose(levels, x.id) for x in program.exercises]
    if len(set(doses)) == 1 and len(doses) > 1:  # its parts one a line, easier to read than one long line
        parts = [f"　{text}" for _, text in program.dose_parts(levels, program.exercises[0].id)]
        return [*(t("plan.name", name=x.name) for x in program.exercises), t("plan.dose_all"), *parts]
    return [t("plan.line", name=x.name, dose=dose) for x, dose in zip(program.exercises, doses, strict=True)]


def plan_lines(p: Patient) -> str:
    """The day's plan card's text (its buttons: `plan_buttons`)."""
    return t("plan.card", lines="\n".join(dose_lines(program_of(p), levels_of(p))))


def plan_buttons(p: Patient) -> Buttons:
    """「やり方を見る」 for each exercise of today's plan, one per row."""
    return [[(t("button.how_to", name=x.name), HowTo(x.id).data)] for x in program_of(p).exercises]


def picture_id(condition: str, x: Exercise) -> str | None:
    """The exercise's picture: the clinic's own when its file or URL is there, else the drawn one (None for an
    exercise with neither: its text goes alone)."""
    if x.picture is not None:
        if media.available(x.picture):
            return f"exercise:{condition}:{x.id}"
        log.warning("program %s, exercise %s: picture %r not found; the drawn one is sent", condition, x.id,
                    x.picture)
    return f"exercise:{x.id}" if exercise_pictures.has_drawing(x.id) else None


def how_to(p: Patient, exercise_id: str, *, video: bool = True) -> list[Reply] | None:
    """An exercise of the patient's program as a picture with its name and instruction (and the clinic's video
    when there is one); None when the program has no such exercise (a stale or forged button)."""
    x = next((x for x in program_of(p).exercises if x.id == exercise_id), None)
    if x is None:
        return None
    replies = [Reply(t("picture.caption", name=x.name, how=x.how), picture_id=picture_id(p.condition, x))]
    if video and x.video is not None and media.available(x.video):
        replies.append(Reply(t("picture.video", name=x.name), picture_id=f"video:{p.condition}:{x.id}"))
    if x.id not in p.exercises_shown:
        p.exercises_shown = sorted({*p.exercises_shown, x.id})
    return replies


def new_pictures(p: Patient) -> list[Reply]:
    """The pictures of today's exercises the patient has not been sent yet (recorded as sent): they go with the
    reminder, before it (a batch's buttons go on its last message)."""
    fresh = [x.id for x in program_of(p).exercises if x.id not in p.exercises_shown]
    return [reply for x in fresh for reply in how_to(p, x, video=False) or []]
