"""/trial (体験申込): consent -> condition -> usual pain -> fall risk -> red-flag screening -> times -> nickname ->
confirm.

Fall risk (issue 9): a fall in the last year, then unsteadiness standing up or walking (yes/no each); either
"yes" gives the patient the supported variant of every standing exercise and shows the clinician the flag.

Screening (issue 8): today's warning signs (`Flag`, none/some), then the guideline screen of the condition
(rules.RedFlags.signup_screen: the low back items of 腰痛診療ガイドライン2019, the knee items, both for both;
none/some, then which). A "yes" is answered at once with its tier's advice (an emergency or same-day sign:
119 / a doctor today; anything else: evaluation first), the clinic gets a staff notice, and the signup goes
on: the person is enrolled but held until a clinician or admin clears them (/clear), not refused.

Nothing is stored before the consent button; from then on the step lives in the `signup` table, so a
restart resumes where the person stopped. Buttons carry their step: a press for another step is closed.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import alerts, coaching
from bot.callbacks import PATTERNS, Consent, Delete, Rejoin, SignupStep, Trial, from_hhmm, hhmm
from bot.channels import channel_of
from bot.coaching import consent as consent_text
from bot.coaching import outcomes, progress, safety
from bot.coaching.messages import Reply, join
from bot.handlers.common import Turn, anyone, reads_or_erases
from bot.i18n import t
from bot.parsing import NAME_MAX, parse_name, parse_numbers, parse_rating, parse_time
from bot.runtime import Runtime
from bot.storage import clinicians, patients, sessions
from bot.storage.models import Signup
from bot.timeplan import local_date
from rules import CONDITIONS, MENU_GROUPS, Flag, RedFlagItem, Tier, load_redflags

EXERCISE_TIMES = ("07:00", "09:00", "12:00", "15:00", "18:00", "20:00")
MORNING_TIMES = ("06:00", "07:00", "08:00", "09:00")
NICKNAME_MAX = NAME_MAX
STEP_OF = {"cond": "condition", "pain": "pain", "fall": "falls", "unst": "unsteady", "rf": "redflags",
           "rfg": "redflag_which", "rff": "redflag_which", "scr": "screen", "scw": "screen_which", "time": "time",
           "morning": "morning", "nick": "nickname", "ok": "confirm", "redo": "confirm", "contact": "confirm",
           "nocontact": "contact"}
CONTACT = re.compile(r"[0-9A-Za-z\-−ー‐ ]{3,20}")  # a phone number or a clinic's patient number


def screen_items(condition: str) -> list[RedFlagItem]:
    """The guideline screen of this condition, each question once (both: back and knee, fever asked once)."""
    items: list[RedFlagItem] = []
    for item in load_redflags().signup_screen(condition):
        if all(t(item.question) != t(i.question) for i in items):
            items.append(item)
    return items


def fall_answers(d: dict[str, object]) -> str:
    """The fall-risk answers as the summary shows them: なし, or which applies."""
    found = [t(f"signup.fall_risk.{k}") for k in ("falls", "unsteady") if d.get(k)]
    return "・".join(found) if found else t("signup.fall_risk.none")


def _times(prefix: str, times: tuple[str, ...]) -> list[list[tuple[str, str]]]:
    buttons = [(tm, SignupStep(prefix, hhmm(tm)).data) for tm in times]
    return [buttons[i:i + 3] for i in range(0, len(buttons), 3)]


def question(sign: Signup) -> Reply:
    """The question for the step this person is at."""
    d = sign.data
    match sign.step:
        case "condition":
            return Reply(t("signup.condition"), [[(t(f"condition.{c}"), SignupStep("cond", c).data)]
                                                       for c in CONDITIONS])
        case "pain":
            return Reply(t("signup.pain"), [[(str(n), SignupStep("pain", str(n)).data) for n in range(0, 6)],
                                            [(str(n), SignupStep("pain", str(n)).data) for n in range(6, 11)]])
        case "falls" | "unsteady":
            prefix = "fall" if sign.step == "falls" else "unst"
            return Reply(t(f"signup.{sign.step}"), [[(t("button.yes"), SignupStep(prefix, "yes").data),
                                                     (t("button.no"), SignupStep(prefix, "no").data)]])
        case "redflags":
            return coaching.patients.safety_check(SignupStep("rf", "none").data, SignupStep("rf", "some").data)
        case "redflag_which":  # which kind first (LINE shows at most 13 buttons), then that kind's signs: rfg
            return Reply(t("checkin.which_group"),
                         safety.group_buttons(lambda g: SignupStep("rfg", g).data, SignupStep("rfg", "none").data))
        case "screen":
            items = "\n".join(t("signup.screen_item", n=n, text=t(i.question))
                              for n, i in enumerate(screen_items(d["condition"]), 1))
            return Reply(t("signup.screen", items=items),
                         [[(t("button.none_apply"), SignupStep("scr", "none").data)],
                          [(t("button.some_apply"), SignupStep("scr", "some").data)]])
        case "screen_which":
            count = len(screen_items(d["condition"]))
            numbers = [(str(n), SignupStep("scw", str(n)).data) for n in range(1, count + 1)]
            return Reply(t("signup.screen_which"), [numbers[i:i + 5] for i in range(0, len(numbers), 5)])
        case "time":
            return Reply(t("signup.time"), _times("time", EXERCISE_TIMES))
        case "morning":
            return Reply(t("signup.morning"), _times("morning", MORNING_TIMES))
        case "nickname":
            # LINE does not tell the bot a person's name without asking its API: a LINE user types the name
            own_name = [[(t("button.use_telegram_name"), SignupStep("nick", "tg").data)]]
            return Reply(t("signup.nickname"), own_name if channel_of(sign.telegram_user_id) == "telegram" else [])
        case "contact":
            return Reply(t("signup.contact"), [[(t("button.no_contact"), SignupStep("nocontact").data)]])
        case _:
            summary = t("signup.summary", condition=t(f"condition.{d['condition']}"), pain=d["usual_pain"],
                        falls=fall_answers(d), time=d["exercise_time"], morning=d["morning_time"],
                        nickname=d["nickname"])
            if d.get("contact"):
                summary = join(summary, t("signup.summary_contact", contact=d["contact"]))
            return Reply(summary, [[(t("button.confirm"), SignupStep("ok").data)],
                                   [(t("button.contact"), SignupStep("contact").data)],
                                   [(t("button.redo"), SignupStep("redo").data)]])


def _consent_screen(rt: Runtime, link_code: str | None = None) -> Reply:
    """The consent question. Before consent nothing is stored, so a clinician's invite-link code travels in
    the consent button and the clinician is looked up from it once the person consents."""
    return Reply(t("signup.consent", what=consent_text.what(rt)),
                 [[(t("button.consent"), Consent(True, link_code).data)], [(t("button.decline"), Consent(False).data)]])


@anyone
async def trial(turn: Turn) -> None:
    """/trial, or the 体験を申し込む button."""
    p = turn.patient
    turn.ack(keep_buttons=True)
    press = Trial.parse(turn.data) if turn.pressed else Trial()
    if press is None:
        turn.closed()
        return
    sign = await patients.signup_of(turn.s, turn.user.id) if p is None else None
    if p is not None and p.status == "ended":  # re-joining: the safety check, then handlers/patient_settings
        turn.send(coaching.patients.safety_check(Rejoin("ok").data, Rejoin("flag").data))
    elif p is not None:
        turn.send(Reply(join(t("signup.already_enrolled", nickname=p.nickname), coaching.plan_lines(p)),
                        coaching.plan_buttons(p)))
    elif sign is not None:
        turn.send(Reply(join(t("signup.resume"), question(sign).text), question(sign).buttons))
    else:
        turn.send(_consent_screen(turn.rt, press.link_code))


@reads_or_erases
async def consent(turn: Turn) -> None:
    s, rt, user = turn.s, turn.rt, turn.user
    press = Consent.parse(turn.data)
    if press is None:
        turn.closed()
        return
    p = turn.patient
    if not press.yes:
        turn.ack()
        if p is not None and not consent_text.current(p):  # a changed consent text, declined: nothing new
            turn.send(Reply(t("consent.declined"), [[(t("button.consent_again"), Consent(True).data)],
                                                    [(t("button.delete_yes"), Delete(True).data)]]))
        else:
            turn.send(Reply(t("signup.declined")))
        return
    now = rt.clock.now()
    if p is not None and not consent_text.current(p):
        consent_text.agree(rt, p)
        reply = Reply(t("consent.agreed"))
    elif p is not None:
        reply = Reply(t("signup.already_enrolled_short"))
    else:
        sign = await patients.signup_of(s, user.id)
        if sign is None:
            # the clinician comes only from a valid invite-link code, never from an id in the button
            code = press.link_code
            c = await turn.invite(lambda: clinicians.by_link_code(s, code)) if code else None
            if turn.waiting:
                return
            data = {"consent_version": consent_text.CONSENT_VERSION, **({"clinician_id": c.id} if c else {})}
            sign = Signup(telegram_user_id=user.id, chat_id=turn.chat_id, step="condition", data=data,
                          consent_at=now, updated_at=now)
            s.add(sign)
        reply = question(sign)
    turn.ack(note=t("signup.consented"))
    turn.send(reply)


def _advance(sign: Signup, step: str, rt: Runtime, **data: object) -> None:
    sign.data = {**sign.data, **data}
    sign.step = step
    sign.updated_at = rt.clock.now()


async def _red_flag(s: AsyncSession, rt: Runtime, sign: Signup, flags: list[str]) -> Reply:
    """A "yes" during signup (`Flag` values, or screen items' ids: all the numbers typed): recorded, the most
    urgent tier's advice at once, the clinic told, and the signup goes on to the times: the person will be
    enrolled but held for clearance."""
    now = rt.clock.now()
    catalogue = load_redflags()
    held = sign.data.get("held") or {"flags": []}
    every = list(dict.fromkeys([*held["flags"], *flags]))
    tier = catalogue.tier(flags)
    sessions.record_red_flags(s, telegram_user_id=sign.telegram_user_id, source="signup", flags=flags,
                              urgent=tier is Tier.EMERGENCY, created_at=now)
    detail = "、".join(t(f"flag.{f}") if f in Flag.__members__.values() else catalogue[f].label for f in flags)
    await alerts.staff_notice(s, rt, event="signup_red_flag", telegram_user_id=sign.telegram_user_id,
                              detail=detail, tier=str(tier))
    _advance(sign, "time", rt, held={"tier": str(catalogue.tier(every)), "flags": every})
    advice = f"redflag.advice.{tier}" if tier in (Tier.EMERGENCY, Tier.SAME_DAY) else "redflag.advice.screen_back"
    contact = safety.contact(rt)
    q = question(sign)
    return Reply(join(t(advice, **contact), safety.informed_line(rt, bool(alerts.recipients(rt))),
                      t("signup.held_continue"), q.text), q.buttons, priority="safety")


async def _screen_numbers(s: AsyncSession, rt: Runtime, sign: Signup, text: str) -> Reply | None:
    """The guideline screen's numbers typed (「1と3」「１、３」): every item named is recorded. A number out of
    range, or text that is not a list of numbers, gets a kind answer and changes nothing. None: not numbers."""
    numbers = parse_numbers(text)
    if numbers is None:
        return None
    items = screen_items(sign.data["condition"])
    if any(not 1 <= n <= len(items) for n in numbers):
        q = question(sign)
        return Reply(join(t("signup.screen_out_of_range", last=len(items)), q.text), q.buttons)
    reply = await _red_flag(s, rt, sign, [items[n - 1].id for n in numbers])
    recorded = t("signup.screen_recorded", numbers="・".join(str(n) for n in numbers))
    return Reply(join(recorded, reply.text), reply.buttons, priority=reply.priority)


async def _enrol(s: AsyncSession, rt: Runtime, sign: Signup) -> list[Reply]:
    held = sign.data.get("held")
    p = await coaching.patients.enrol(s, rt, sign)
    if held:  # a "yes" during signup: enrolled, held until a clinician clears them; their clinician is alerted
        await sessions.link_signup_reports(s, p)
        await safety.hold(s, rt, p, held["tier"], held["flags"])
        await alerts.schedule(s, rt, p, event="red_flag", urgent=held["tier"] == Tier.EMERGENCY, tier=held["tier"])
        # held: no questions now; the first outcome round, planned as usual, asks the baseline
        await outcomes.schedule_next(s, rt, p, local_date(rt.clock.now(), p.timezone))
        return [Reply(t("signup.welcome_held", nickname=p.nickname, **safety.contact(rt)), priority="safety")]
    welcome = Reply(join(t("signup.welcome", nickname=p.nickname, time=p.exercise_time, days=rt.settings.trial_days,
                           end=p.trial_ends_on.strftime("%m/%d"), per_week=rt.settings.trial_target_per_week),
                         coaching.plan_lines(p), t("signup.how_it_works")))
    await progress.begin(s, rt, p)  # the weekly report and the end-of-trial report
    questions = await outcomes.begin(s, rt, p)  # the baseline outcome measures (buttons: the last message)
    if not questions:
        welcome.buttons = coaching.plan_buttons(p)
    return [welcome, *questions]


@anyone
async def on_button(turn: Turn) -> None:
    """Every su:* button."""
    press = SignupStep.parse(turn.data)
    sign = await patients.signup_of(turn.s, turn.user.id)
    reply = None
    if press is not None and sign is not None and STEP_OF.get(press.what) == sign.step:
        reply = await _step(turn.s, turn.rt, sign, press.what, press.value, turn.user.first_name or "")
    if reply is None:
        turn.closed()
        return
    turn.ack()
    turn.send(*(reply if isinstance(reply, list) else [reply]))


async def _step(s: AsyncSession, rt: Runtime, sign: Signup, kind: str, value: str,
                telegram_name: str) -> Reply | list[Reply] | None:
    match kind:
        case "cond" if value in CONDITIONS:
            _advance(sign, "pain", rt, condition=value)
        case "pain" if (pain := parse_rating(value)) is not None:
            _advance(sign, "falls", rt, usual_pain=pain)
        case "fall":
            _advance(sign, "unsteady", rt, falls=value == "yes")
        case "unst":
            _advance(sign, "redflags", rt, unsteady=value == "yes")
            if sign.data.get("falls") or sign.data.get("unsteady"):  # told once what the answers change
                q = question(sign)
                return Reply(join(t("signup.fall_risk_noted"), q.text), q.buttons)
        case "rf" if value == "none":
            _advance(sign, "screen", rt)
        case "rf" if value == "some":
            _advance(sign, "redflag_which", rt)
        case "rfg" if value in MENU_GROUPS:  # the signs of one kind; the step stays
            return Reply(t("signup.redflag_which"),
                         safety.sign_buttons(MENU_GROUPS[value], lambda f: SignupStep("rff", f).data,
                                             SignupStep("rfg", "all").data))
        case "rfg" if value == "none":  # none after all
            _advance(sign, "screen", rt)
        case "rfg":  # back to the kinds
            pass
        case "rff" if value in Flag.__members__.values():
            return await _red_flag(s, rt, sign, [value])
        case "scr" if value == "none":
            _advance(sign, "time", rt)
        case "scr" if value == "some":
            _advance(sign, "screen_which", rt)
        case "scw" if 1 <= int(value) <= len(items := screen_items(sign.data["condition"])):
            return await _red_flag(s, rt, sign, [items[int(value) - 1].id])
        case "time" | "morning" if (tm := parse_time(from_hhmm(value))) is not None:
            if kind == "time":
                _advance(sign, "morning", rt, exercise_time=tm)
            else:
                _advance(sign, "nickname", rt, morning_time=tm)
        case "nick":
            name = parse_name(telegram_name, NICKNAME_MAX)
            if name is None:  # the Telegram name is too long or has characters a name may not have
                q = question(sign)
                return Reply(join(t("signup.telegram_name_unusable", max=NICKNAME_MAX), q.text), q.buttons)
            _advance(sign, "confirm", rt, nickname=name)
        case "ok":
            if await patients.by_user(s, sign.telegram_user_id) is not None:
                await s.delete(sign)
                return Reply(t("signup.already_enrolled_short"))
            return await _enrol(s, rt, sign)
        case "redo":
            _advance(sign, "condition", rt)
        case "contact":
            _advance(sign, "contact", rt)
        case "nocontact":
            data = {k: v for k, v in sign.data.items() if k != "contact"}
            sign.data = data
            _advance(sign, "confirm", rt)
        case _:
            return None
    return question(sign)


async def on_text(s: AsyncSession, rt: Runtime, sign: Signup, text: str) -> Reply:
    """Typed answers during enrolment: usual pain, the screen's numbers (1と3), a time like 7:30 or １９時, the
    nickname."""
    retry = None
    match sign.step:
        case "screen" | "screen_which":
            if (reply := await _screen_numbers(s, rt, sign, text)) is not None:
                return reply
            retry = t("signup.screen_numbers_retry")
        case "pain":
            if (pain := parse_rating(text)) is not None:
                _advance(sign, "falls", rt, usual_pain=pain)
            else:
                retry = t("rating.retry")
        case "time" | "morning":
            if (tm := parse_time(text)) is not None:
                if sign.step == "time":
                    _advance(sign, "morning", rt, exercise_time=tm)
                else:
                    _advance(sign, "nickname", rt, morning_time=tm)
            else:
                retry = t("signup.time_retry")
        case "nickname":
            if (name := parse_name(text, NICKNAME_MAX)) is not None:
                _advance(sign, "confirm", rt, nickname=name)
            else:
                retry = t("signup.nickname_retry", max=NICKNAME_MAX)
        case "contact":
            if (contact := parse_contact(text)) is not None:
                _advance(sign, "confirm", rt, contact=contact)
            else:
                retry = t("signup.contact_retry")
        case _:
            retry = t("signup.use_buttons")
    q = question(sign)
    return Reply(join(retry, q.text) if retry else q.text, q.buttons)


def parse_contact(text: str) -> str | None:
    """A phone number (090-1234-5678, full-width digits too) or a clinic's patient number (A-1234): 3-20
    letters, digits, hyphens and spaces; None otherwise."""
    value = " ".join(unicodedata.normalize("NFKC", text).split())
    return value if CONTACT.fullmatch(value) and any(ch.isdigit() for ch in value) else None


@anyone
async def cancel(turn: Turn) -> None:
    """/cancel during enrolment: forget what was entered."""
    sign = await patients.signup_of(turn.s, turn.user.id)
    if sign is not None:
        await turn.s.delete(sign)
    turn.send(Reply(t("signup.cancelled" if sign is not None else "common.nothing_to_cancel")))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("trial", trial))
    app.add_handler(CommandHandler("cancel", cancel))
    app.add_handler(CallbackQueryHandler(trial, pattern=PATTERNS["trial"]))
    app.add_handler(CallbackQueryHandler(consent, pattern=PATTERNS["c"]))
    app.add_handler(CallbackQueryHandler(on_button, pattern=PATTERNS["su"]))
