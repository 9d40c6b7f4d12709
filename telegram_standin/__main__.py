"""``python -m telegram_standin --port 8081 [--token T] [--global-rate 30] [--per-chat-rate 1]``"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from .faults import Faults
from .server import StandIn


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m telegram_standin", description="Local Telegram Bot API stand-in")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    ap.add_argument("--token", default=None, help="accept only this token (default: any)")
    ap.add_argument("--global-rate", type=float, default=None, help="messages/second over all chats")
    ap.add_argument("--per-chat-rate", type=float, default=None, help="messages/second per chat")
    ap.add_argument("--strict-chats", action="store_true", help="only chats whose user wrote first exist")
    ap.add_argument("--no-bodies", action="store_true", help="do not keep uploaded file bytes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--error-5xx-rate", type=float, default=0.0)
    ap.add_argument("--timeout-rate", type=float, default=0.0)
    ap.add_argument("--blocked-rate", type=float, default=0.0)
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the stand-in binds to loopback only")
    standin = StandIn(
        args.token,
        global_rate=args.global_rate,
        per_chat_rate=args.per_chat_rate,
        faults=Faults(
            error_5xx_rate=args.error_5xx_rate, timeout_rate=args.timeout_rate, blocked_rate=args.blocked_rate
        ),
        seed=args.seed,
        strict_chats=args.strict_chats,
        record_bodies=not args.no_bodies,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await standin.start(args.host, args.port)
    try:
        print(f"Telegram stand-in listening; base_url={standin.base_url}", flush=True)
        print(f"test API: {standin.url}/_standin/", flush=True)
        await stop.wait()
    finally:
        await standin.stop()
    print("stand-in stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
