"""The same journey as on Telegram, on LINE: follow -> signup with consent -> reminder -> ratings -> next step ->
next morning -> red flag -> the clinician's notice (on Telegram)."""

from __future__ import annotations

from sqlmodel import col

from bot.channels import LINE_ID_BASE
from bot.storage.models import ExerciseSession, LineUser, Patient
from tests.helpers import enrol
from tests.line.conftest import ADMIN


async def test_follow_signup_and_a_first_day(line_coach, line, patient):
    coach = line_coach
    welcome = await coach.follow(patient)
    assert welcome and welcome[0].via == "reply"  # the welcome answers the follow with its free reply token
    await enrol(coach, patient)
    [p] = await coach.rows(Patient)
    [known] = await coach.rows(LineUser)
    assert known.line_user_id == patient and p.telegram_user_id == known.telegram_user_id >= LINE_ID_BASE
    assert p.nickname == "はなこ"

    await coach.travel(hours=1)  # 09:00: the reminder is a push
    reminder = line.messages(patient)[-1]
    assert reminder.via == "push" and "今から始める" in coach.last_buttons(patient)
    await coach.press(patient, "今から始める")
    await coach.press(patient, "2")
    await coach.press(patient, "1つ目が終わった")
    await coach.press(patient, "2")
    if "全部終わった" in coach.last_buttons(patient):
        await coach.press(patient, "全部終わった")
        await coach.press(patient, "1")
    [s] = await coach.rows(ExerciseSession, col(ExerciseSession.patient_id) == p.id)
    assert (s.before, s.during) == (2, 2)
    assert line.stats["replies"] > 0
    coach.standin.messages(ADMIN)  # the clinic side is on Telegram
