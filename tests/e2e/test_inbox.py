"""The inbox (bot/updates.py, issue 13): an update is committed before Telegram is told it arrived, so one
stored but not handled when the bot stopped is handled at the next start, once; handled rows forget what
the person sent, and are purged once Telegram cannot send them again."""

from __future__ import annotations

from datetime import timedelta

from bot.storage.models import Decision, ExerciseSession, Inbox, Outbox
from tests.e2e.test_bad_input import msg, start_session
from tests.harness import Coach
from tests.helpers import USER


async def test_an_update_stored_before_a_stop_is_handled_once_after_the_restart(standin, database_url, coach_start):
    first = await Coach(standin, database_url, coach_start).start()
    try:
        await start_session(first)
        await first.stop_polling()  # as if killed right after the inbox commit: the rating is stored, not handled
        pressed = first.find(USER, button_text="5")
        await standin.user_presses(USER, pressed.message_id, button_text="5")
        updates = await first.app.bot.get_updates(timeout=0)
        assert await first.updates.store(list(updates)) == {updates[-1].update_id}
        await first.app.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)  # Telegram: confirmed
        [row] = await first.rows(Inbox, Inbox.done_at.is_(None))
        assert row.telegram_user_id == USER and row.update["callback_query"]["data"].endswith(":5")
    finally:
        await first.stop()
    before = len(standin.messages(USER))

    second = await Coach(standin, database_url, coach_start + timedelta(minutes=1)).start()  # resumes the inbox
    try:
        await second._handled.query(row.update["callback_query"]["id"], 90)
        replies = standin.messages(USER)[before:]
        assert [r.body for r in replies if msg("decision.hold.start", limit=5, before=5) in r.body] == [replies[0].body]
        assert len(replies) == 1
        [session] = await second.rows(ExerciseSession)
        assert session.before == 5 and await second.count(Decision, Decision.stage == "before") == 1
        [done] = await second.rows(Inbox, Inbox.update_id == row.update_id)
        assert done.done_at is not None and done.update is None  # what the person sent is not kept
    finally:
        await second.stop()

    third = await Coach(standin, database_url, coach_start + timedelta(minutes=2)).start()  # nothing to resume
    try:
        await third.text(USER, "/help")
        assert len(standin.messages(USER)) == before + 2
        assert await third.count(Decision, Decision.stage == "before") == 1
        assert await third.count(Inbox, Inbox.update.is_not(None), Inbox.done_at.is_not(None)) == 0
        third.clock.travel(timedelta(minutes=2))  # purges go with a store, at most once a minute
        await third.text(USER, "/help")  # its store purges the rows below the offset Telegram confirmed
        assert await third.count(Inbox, Inbox.update_id == row.update_id) == 0
    finally:
        await third.stop()


async def test_an_answer_committed_but_not_sent_is_sent_once_after_the_restart(standin, database_url, coach_start,
                                                                              monkeypatch):
    first = await Coach(standin, database_url, coach_start).start()
    try:
        await start_session(first)
        before = len(standin.messages(USER))

        async def dies_after_commit(turn, reply_row) -> None:  # the process ends between commit and send
            pass

        monkeypatch.setattr("bot.handlers.common._deliver", dies_after_commit)
        assert await first.press(USER, "5") == []
        monkeypatch.undo()
        [row] = await first.rows(Outbox, Outbox.kind == "reply")
        assert row.state == "claimed" and row.telegram_user_id == USER  # committed with the rating
        assert msg("decision.hold.start", limit=5, before=5) in row.payload["messages"][0]["text"]
        stopped_at = first.clock.now()
    finally:
        await first.stop()

    second = await Coach(standin, database_url, stopped_at).start()
    try:
        await second.travel(seconds=second.settings.delivery_lease_seconds - 1)
        assert len(standin.messages(USER)) == before  # the dead process's lease still holds it
        await second.travel(seconds=2)  # its lease ran out: the delivery runner sends it
        [reply] = standin.messages(USER)[before:]
        assert msg("decision.hold.start", limit=5, before=5) in reply.body
        assert await second.travel(minutes=5) == 0 or len(standin.messages(USER)) == before + 1
        assert [m.body for m in standin.messages(USER)[before:]].count(reply.body) == 1
        [session] = await second.rows(ExerciseSession)
        assert session.before == 5
        await second.text(USER, "/help")  # answered at once and forgotten; the runner's sent row purged
        assert await second.count(Outbox, Outbox.kind == "reply") == 0
    finally:
        await second.stop()
