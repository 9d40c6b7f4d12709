"""``python -m line_standin --port 8082 --secret S --token T [--webhook URL] [--quota N]``"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from .server import LineStandin


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m line_standin", description="Local LINE Messaging API stand-in")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8082, help="0 picks a free port")
    ap.add_argument("--secret", required=True, help="channel secret (signs the webhooks)")
    ap.add_argument("--token", required=True, help="channel access token the API accepts")
    ap.add_argument("--webhook", default=None, help="the bot's webhook URL")
    ap.add_argument("--quota", type=int, default=None, help="monthly push quota (default: unlimited)")
    ap.add_argument("--reply-token-ttl", type=float, default=60.0)
    ap.add_argument("--allow-http-media", action="store_true", help="accept http://127.0.0.1|localhost media URLs")
    ap.add_argument("--push-rate", type=int, default=None, help="push requests per second (default: no limit)")
    ap.add_argument("--error-5xx-rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the stand-in binds to loopback only")
    standin = LineStandin(
        args.secret,
        args.token,
        webhook_url=args.webhook,
        monthly_quota=args.quota,
        reply_token_ttl=args.reply_token_ttl,
        allow_http_media=args.allow_http_media,
        push_rate_per_second=args.push_rate,
        error_5xx_rate=args.error_5xx_rate,
        seed=args.seed,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await standin.start(args.host, args.port)
    try:
        print(f"LINE stand-in listening; base_url={standin.base_url}", flush=True)
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
