"""`python -m bot chat`, driven programmatically (no stdin): signup with numbered buttons, moving the clock
through every due time, pressing buttons of older messages, switching between patient, clinician and admin,
saved pictures and documents, --reset, hints that work from where the user is, and a patient on LINE (`:as line`)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from bot import hints
from bot.chat import run_chat
from bot.config import ConfigError, Settings

START = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # Tuesday 12/01 08:00 in Tokyo
# knee, usual pain 3, no warning sign, no screen item, 09:00, morning 07:00, たろう
SIGNUP = ["/start", ":1", ":1", ":2", "3", ":2", ":2", ":1", ":1", "09:00", ":2", "たろう", ":1"]


async def chat(tmp_path: Path, lines, **kwargs) -> str:
    out = io.StringIO()
    script = lines(out) if callable(lines) else lines
    assert await run_chat(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}", lines=script, out=out,
                          files=tmp_path / "files", start=START, **kwargs) == 0
    return out.getvalue()


def number_of(out: io.StringIO, text: str, nth: int = 0) -> int:
    """The on-screen number of the `nth` message whose text contains `text`."""
    found = re.findall(rf"🤖 #(\d+) [^\n]*{re.escape(text)}", out.getvalue())
    return int(found[nth])


async def test_signup_with_numbered_buttons(tmp_path):
    text = await chat(tmp_path, SIGNUP)
    assert "いたみコーチです" in text
    assert re.search(r"\[\d+\.1\] 体験を申し込む", text)  # buttons numbered message.button
    assert "運動の時間：毎日 09:00" in text and "たろうさん、ようこそ" in text
    assert "python -m bot chat --reset" in text  # the hint, as it works from here
    # ... and for this try-out's own database and folder, not the defaults it would otherwise delete
    assert f"--reset --database sqlite+aiosqlite:///{tmp_path / 'demo.db'} --files {tmp_path / 'files'}" in text


async def test_moving_the_clock_delivers_everything_that_fell_due_on_the_way(tmp_path):
    text = await chat(tmp_path, [*SIGNUP, ":+3d"])
    # three days of reminders, each at its time (the old chat mode jumped 3 days and dropped them as too late)
    for stamp in ("12/01 09:00", "12/02 09:00", "12/03 09:00"):
        assert f"⏩ {stamp}" in text
    assert text.count("運動の時間です") >= 3
    assert "not sent, too late" not in text
    assert "⏩ now 12/04 08:00" in text


def press_an_older_message(out: io.StringIO) -> Iterator[str]:
    yield from SIGNUP
    yield ":+2h"  # 09:00 reminder, then its repeat: two messages with 今から始める
    first = number_of(out, "運動の時間です")
    assert number_of(out, "もう一度お知らせします") > first  # a newer message with the same buttons
    yield f":{first}.1"  # 今から始める on the first reminder, not the newest message
    yield ":999.1"


async def test_buttons_of_any_shown_message_can_be_pressed(tmp_path):
    text = await chat(tmp_path, press_an_older_message)
    assert "始める前" in text  # the before-exercise question came from pressing the older reminder
    assert re.search(r"✏️ #\d+ ▶ 今から始める", text)  # the bot's edit of the pressed message is shown
    assert "(no such button" in text


def three_people(out: io.StringIO) -> Iterator[str]:
    yield from SIGNUP
    yield ":as clinician"
    yield "/patients"
    yield "/export"
    yield "/summary"
    yield ":as admin"
    yield "/clinicians"
    yield ":as patient"
    yield "/today"


async def test_one_chat_switches_between_patient_clinician_and_admin(tmp_path):
    text = await chat(tmp_path, three_people)
    assert "👤 you are now the clinician" in text and "👤 you are now the admin" in text
    after_switch = text.split("👤 you are now the clinician", 1)[1]
    assert "たろう" in after_switch.split("👤 you are now the admin")[0]  # the clinician's patient list
    assert "田中" in text.split("👤 you are now the admin", 1)[1]  # the admin's clinician list
    # the export and the charts are saved, and their paths printed
    saved = re.findall(r"📎 saved: (\S+)", text)
    assert any(p.endswith(".csv") for p in saved) and sum(p.endswith(".png") for p in saved) >= 2
    assert all(file_head(path) for path in saved)
    assert file_head(next(p for p in saved if p.endswith(".csv"))).startswith(b"\xef\xbb\xbf")  # the BOM


def file_head(path: str) -> bytes:
    return Path(path).read_bytes()[:8]


async def test_reset_starts_afresh(tmp_path):
    await chat(tmp_path, SIGNUP)
    again = await chat(tmp_path, ["/trial"])
    assert "登録済み" in again  # kept between runs
    fresh = await chat(tmp_path, ["/trial"], reset=True)
    assert "Started afresh: deleted" in fresh and "demo.db" in fresh
    assert "登録済み" not in fresh and "同意" in fresh


async def test_unknown_commands_get_a_hint(tmp_path):
    text = await chat(tmp_path, [":as nobody", ":what", ":help"])
    assert "choose one of: :as patient | :as clinician | :as admin" in text
    assert "(unknown command; :help lists them)" in text


# --- a patient on LINE (bot/chat_line.py) ----------------------------------------------------------------

# the follow brings the welcome; then as SIGNUP, through quick replies and typed answers, as じろう
LINE_SIGNUP = [":as line", ":1", ":1", ":2", "3", ":2", ":2", ":1", ":1", "09:00", ":2", "じろう", ":1"]


async def test_a_line_patient_enrols_is_reminded_and_rates_and_the_clinician_sees_them(tmp_path):
    text = await chat(tmp_path, [*LINE_SIGNUP, ":+1h", ":1", ":3", ":as clinician", "/patients"])
    assert "👤 you are now the LINE patient" in text and "(you add the coach as a LINE friend" in text
    # the welcome answers the follow with the free reply token; its quick reply numbered as LINE shows it
    assert re.search(r"🤖 #\d+ \[LINE reply\] こんにちは。いたみコーチです", text)
    assert "   [1] 体験を申し込む" in text and "[1] 同意して始める  [2] 同意しない" in text
    assert re.search(r"\[LINE reply\] じろうさん、ようこそ", text)
    # 09:00: the reminder is a push, printed at its time with its quick replies
    after = text.split("⏩ 12/01 09:00", 1)[1]
    assert re.search(r"🤖 #\d+ \[LINE push\] じろうさん、運動の時間です", after)
    assert "[1] 今から始める  [2] 30分後に" in after
    # the exercise pictures, side by side with their captions: the bot's own /line/media URLs printed, the bytes
    # fetched and saved
    assert re.search(r"\[LINE push\] 🖼 \d+ picture\(s\) with text, side by side\n   \(1\) 【", after)
    assert re.search(r"   🔗 http://127\.0\.0\.1:\d+/line/media/p/", after)
    saved = re.findall(r"📎 saved: (\S+)", after)
    assert saved and all(file_head(p).startswith(b"\x89PNG") for p in saved)
    # 今から始める, then the rating "2": answers to taps go with the reply token
    assert re.search(r"\[LINE reply\] 始める前に、いまの痛みを", after) and "記録しました（運動前 2）" in after
    clinician = text.split("👤 you are now the clinician", 1)[1]
    assert "じろう" in clinician  # the LINE patient in the clinician's /patients


def line_quick_replies_are_on_the_newest_message(out: io.StringIO) -> Iterator[str]:
    yield from LINE_SIGNUP
    yield ":as clinician"
    yield ":+1h"  # the reminder is pushed to the LINE patient meanwhile
    assert "📬 line:" in out.getvalue()
    yield ":as line"
    reminder = number_of(out, "[LINE push] じろうさん、運動の時間です")
    yield f":{reminder - 1}.1"  # an older LINE message: its quick replies are gone
    yield ":99"
    yield ":help"
    yield ":as someone"
    yield f":{reminder}.1"  # the newest LINE message: 今から始める


async def test_line_quick_replies_exist_only_on_the_newest_line_message(tmp_path):
    text = await chat(tmp_path, line_quick_replies_are_on_the_newest_message)
    assert "(on LINE only the newest message has quick replies" in text
    assert "(the newest LINE message has no quick reply 99: use 1-" in text
    assert ":as line          be a patient on LINE" in text  # :help
    assert "choose one of: :as patient | :as clinician | :as admin | :as line" in text
    assert "始める前に、いまの痛みを" in text.split("(on LINE only the newest", 1)[1]


async def test_the_line_patient_is_the_same_in_the_next_run(tmp_path):
    await chat(tmp_path, LINE_SIGNUP)
    again = await chat(tmp_path, [":+1h", ":as line", "/today"])
    # a friend already: pushes reach them before they are looked at, no second follow and welcome
    assert "📬 line:" in again and "(you add the coach" not in again and "こんにちは。いたみコーチです" not in again
    assert re.search(r"\[LINE push\] じろうさん、運動の時間です", again)
    assert re.search(r"\[LINE reply\] [^\n]*今日", again)


# --- hints -----------------------------------------------------------------------------------------------

def _python_here(monkeypatch, tmp_path, *, active: bool, on_path: Callable[[str], str | None]) -> str:
    venv = tmp_path / ".venv"
    monkeypatch.setattr(hints.sys, "executable", str(venv / "bin" / "python"))
    monkeypatch.setattr(hints.sys, "prefix", str(venv))
    monkeypatch.setattr(hints.shutil, "which", on_path)
    if active:
        monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    else:
        monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    return hints.python(tmp_path)


def test_hints_name_the_venv_python_when_the_venv_is_not_active(monkeypatch, tmp_path):
    assert _python_here(monkeypatch, tmp_path, active=False, on_path=lambda _: "/usr/bin/python") == \
        ".venv/bin/python"


def test_hints_say_python_when_the_venv_is_active(monkeypatch, tmp_path):
    assert _python_here(monkeypatch, tmp_path, active=True, on_path=lambda _: None) == "python"
    venv_python = str(tmp_path / ".venv" / "bin" / "python")
    assert _python_here(monkeypatch, tmp_path, active=False, on_path=lambda _: venv_python) == "python"


def test_the_missing_token_message_names_a_chat_command_that_works_here(monkeypatch):
    monkeypatch.setattr(hints, "python", lambda cwd=None: ".venv/bin/python")
    try:
        Settings(_env_file=None).require_token()
    except ConfigError as exc:
        assert "run: .venv/bin/python -m bot chat" in str(exc)
    else:
        raise AssertionError("no token must be refused")
