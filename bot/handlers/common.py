"""Every handler's set-up, once: who may use it, in which chat, with which database session.

A handler is a function of one `Turn` (the update being handled), decorated with who may use it:

    @patient_handler          an enrolled patient (strangers: "not enrolled", or "closed" for a button)
    @clinician_handler        a clinician or an admin (everyone else: the one polite refusal)
    @admin_only               an admin (ADMIN_TELEGRAM_IDS)
    @anyone                   /start /help /trial ...: the patient, if any, is looked up

`handle()` does the same for all of them, in this order:
  1. updates without a user or a chat (channel posts, ...) are ignored; a user over their burst gets no reply
     and no work (bot/fair_use.py), except for answers that are never dropped (ratings, red flags);
  2. private chats only: in a group the bot answers a command or a button press with one short line pointing
     to a private chat and does nothing else (typed text there gets no answer); the configured staff chat
     (STAFF_CHAT_ID) takes only the buttons of the notices sent there (`staff_chat=True`), and their answers
     go to the presser's private chat;
  3. one database session (transaction) for the whole update; the user is looked up and refused the same
     way everywhere; the update's inbox row is marked done in it (bot/updates.py: a restart handles again
     only what was not committed);
  3b. a patient who has not agreed to the current consent text (bot/coaching/consent.py) is shown it again
     instead, unless the handler stores nothing new (`stores=False`: reading, /delete, consent buttons);
  4. the handler records what to answer (`turn.send`, `turn.ack`, `turn.notice`, `turn.closed`);
  5. the answer is written to the outbox in the same transaction (kind `reply`, claimed by this instance), and
     sent after the commit, at once, through the interactive lane; then its row is forgotten. A process that
     dies in between leaves the row to the delivery runner (after its lease): every stored answer is
     answered, once. Nothing is said about what was not stored. When the database
     fails (read-only, full disk, unreachable) the transaction rolls back and the person is told that
     nothing was saved and to try again (`common.not_saved`); /health turns 503 (bot/health.py).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Update, User
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import crashpoints
from bot.callbacks import Consent, Trial, parse_id
from bot.channels import Channels, channel_of
from bot.coaching import consent
from bot.coaching import patients as patient_state
from bot.coaching.messages import Answering, Blocked, Held, Rejected, Reply, RetryLater, Unavailable, to_payload
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import clinicians, inbox, outbox, patients
from bot.storage.clinicians import Viewer
from bot.storage.db import storage_failure
from bot.storage.models import Patient

log = logging.getLogger(__name__)

Role = Literal["anyone", "patient", "clinician", "admin"]
T = TypeVar("T")


@dataclass
class Turn:
    """One update being handled: who sent it, the transaction, and what to answer once it is committed."""

    update: Update
    context: ContextTypes.DEFAULT_TYPE
    rt: Runtime
    s: AsyncSession
    user: User
    chat_id: int  # where answers go (the user's private chat)
    patient: Patient | None = None
    viewer: Viewer | None = None
    replies: list[Reply] = field(default_factory=list)
    press: tuple[str | None, bool, bool, str | None] | None = None  # (text, alert, keep_buttons, note)
    waiting: bool = False  # told to wait: too many wrong invite codes lately

    @property
    def data(self) -> str:
        """The pressed button's callback data ("" for a message)."""
        q = self.update.callback_query
        return (q.data or "") if q is not None else ""

    @property
    def pressed(self) -> bool:
        return self.update.callback_query is not None

    @property
    def args(self) -> list[str]:
        return list(self.context.args or [])

    @property
    def text(self) -> str:
        msg = self.update.effective_message
        return (msg.text or "") if msg is not None and self.update.callback_query is None else ""

    @property
    def in_staff_chat(self) -> bool:
        """A button pressed in the staff chat (its answers go to the presser's private chat)."""
        chat = self.update.effective_chat
        return chat is not None and chat.id != self.chat_id

    @property
    def bot(self) -> Bot:
        return self.context.bot

    def send(self, *replies: Reply | None) -> None:
        """Answer with these messages (sent after the transaction commits)."""
        self.replies.extend(r for r in replies if r is not None)

    def ack(self, toast: str | None = None, *, keep_buttons: bool = False, note: str | None = None) -> None:
        """Acknowledge the pressed button; take its buttons off (or add `note` under its text) so the
        answered question reads as done."""
        self.press = (toast, False, keep_buttons, note)

    def notice(self, text: str) -> None:
        """A short notice: a pop-up on a pressed button (the chat stays uncluttered), else a message."""
        if self.pressed:
            self.press = (text, True, True, None)
        else:
            self.send(Reply(text))

    def closed(self) -> None:
        """A press for an old, answered, forged or someone else's question: say so, change nothing."""
        self.notice(t("common.closed"))

    def pressed_value(self, parse: Callable[[str], T | None]) -> T | None:
        """The pressed button's value as its family's parser reads it (`Delete.parse`); a forged or stale one
        is answered `closed` and gives None."""
        value = parse(self.data)
        if value is None:
            self.closed()
        return value

    def id_argument(self, usage: str) -> int | None:
        """The command's first argument as an id (`/patient 12`); without a valid one, `usage` (a text) is sent
        and None returned."""
        found = parse_id(self.args[0]) if self.args else None
        if found is None:
            self.send(Reply(usage))
        return found

    def refuse(self) -> None:
        """The one answer for everyone not allowed a clinic command: the same words whatever they asked."""
        self.notice(t("clinic.refused"))

    async def invite(self, lookup: Callable[[], Awaitable[T | None]]) -> T | None:
        """Try an invite code (`lookup` finds what it opens). After too many wrong codes lately the code is
        not even looked up: the user is asked to wait (`waiting` is set) and None is returned; a wrong code
        counts towards that limit (bot/fair_use.py)."""
        fair, uid = self.rt.fair_use, self.user.id
        if fair.invite_blocked(uid):
            self.waiting = True
            self.notice(t("common.invite_wait", minutes=fair.invite_wait_minutes(uid)))
            return None
        found = await lookup()
        if found is None:
            fair.invite_failed(uid)
        return found

    def not_enrolled(self) -> None:
        self.send(Reply(t("common.not_enrolled"), [[(t("button.trial"), Trial().data)]]))

    def ask_consent_again(self) -> None:
        """The consent text changed since this patient agreed: show the new one with the consent buttons."""
        self.ack(keep_buttons=True)
        self.send(Reply(t("consent.again", what=consent.what(self.rt)),
                        [[(t("button.consent_again"), Consent(True).data)],
                         [(t("button.decline"), Consent(False).data)]]))


class PatientTurn(Turn):
    """The turn of a @patient_handler: `patient` is set (anyone else was refused before the handler ran)."""

    patient: Patient


class ClinicianTurn(Turn):
    """The turn of a @clinician_handler: `viewer` (a clinician or an admin) is set."""

    viewer: Viewer


TURNS: dict[Role, type[Turn]] = {"patient": PatientTurn, "clinician": ClinicianTurn}  # others: Turn
Handler = Callable[[Turn], Awaitable[None]]
Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]  # what python-telegram-bot calls


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The Runtime kept in the application's bot_data (bot/app.py)."""
    return context.application.bot_data["runtime"]


def channels(context: ContextTypes.DEFAULT_TYPE) -> Channels:
    """The messaging port (bot/channels.py), kept in the application's bot_data (bot/app.py)."""
    return context.application.bot_data["channels"]


def answering(update: Update, now: Any) -> Answering:
    """What a handler's answer answers: on LINE the event's reply token and when it came (bot/line/events.py
    keeps them in the update as `line`)."""
    line = (update.api_kwargs or {}).get("line")
    if isinstance(line, dict) and line.get("reply_token"):
        return Answering(received_at=datetime.fromisoformat(line["received_at"]), reply_token=line["reply_token"])
    return Answering(received_at=now)


async def patient_of(s: AsyncSession, rt: Runtime, user_id: int) -> Patient | None:
    """The enrolled patient behind a Telegram user. A patient Telegram marked unreachable (403) wrote again:
    they are reachable, and their reminders are planned again."""
    p = await patients.by_user(s, user_id)
    if p is not None:
        await patient_state.reachable(s, rt, p)
    return p


def is_admin(rt: Runtime, user_id: int) -> bool:
    return user_id in rt.settings.admin_telegram_ids


async def _admit(turn: Turn, role: Role) -> bool:
    """Look the user up for this role; False (and the refusal recorded) when they may not use it."""
    rt, s, uid = turn.rt, turn.s, turn.user.id
    match role:
        case "anyone" | "patient":
            turn.patient = await patient_of(s, rt, uid)
            if role == "patient" and turn.patient is None:
                turn.closed() if turn.pressed else turn.not_enrolled()
                return False
        case "clinician":
            turn.viewer = await clinicians.viewer(s, rt.settings.admin_telegram_ids, uid)
            if turn.viewer is None:
                turn.refuse()
                return False
        case "admin":
            if not is_admin(rt, uid):
                turn.refuse()
                return False
    return True


Exempt = bool | Callable[[Update], bool]


async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE, fn: Callable[[Any], Awaitable[None]], *,
                 role: Role,
                 staff_chat: bool = False, never_dropped: Exempt = False, stores: bool = True) -> None:
    """The set-up every handler goes through (see the module docstring)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return  # channel posts, service updates: nobody to answer
    rt = runtime(context)
    exempt = never_dropped(update) if callable(never_dropped) else never_dropped
    if not exempt and not rt.fair_use.allow(user.id):
        return  # over this user's burst: no reply, no work (bot/fair_use.py)
    chat_id = chat.id
    if chat.type != ChatType.PRIVATE:
        if not (staff_chat and rt.settings.staff_chat_id is not None and chat.id == rt.settings.staff_chat_id):
            await _private_only(update, context)
            return
        chat_id = user.id  # a button in the staff chat: the answer goes privately to whoever pressed it
    try:
        async with rt.db.session() as s:
            turn = TURNS.get(role, Turn)(update=update, context=context, rt=rt, s=s, user=user, chat_id=chat_id)
            if not await _admit(turn, role):
                pass
            elif stores and turn.patient is not None and not consent.current(turn.patient):
                turn.ask_consent_again()  # nothing new is stored until they agree to the current text
            else:
                await fn(turn)
            if channel_of(user.id) == "line":
                _press_as_message(turn)
            now = rt.clock.now()
            reply_row = await outbox.add_reply(
                s, chat_id=chat_id, telegram_user_id=user.id, update_id=update.update_id,
                messages=[to_payload(r) for r in turn.replies], now=now, worker=rt.worker_id,
                lease=timedelta(seconds=rt.settings.delivery_lease_seconds)) if turn.replies else None
            await inbox.done(s, [update.update_id], now)  # handled: not again after a restart
            crashpoints.reached("before_commit")
    except Exception as exc:
        if not storage_failure(exc):
            raise  # a bug: the error handler (bot/app.py) logs it and answers
        await _not_saved(update, context, chat_id, exc)
        return
    rt.done_updates[update.update_id] = True
    crashpoints.reached("after_commit")
    await _deliver(turn, reply_row)
    crashpoints.reached("after_reply")


async def _not_saved(update: Update, context: ContextTypes.DEFAULT_TYPE, chat_id: int, exc: BaseException) -> None:
    """The database could not take the write (read-only, full disk, unreachable): the transaction rolled back,
    so nothing of this update is stored, and the person is told exactly that. The log has the database's
    error and traceback, never the statement's values (the engine hides SQL parameters: ratings, names)."""
    user = update.effective_user.id if update.effective_user else None
    first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0][:200]
    log.error("update from user %s not saved: the database failed (%s: %s)", user, type(exc).__name__, first,
              exc_info=exc)
    try:
        await _answer_query(update, None)
        await channels(context).send(chat_id, [Reply(t("common.not_saved"))],
                                     answering=answering(update, runtime(context).clock.now()))
    except Exception:  # the messenger unreachable too: the log above is all we can do
        log.warning("could not tell user %s that nothing was saved", user)


def _press_as_message(turn: Turn) -> None:
    """LINE has no pop-up on a tapped button and cannot edit a sent message: a notice meant as a pop-up is sent
    as the answer's first message; a note under the answered question is left out (the tapped label shows in
    the chat as the person's own message)."""
    if turn.press is not None and turn.press[1] and turn.press[0]:
        turn.replies.insert(0, Reply(turn.press[0]))
    turn.press = None


@overload
def handler(role: Literal["patient"], *, staff_chat: bool = ..., never_dropped: Exempt = ...,
            stores: bool = ...) -> Callable[[Callable[[PatientTurn], Awaitable[None]]], Callback]: ...
@overload
def handler(role: Literal["clinician"], *, staff_chat: bool = ..., never_dropped: Exempt = ...,
            stores: bool = ...) -> Callable[[Callable[[ClinicianTurn], Awaitable[None]]], Callback]: ...
@overload
def handler(role: Literal["anyone", "admin"], *, staff_chat: bool = ..., never_dropped: Exempt = ...,
            stores: bool = ...) -> Callable[[Handler], Callback]: ...
def handler(role: Role, *, staff_chat: bool = False, never_dropped: Exempt = False,
            stores: bool = True) -> Callable[[Callable[[Any], Awaitable[None]]], Callback]:
    """Decorate `async def fn(turn)` as a python-telegram-bot callback for users of this role.
    `never_dropped`: the update is an answer (a rating, a red flag) that throttling never drops.
    `stores=False` marks a handler that stores nothing new about a patient (reading, /delete, the consent
    buttons): it is the only kind a patient who has not agreed to the current consent text can use."""
    def wrap(fn: Callable[[Any], Awaitable[None]]) -> Callback:
        @functools.wraps(fn)
        async def callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            await handle(update, context, fn, role=role, staff_chat=staff_chat, never_dropped=never_dropped,
                         stores=stores)

        callback.role = role  # type: ignore[attr-defined]  # read by the test that every handler is wrapped
        return callback
    return wrap


anyone = handler("anyone")
reads_or_erases = handler("anyone", stores=False)  # usable before agreeing to a changed consent text
patient_handler = handler("patient")
clinician_handler = handler("clinician")
admin_only = handler("admin")


async def _private_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a group: one short line pointing to a private chat, for a command or a button press only
    (members talking among themselves get no answer); nothing is read or stored."""
    text = t("common.private_only", bot=context.bot.username or "")
    if update.callback_query is not None:
        await _answer_query(update, text, alert=True)
        return
    msg = update.message
    if msg is not None and (msg.text or "").startswith("/"):
        await msg.reply_text(text)


# --- sending ----------------------------------------------------------------------------------------

async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    """Answer in the chat the update came from (used outside a Turn: the error handler)."""
    chat = update.effective_chat
    if chat is not None:
        await channels(context).send(chat.id, [reply], answering=answering(update, runtime(context).clock.now()))


async def _answer_query(update: Update, text: str | None, *, alert: bool = False) -> None:
    query = update.callback_query
    if query is None or channel_of(query.from_user.id) != "telegram":
        return  # LINE: nothing to acknowledge (a postback has no spinner)
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest:  # the press is too old to answer; nothing to do
        pass


async def _deliver(turn: Turn, reply_row: int | None) -> None:
    """After the commit: answer the press (every press stops spinning), then send the replies through the
    messaging port (their outbox row, committed with the answer, is forgotten once they are sent; if they cannot
    be sent now, or the process dies first, the delivery runner sends them when the row's lease runs out)."""
    query = turn.update.callback_query
    if query is not None and channel_of(turn.user.id) == "telegram":
        text, alert, keep_buttons, note = turn.press or (None, False, True, None)
        await _answer_query(turn.update, text, alert=alert)
        if turn.press is not None and not keep_buttons and query.message is not None:
            try:
                shown = getattr(query.message, "text", None)  # None for a message too old to be read
                if note and shown:
                    await query.edit_message_text(f"{shown}\n\n{note}")
                else:
                    await query.edit_message_reply_markup(None)
            except BadRequest:  # already edited (double tap) or too old: harmless
                pass
    if reply_row is None:
        return
    try:
        await channels(turn.context).send(turn.chat_id, turn.replies, key=f"outbox:{reply_row}:0",  # as the runner's
                                          answering=answering(turn.update, turn.rt.clock.now()))
    except (Blocked, RetryLater, Rejected, Unavailable, Held) as exc:
        log.warning("answer to user %s not sent now (%s); the delivery runner sends it later", turn.user.id,
                    type(exc).__name__, exc_info=exc)  # logs.py redacts the token in the traceback
        return
    await turn.rt.sent_replies(reply_row)
