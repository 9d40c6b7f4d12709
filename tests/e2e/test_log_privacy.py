"""A whole journey with a recognisable nickname and deliberately provoked failures (a database write that
fails, a network error whose URL holds the token, a revoked token): the log output holds neither the
token, nor the nickname, nor the ratings. tests/logscan.py scans every e2e test's logs; this test makes
sure the failure paths are in what it scans."""

from __future__ import annotations

from sqlalchemy import text

from bot.storage.models import ExerciseSession, Outbox, Patient
from tests.harness import TOKEN
from tests.helpers import USER, enrol
from tests.logscan import leaks

NICKNAME = "ヒミツノハナコ"
SECOND, SECOND_NICKNAME = 5002, "ナイショノジロウ"
OTHER_TOKEN = "987654321:ZZyyXXwwVVuuTTssRRqqPPooNNmmLLkkJJ"


async def _refuse_writes(coach, table: str, op: str) -> None:
    """A trigger makes every `op` on `table` fail, as a full disk or a broken database would."""
    async with coach.rt.db.session() as s:
        if coach.rt.db.sqlite:
            await s.execute(text(f"CREATE TRIGGER refuse_{table} BEFORE {op} ON {table} "
                                 "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"))
        else:
            await s.execute(text("CREATE OR REPLACE FUNCTION refuse() RETURNS trigger AS "
                                 "$$ BEGIN RAISE EXCEPTION 'disk I/O error'; END $$ LANGUAGE plpgsql"))
            await s.execute(text(f"CREATE TRIGGER refuse_{table} BEFORE {op} ON {table} "
                                 "FOR EACH ROW EXECUTE FUNCTION refuse()"))


async def _allow_writes(coach, table: str) -> None:
    async with coach.rt.db.session() as s:
        await s.execute(text(f"DROP TRIGGER refuse_{table}" + ("" if coach.rt.db.sqlite else f" ON {table}")))


async def test_failures_during_a_journey_log_no_token_nickname_or_rating(coach, log_scan):
    await enrol(coach, nickname=NICKNAME)
    await coach.travel(hours=1)
    await coach.press(USER, "今から始める")

    # 1. a rating whose write fails: the error is logged, its SQL parameters (the rating) are not
    await _refuse_writes(coach, "exercise_session", "UPDATE")
    await coach.press(USER, "7")
    await _allow_writes(coach, "exercise_session")
    [session] = await coach.rows(ExerciseSession)
    assert session.before is None  # not stored
    await coach.press(USER, "6")
    [session] = await coach.rows(ExerciseSession)
    assert session.before == 6

    # 2. a signup whose final write fails: the nickname and answers are not logged
    await _refuse_writes(coach, "patient", "INSERT")
    await enrol(coach, SECOND, nickname=SECOND_NICKNAME)  # its last step, the patient row, fails
    await _allow_writes(coach, "patient")
    assert await coach.count(Patient, Patient.telegram_user_id == SECOND) == 0

    # 3. a mistyped API URL for sending (polling goes on): the reply to /help and the due question fail
    #    with errors whose URL holds the token; the handler's error is logged with its traceback
    sending = coach.app.bot._request[1]
    real = sending.do_request

    async def mistyped(url, *args, **kwargs):
        return await real(url.replace("http://", "htp://"), *args, **kwargs)

    sending.do_request = mistyped
    try:
        assert await coach.text(USER, "/help") == []  # not sent
        await coach.travel(minutes=20)  # the during question is due: its send fails
    finally:
        sending.do_request = real

    # 4. a revoked token: Telegram answers 401 to every call (polling stopped first: PTB ends its polling
    #    loop on a 401, and whether a poll falls in this window depends on the machine's load)
    await coach.stop_polling()
    coach.standin.token = OTHER_TOKEN
    await coach.travel(days=1)
    coach.standin.token = None

    logged = log_scan.text
    assert "disk I/O error" in logged and "hide_parameters" in logged  # the write failures were logged
    assert "NonHttpUrlClientError" in logged and "/bot<token>/" in logged  # so was the network error
    assert leaks(logged, {NICKNAME, SECOND_NICKNAME}) == []
    errors = [row.last_error for row in await coach.rows(Outbox) if row.last_error]
    assert errors and not any(TOKEN in e or "123456789:" in e for e in errors)  # nor in the database


def test_the_scan_finds_what_it_looks_for():
    line = (f"ERROR x: [SQL: UPDATE exercise_session SET before=?]\n[parameters: (7, 1)]\n"
            f"GET http://127.0.0.1/bot{TOKEN}/getMe rating=7 by {NICKNAME}")
    found = leaks(line, {NICKNAME})
    assert len(found) == 6 and all(found)
