"""A picture of every exercise and the day's plan as a short card (issue 9 §2, §4), through the stand-in:
the pictures of new exercises come once, before the first reminder that includes them; 「やり方を見る」 sends
one again; Telegram's file_id is kept after the first upload, so later sends (other patients, a restart)
send the id; a clinic's own picture or video, named in the program file, replaces the drawn one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.exercise_pictures import POSES, draw, drawn_png
from bot.i18n import t
from bot.storage.models import MediaFile, Patient
from rules import CONDITIONS, ELEMENT_ORDER, load_program
from tests.helpers import USER, answer_signup, enrol

GLOSSARY_CARD = 200  # locales/ja/glossary.toml, budget.card
KNEE = [x.name for x in load_program("knee").exercises]
OTHER = USER + 1


def how_to(name: str) -> str:
    return t("button.how_to", name=name)


@contextlib.contextmanager
def clinic_files(condition: str, exercise_id: str, **keys: str) -> Iterator[None]:
    """The shipped program as if its file said `picture = "..."` / `video = "..."` for one exercise."""
    program = load_program(condition)
    kept = program.exercises
    changed = tuple(replace(x, **keys) if x.id == exercise_id else x for x in kept)
    object.__setattr__(program, "exercises", changed)  # the cached Program (frozen): put back below
    try:
        yield
    finally:
        object.__setattr__(program, "exercises", kept)


async def test_the_first_reminder_brings_each_exercise_s_picture_once(coach):
    await enrol(coach)
    await coach.travel(hours=1)  # 09:00: lesson 1, the four pictures, the reminder
    sent = coach.standin.messages(USER)
    photos = [m for m in sent if m.kind == "photo"]
    assert [m.body.splitlines()[0] for m in photos] == [f"【{name}】" for name in KNEE]
    assert all(m.buttons == [] for m in photos), "buttons only on the last message of the batch"
    reminder = sent[-1]
    assert reminder.kind == "text" and reminder.body.startswith(t("reminder.text", nickname="はなこ"))
    assert reminder.button_texts[:3] == [t("button.start_now"), t("button.later", minutes=30), t("button.skip")]
    assert reminder.button_texts[3:] == [how_to(name) for name in KNEE]
    [p] = await coach.rows(Patient)
    assert sorted(p.exercises_shown) == sorted(x.id for x in load_program("knee").exercises)

    await coach.press(USER, t("button.skip"))
    await coach.travel(days=1)  # the next day's reminder: no picture again
    kinds = [m.kind for m in coach.standin.messages(USER)[len(sent):]]
    assert kinds == ["text", "text", "text"]  # "skipped", lesson 2, the reminder


async def test_a_new_program_brings_only_the_new_exercises_pictures(coach):
    await enrol(coach)
    await coach.travel(hours=1)
    await coach.text(USER, "/settings")
    await coach.press(USER, t("button.change_condition"))
    await coach.press(USER, t("condition.both"))
    seen = len(coach.standin.messages(USER))
    await coach.travel(days=1)
    photos = [m.body.splitlines()[0] for m in coach.standin.messages(USER)[seen:] if m.kind == "photo"]
    old = {x.id for x in load_program("knee").exercises}
    assert photos == [f"【{x.name}】" for x in load_program("both").exercises if x.id not in old]


async def test_how_to_sends_the_picture_again_and_the_plan_keeps_its_buttons(coach):
    await enrol(coach)
    [plan] = await coach.text(USER, "/today")
    [picture] = await coach.press(USER, how_to("かかと上げ"))
    assert picture.kind == "photo" and picture.body.startswith("【かかと上げ】")
    assert load_program("knee").exercise("heel_raise").how in picture.body
    assert picture.file_bytes == drawn_png("heel_raise", "かかと上げ")
    assert coach.standin.messages(USER)[-2].message_id == plan.message_id
    assert how_to("タオルつぶし") in coach.standin.messages(USER)[-2].button_texts  # still there for the next one
    [p] = await coach.rows(Patient)
    assert p.exercises_shown == ["heel_raise"]  # not sent again with the reminder


async def test_telegram_s_file_id_is_sent_after_the_first_upload(coach):
    """A fan-out does not upload a picture again: the second patient, and the first after a restart (the
    file ids kept in memory are gone), get it by the file_id Telegram gave for the first upload."""
    await enrol(coach)
    await enrol(coach, OTHER, nickname="たろう")
    await coach.text(USER, "/today")
    [first] = await coach.press(USER, how_to("かかと上げ"))
    uploads = coach.standin.stats["requests"].get("sendPhoto", 0)
    files = len(coach.standin.state.files)
    await coach.text(OTHER, "/today")
    [second] = await coach.press(OTHER, how_to("かかと上げ"))
    coach.rt.media.known.clear()  # as after a restart: the id comes from the media_file table
    [third] = await coach.press(USER, how_to("かかと上げ"))
    assert first.file.file_id == second.file.file_id == third.file.file_id
    assert len(coach.standin.state.files) == files, "no new upload: the stand-in stored no new file"
    assert coach.standin.stats["requests"]["sendPhoto"] == uploads + 2
    [row] = await coach.rows(MediaFile)
    assert (row.channel, row.picture_id, row.file_id) == ("telegram", "exercise:heel_raise", first.file.file_id)


async def test_a_file_id_telegram_no_longer_knows_is_uploaded_again(coach):
    await enrol(coach)
    await coach.text(USER, "/today")
    [first] = await coach.press(USER, how_to("かかと上げ"))
    del coach.standin.state.files[first.file.file_id]  # Telegram forgot it
    [again] = await coach.press(USER, how_to("かかと上げ"))
    assert again.kind == "photo" and again.file.file_id != first.file.file_id
    [row] = await coach.rows(MediaFile)
    assert row.file_id == again.file.file_id


async def test_a_clinic_s_own_picture_and_video_replace_the_drawn_one(coach, tmp_path: Path):
    own = tmp_path / "heel.png"
    own.write_bytes(drawn_png("bridge", "自院の写真"))  # any PNG the clinic took
    video = tmp_path / "heel.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42 a clinic video")
    await enrol(coach)
    await coach.text(USER, "/today")
    with clinic_files("knee", "heel_raise", picture=str(own), video=str(video)):
        picture, clip = await coach.press(USER, how_to("かかと上げ"))
        assert picture.kind == "photo" and picture.file_bytes == own.read_bytes()
        assert clip.kind == "video" and clip.file_bytes == video.read_bytes()
        assert clip.body == t("picture.video", name="かかと上げ")
        own.write_bytes(drawn_png("walking", "撮り直し"))  # replaced: a new hash, uploaded once more
        [newer, _] = await coach.press(USER, how_to("かかと上げ"))
        assert newer.file_bytes == own.read_bytes()
    ids = {r.picture_id for r in await coach.rows(MediaFile)}
    assert ids == {"exercise:knee:heel_raise", "video:knee:heel_raise"}
    with clinic_files("knee", "heel_raise", picture="https://clinic.example/heel.jpg"):
        [by_url] = await coach.press(USER, how_to("かかと上げ"))
        assert by_url.file.url == "https://clinic.example/heel.jpg"
    with clinic_files("knee", "heel_raise", picture=str(tmp_path / "gone.png")):  # a missing file: the drawing
        [drawn] = await coach.press(USER, how_to("かかと上げ"))
        assert drawn.file_bytes is None or drawn.file_bytes == drawn_png("heel_raise", "かかと上げ")


async def test_a_stale_or_forged_how_to_button_changes_nothing(coach):
    await enrol(coach)
    [plan] = await coach.text(USER, "/today")
    for data in ("hw:pelvic_tilt", "hw:cat_and_dog", "hw:Heel", "hw:heel_raise:1", "hw:"):  # not in the knee program
        assert await coach.press_raw(USER, data, plan.message_id) == [], data
    assert coach.standin.callback_answers[-1][1] == t("common.closed")


@pytest.mark.parametrize("condition", CONDITIONS)
async def test_the_reminder_card_is_short_at_every_dose(coach, condition):
    await coach.text(USER, "/trial")
    await coach.press(USER, t("button.consent"))
    await answer_signup(coach, condition=t(f"condition.{condition}"))
    await coach.text(USER, "はなこ")
    await coach.press(USER, t("button.confirm"))
    program = load_program(condition)
    for level in ("lowest", "highest"):
        if level == "highest":
            async with coach.rt.db.session() as s:
                p = await s.get(Patient, (await coach.rows(Patient))[0].id)
                for e in ELEMENT_ORDER:
                    setattr(p, e.value, program.max_levels[e])
        await coach.travel(hours=1 if level == "lowest" else 24)  # 09:00: the day's reminder
        reminder = coach.standin.messages(USER)[-1]
        assert reminder.body.startswith(t("reminder.text", nickname="はなこ")), level
        assert len(reminder.body) <= GLOSSARY_CARD, (level, len(reminder.body), reminder.body)
        assert reminder.button_texts[3:] == [how_to(x.name) for x in program.exercises]
        await coach.press(USER, t("button.skip"))


def test_every_shipped_exercise_and_the_new_ones_have_a_drawing():
    shipped = {x.id for c in CONDITIONS for x in load_program(c).exercises}
    coming = {"walking", "hip_abduction", "straight_leg_raise", "bridge"}  # issue 9 §1 (helper ladders)
    assert shipped | coming <= set(POSES)
    drawing = draw("sit_to_stand", "椅子からの立ち上がり")
    assert drawing.png.startswith(b"\x89PNG") and drawing.title == "椅子からの立ち上がり"
    assert drawing.panels == (t("picture.start"), t("picture.end")) and "chair" in drawing.props
    assert draw("sit_to_stand", "椅子からの立ち上がり").png == drawing.png  # the same bytes: one file id
