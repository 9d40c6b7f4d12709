"""The summary's buttons (docs/architecture.md, "The messaging port": a batch's buttons go on its last message;
LINE shows at most 13 quick replies there): the patients' charts carry none, the last message opens the
patients in the summary's order, 13 at most, and says how to open the others."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.coaching.consent import CONSENT_VERSION
from bot.coaching.messages import BUTTON_LABEL_MAX, BUTTONS_MAX
from bot.i18n import t
from bot.storage import clinicians
from bot.storage.models import Patient
from tests.e2e.test_clinicians import DOC, MONDAY_0800, join
from tests.helpers import START

LONG = "ながいながいニックネームのかんじゃさん"  # 19 characters: its button label is shortened


async def seed(coach, n: int) -> list[int]:
    """`n` patients of DOC enrolled on different days before START (the longer ago, the longer silent: some need
    attention, some not yet), the third with a long nickname; their ids."""
    async with coach.rt.db.session() as s:
        doc = await clinicians.by_user(s, DOC)
        assert doc is not None
        patients = []
        for i in range(n):
            enrolled = START - timedelta(days=i % 5, hours=1)
            p = Patient(telegram_user_id=30_000 + i, chat_id=30_000 + i, nickname=LONG if i == 2 else f"かんじゃ{i}",
                        condition="knee", usual_pain=3, exercise_time="09:00", morning_time="07:00",
                        timezone="Asia/Tokyo", status="trial", consent_at=enrolled, consent_version=CONSENT_VERSION,
                        enrolled_at=enrolled, trial_ends_on=(START + timedelta(days=14)).date(), raise_history=[],
                        clinician_id=doc.id)
            s.add(p)
            patients.append(p)
        await s.commit()
        return [p.id for p in patients]


def listed(messages) -> list[int]:
    """The patient ids in the order the summary's text lists them."""
    body = "\n".join(m.body for m in messages if m.kind == "text")
    return list(dict.fromkeys(int(x) for x in re.findall(r"ID (\d+)", body)))


def buttons(message) -> list[tuple[str, str]]:
    return [b for row in message.buttons for b in row]


async def test_only_the_last_message_has_buttons_and_they_open_the_patients(clinic):
    await join(clinic)
    ids = await seed(clinic, 4)
    replies = await clinic.text(DOC, "/summary")
    assert [m.kind for m in replies].count("photo") == 1 + len(ids)  # the overview, then a chart per patient
    assert all(not m.buttons for m in replies[:-1])  # the charts carry no button any more
    last = replies[-1]
    assert last.kind == "text" and t("report.open_patients") in last.body and "/patient ID" not in last.body
    order = listed(replies)
    assert sorted(order) == sorted(ids)
    assert [data for _, data in buttons(last)] == [f"cp:{pid}" for pid in order]  # the summary's order
    assert all(len(label) <= BUTTON_LABEL_MAX and f"ID {pid}）" in label
               for (label, _), pid in zip(buttons(last), order, strict=True))
    long_label = next(label for label, data in buttons(last) if data == f"cp:{ids[2]}")
    assert len(long_label) == BUTTON_LABEL_MAX and f" {LONG[:8]}" in long_label and f"…（ID {ids[2]}）" in long_label

    pid = order[1]
    label = next(label for label, data in buttons(last) if data == f"cp:{pid}")
    card = await clinic.press(DOC, label, message_id=last.message_id)
    assert card[0].body.startswith(f"かんじゃ{ids.index(pid)}さん（患者ID {pid}）")
    assert all(not m.buttons for m in card[:-1]) and card[-1].buttons  # the card's controls, last

    # the weekly summary is built the same way
    await clinic.travel_to(MONDAY_0800 + timedelta(minutes=1))
    sent = clinic.standin.messages(DOC)
    weekly = sent[max(i for i, m in enumerate(sent) if (m.body or "").startswith("【週次サマリー】")):]
    assert all(not m.buttons for m in weekly[:-1]) and len(buttons(weekly[-1])) == len(ids)


async def test_at_most_13_buttons_and_the_others_by_patient_id(clinic):
    await join(clinic)
    ids = await seed(clinic, BUTTONS_MAX + 3)
    replies = await clinic.text(DOC, "/summary")
    assert all(not m.buttons for m in replies[:-1])
    last = replies[-1]
    assert [data for _, data in buttons(last)] == [f"cp:{pid}" for pid in listed(replies)[:BUTTONS_MAX]]
    assert len(buttons(last)) == 13 and len(ids) == 16
    assert t("report.open_more", n=3) in last.body and "/patient ID" in last.body
