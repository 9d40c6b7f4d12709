"""Outcome rounds, answers and scores (rules/outcomes/*.toml; bot/coaching/outcomes.py asks them).

The reads behind summaries and the export are set-based: one query for all the patients asked about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bot.storage.models import OutcomeAnswer, OutcomeRound, OutcomeScore


async def open_round(s: AsyncSession, patient_id: int) -> OutcomeRound | None:
    """The patient's round waiting for an answer (the newest not finished and not closed), if any."""
    return await s.scalar(select(OutcomeRound).where(OutcomeRound.patient_id == patient_id,
                                                     col(OutcomeRound.finished_at).is_(None),
                                                     col(OutcomeRound.closed).is_(False))
                          .order_by(col(OutcomeRound.id).desc()).limit(1))


async def close_open(s: AsyncSession, patient_id: int) -> None:
    """Every unfinished round of this patient is closed (a new one supersedes it; answers given are kept)."""
    for r in await s.scalars(select(OutcomeRound).where(OutcomeRound.patient_id == patient_id,
                                                        col(OutcomeRound.finished_at).is_(None),
                                                        col(OutcomeRound.closed).is_(False))):
        r.closed = True


async def get_round(s: AsyncSession, round_id: int) -> OutcomeRound | None:
    return await s.get(OutcomeRound, round_id)


async def has_baseline(s: AsyncSession, patient_id: int) -> bool:
    return await s.scalar(select(OutcomeRound.id).where(OutcomeRound.patient_id == patient_id,
                                                        OutcomeRound.occasion == "baseline").limit(1)) is not None


async def named_activities(s: AsyncSession, patient_id: int) -> list[str]:
    """The activities the patient named in their newest round that has any (PSFS asks the same ones again)."""
    rounds = await s.scalars(select(OutcomeRound).where(OutcomeRound.patient_id == patient_id)
                             .order_by(col(OutcomeRound.id).desc()))
    for r in rounds:
        if r.activities:
            return list(r.activities)
    return []


async def round_answers(s: AsyncSession, round_id: int, instrument: str) -> list[int]:
    rows = await s.scalars(select(OutcomeAnswer.value).where(OutcomeAnswer.round_id == round_id,
                                                             OutcomeAnswer.instrument == instrument)
                           .order_by(col(OutcomeAnswer.id)))
    return list(rows)


@dataclass(frozen=True)
class ScoreRow:
    patient_id: int
    instrument: str
    occasion: str
    score: float
    at: datetime


async def scores(s: AsyncSession, ids: list[int]) -> dict[int, list[ScoreRow]]:
    """Every score of these patients, oldest first, per patient (one query)."""
    out: dict[int, list[ScoreRow]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = await s.execute(sqlalchemy.select(col(OutcomeScore.patient_id), col(OutcomeScore.instrument),
                                  col(OutcomeScore.occasion), col(OutcomeScore.score), col(OutcomeScore.scored_at))
                           .where(col(OutcomeScore.patient_id).in_(ids))
                           .order_by(col(OutcomeScore.patient_id), col(OutcomeScore.scored_at), col(OutcomeScore.id)))
    for pid, instrument, occasion, score, at in rows.all():
        out[pid].append(ScoreRow(pid, instrument, occasion, float(score), at))
    return out


def baseline_and_newest(rows: list[ScoreRow], instrument: str) -> tuple[float | None, float | None] | None:
    """One patient's scores of one instrument (oldest first) as (baseline, newest): None for what is not there
    yet (the newest only once a later round is scored); None when the instrument has no score at all. The
    baseline is the newest one (a patient who re-joined starts a new trial period with a new baseline)."""
    mine = [x for x in rows if x.instrument == instrument]
    if not mine:
        return None
    bases = [x for x in mine if x.occasion == "baseline"]
    base = bases[-1] if bases else None
    return (base.score if base else None), (mine[-1].score if mine[-1] is not base else None)
