"""`python -m bot chat`: the terminal try-out walks signup and a reminder with no token."""

from __future__ import annotations

import io

from bot.chat import run_chat


async def test_chat_walks_signup_and_time_travel(tmp_path):
    out = io.StringIO()
    lines = ["/start", ":1", ":1", ":2", "3", ":1", "７時半", ":2", "たろう", ":1", ":+20h", ":q"]
    assert await run_chat(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}", lines=lines, out=out) == 0
    text = out.getvalue()
    assert "いたみコーチです" in text  # welcome
    assert "[1] 体験を申し込む" in text  # numbered buttons
    assert "運動の時間：毎日 07:30" in text  # full-width typed time understood
    assert "たろうさん、ようこそ" in text
    assert "⏩" in text
