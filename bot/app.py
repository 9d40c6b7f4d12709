"""build_application(settings): the python-telegram-bot Application with everything wired in.

Handler order (first match wins within group 0):
  1. start: /start /help /why            2. signup: /trial /cancel, consent and su: buttons
  3. session: /today, rm: nx: rt:        4. checkin: /symptom, rf:
  5. patient_settings: /settings, st: tr: 6. mydata: /history /mydata /delete, del:
  6b. clinician: /clinician /summary /patients /patient /export, cp:   6c. admin: /invite /clinicians
      /remove_clinician /assign (docs/clinicians.md)
  7. any other button -> "this question is closed"
  8. fallbacks: typed text router, unknown commands, stickers/photos
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes, Defaults, ExtBot

from bot import health, menus
from bot.channels import Channels, channel_of
from bot.clock import Clock
from bot.coaching import retention
from bot.coaching.messages import Reply
from bot.config import Settings
from bot.delivery.runner import DeliveryRunner
from bot.handlers import (
    admin,
    checkin,
    clinician,
    common,
    controls,
    mydata,
    outcomes,
    patient_settings,
    questions,
    session,
    signup,
    start,
)
from bot.i18n import t
from bot.runtime import Runtime, load_thresholds
from bot.storage.db import Database
from bot.telegram_channel import TelegramChannel
from bot.telegram_http import AiohttpRequest
from bot.telegram_limiter import LaneRateLimiter

log = logging.getLogger(__name__)



async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Never crash on one update: log it (no token, no message text) and answer kindly."""
    err = context.error
    user = update.effective_user.id if isinstance(update, Update) and update.effective_user else None
    log.error("update from user %s failed: %s", user, type(err).__name__, exc_info=err)
    chat = update.effective_chat if isinstance(update, Update) else None
    if isinstance(update, Update) and chat is not None and chat.type == ChatType.PRIVATE:  # never in a group
        try:
            if update.callback_query is not None and channel_of(update.callback_query.from_user.id) == "telegram":
                await update.callback_query.answer()  # stop the button's spinner
            await common.send(update, context, Reply(t("common.error")))
        except Exception:  # Telegram unreachable: the log above is all we can do
            log.warning("could not tell user %s about the error", user)


async def ensure_weekly_summaries(rt: Runtime) -> None:
    """Every active clinician has their next weekly summary scheduled (idempotent: dedupe key per week)."""
    from bot import alerts
    from bot.storage import clinicians

    async with rt.db.session() as s:
        for c, _ in await clinicians.active_list(s):
            await alerts.schedule_summary(s, rt, c, after=rt.clock.now())


async def _retention_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    try:
        await retention.purge(context.application.bot_data["runtime"])
    except Exception:  # the database is down: tomorrow's run (or the next start) catches up
        log.exception("retention: purge failed")


async def _delivery_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    runner: DeliveryRunner = context.application.bot_data["delivery"]
    await runner.run_until_idle(max_rounds=50)


def rate_limiter(per_second: float) -> LaneRateLimiter:
    """Telegram's limits with two lanes: handlers' answers first, the delivery runner's sends in bulk
    (bot/telegram_limiter.py). With several instances, give each its share of the rate."""
    return LaneRateLimiter(per_second)


def api_urls(settings: Settings) -> dict[str, str]:
    """base_url / base_file_url for python-telegram-bot: TELEGRAM_API_BASE_URL, else Telegram's own."""
    if not settings.telegram_api_base_url:
        return {"base_url": "https://api.telegram.org/bot", "base_file_url": "https://api.telegram.org/file/bot"}
    base = settings.telegram_api_base_url.rstrip("/")
    return {"base_url": base, "base_file_url": base.replace("/bot", "/file/bot")}


async def line_channel(rt: Runtime) -> Any:
    """The LINE adapter (bot/line/), imported only when LINE is configured."""
    from bot.line.channel import LineChannel

    return LineChannel(rt)


def build_application(settings: Settings, *, token: str | None = None, clock: Clock | None = None,
                      run_delivery_job: bool = True, migrate: bool = True) -> Application:
    rt = Runtime(settings=settings, db=Database(settings.database_url), clock=clock or Clock(),
                 thresholds=load_thresholds(settings))
    # Any: the rate limiter, when set, changes the bot's type parameter
    builder: ApplicationBuilder[ExtBot[Any], Any, Any, Any, Any, Any] = (
        Application.builder()
        .token(token or settings.require_token())
        .defaults(Defaults(tzinfo=settings.tz))
        .concurrent_updates(8)
        .request(AiohttpRequest(connection_pool_size=settings.delivery_concurrency + 8))
    )
    if settings.telegram_api_base_url:
        urls = api_urls(settings)
        builder = builder.base_url(urls["base_url"]).base_file_url(urls["base_file_url"])
    if settings.rate_limit_enabled:
        builder = builder.rate_limiter(rate_limiter(settings.rate_limit_per_second))

    async def post_init(app: Application) -> None:
        if migrate:
            await rt.db.migrate()
        channels = app.bot_data["channels"] = Channels(TelegramChannel(app.bot, media=rt.media),
                                                       line=await line_channel(rt) if settings.line_enabled else None)
        app.bot_data["delivery"] = DeliveryRunner(rt, channels)
        await ensure_weekly_summaries(rt)
        await menus.set_patient_menu(app.bot)
        for admin_id in settings.admin_telegram_ids:
            await menus.set_chat_menu(app.bot, admin_id, admin=True)
        if run_delivery_job and app.job_queue is not None:
            app.job_queue.run_repeating(_delivery_job, interval=settings.delivery_interval_seconds, first=1,
                                        name="delivery", job_kwargs={"max_instances": 1, "coalesce": True})
            app.job_queue.run_repeating(_retention_job, interval=retention.INTERVAL, first=30, name="retention",
                                        job_kwargs={"max_instances": 1, "coalesce": True})
        if settings.health_port:
            app.bot_data["health"] = await health.start_server(rt, app.bot_data["delivery"], settings.health_port)

    async def post_shutdown(app: Application) -> None:
        line = app.bot_data["channels"].adapters["line"] if "channels" in app.bot_data else None
        if line is not None:
            await line.close()
        if "health" in app.bot_data:
            await app.bot_data.pop("health").cleanup()
        await rt.db.dispose()

    app = builder.post_init(post_init).post_shutdown(post_shutdown).build()
    app.bot_data["runtime"] = rt
    for feature in (start, signup, session, checkin, patient_settings, mydata, clinician, controls, questions, admin,
                    outcomes):
        feature.register(app)
    app.add_handler(CallbackQueryHandler(start.on_stale_button))
    start.register_fallbacks(app)
    app.add_error_handler(on_error)
    return app
