"""`python -m bot demo`: a clinic of 30 patients over 6 weeks, then chat mode shows the weekly summary (who needs
attention first, with why), a patient card, and the try-out patient's weekly report, with the pictures saved."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from sqlalchemy import create_engine, func, select

from bot.demo import run_demo
from bot.storage.models import Decision, OutcomeScore, Patient
from rules import MESSAGE_KEYS

START = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)  # Thursday 12/10 12:00 in Tokyo


async def test_the_demo_clinic_in_chat_mode(tmp_path):
    out = io.StringIO()
    db = tmp_path / "clinic.db"
    assert await run_demo(f"sqlite+aiosqlite:///{db}", tmp_path / "files", lines=[], out=out, start=START) == 0
    text = out.getvalue()
    summary = text[text.index("【週次サマリー】11/30(月)〜12/6(日)"):]
    assert "担当：田中　患者 30人：🔴要対応" in summary
    reasons = re.findall(r"理由：([^\n]+)", summary)
    assert reasons[0].startswith("危険サイン") and any("強い痛みが続き一時停止中" in r for r in reasons)
    assert any("実施が減少" in r for r in reasons) and "── そのほかの" in summary and "✔MCID" in summary
    assert "[clinician] > /patient " in text
    assert "📅 はなこさんの1週間（12/3〜12/9）" in text and "🎉 はなこさん、最初の1週間を終えました" in text
    assert len(list((tmp_path / "files").glob("*.png"))) >= 3  # the overview, patient charts, the weekly chart

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Patient)) == 30
        messages = set(conn.scalars(select(Decision.message)))
        assert messages and all(m in MESSAGE_KEYS for m in messages)  # the rules' own decisions
        assert conn.scalar(select(func.count()).select_from(OutcomeScore)) >= 90
    engine.dispose()
