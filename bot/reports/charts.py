"""Charts for clinicians' phones: PNG bytes from matplotlib (Agg, no pyplot state, safe in a worker thread).

matplotlib is imported at the first chart (bot/drawing.py), Japanese labels in IPAexGothic. Large
fonts, four lines at most, a colour-blind-safe palette (Okabe-Ito), the legend under the plot.
Every chart function returns a Chart with the PNG and what was drawn (series labels and point counts),
so tests check the content without reading pixels. Text is never parsed as mathematics (a nickname `$\\x$`
is drawn as typed), and callers draw each chart in isolation (bot/reports/build.py: `drawn`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.drawing import FONT_FAMILY as FONT_FAMILY
from bot.drawing import mpl as _mpl
from bot.drawing import png
from bot.i18n import t
from bot.reports.summary import RATINGS, TIERS, PatientSummary, SessionRow

if TYPE_CHECKING:
    from matplotlib.figure import Figure


COLOURS = {"before": "#0072B2", "during": "#E69F00", "after": "#009E73", "next_morning": "#CC79A7"}
MARKERS = {"before": "o", "during": "s", "after": "^", "next_morning": "D"}
TIER_COLOURS = {"attention": "#D55E00", "watch": "#E69F00", "good": "#009E73"}
DECISION_STYLE = {"raise": ("^", "#009E73"), "step_back": ("v", "#D55E00"), "stop": ("X", "#000000")}
CHART_DAYS = 28
OVERVIEW_MAX_ROWS = 25
DPI = 120


@dataclass
class Chart:
    png: bytes
    series: tuple[str, ...]  # legend labels, in drawing order
    points: dict[str, int] = field(default_factory=dict)  # label -> how many points/bars were drawn
    title: str = ""


def _png(fig: Figure) -> bytes:
    return png(fig, DPI)


def patient_chart(nickname: str, end: date, sessions: list[SessionRow],
                  decisions: list[tuple[date, str]], *, band_max: int = 3, days: int = CHART_DAYS) -> Chart:
    """Daily pain before / during / after / next morning over the `days` days ending on `end`, the 0..band_max
    band shaded, decisions (raise / step back / stop, as (local date, kind)) marked above the plot."""
    first = end - timedelta(days=days - 1)
    by_day = {r.day: r for r in sessions if first <= r.day <= end}
    xs = list(range(days))
    dates = [first + timedelta(days=i) for i in xs]
    title = t("chart.patient.title", nickname=nickname, start=f"{first.month}/{first.day}",
              end=f"{end.month}/{end.day}")
    mpl = _mpl()
    fig = mpl.Figure(figsize=(8, 7.2))
    ax = fig.add_axes((0.11, 0.27, 0.86, 0.63))
    band_label = t("chart.band", max=band_max)
    ax.axhspan(0, band_max, color="#009E73", alpha=0.13, zorder=0)
    handles = [mpl.Patch(facecolor="#009E73", alpha=0.25, label=band_label)]
    series: list[str] = []
    points = {band_label: 1}
    for name in RATINGS:
        values = [getattr(by_day[d], name) if d in by_day else None for d in dates]
        ys = [math.nan if v is None else v for v in values]
        label = t(f"rating.{name}")
        width = 3.5 if name == "during" else 2.2
        ax.plot(xs, ys, color=COLOURS[name], marker=MARKERS[name], markersize=8, linewidth=width, label=label,
                zorder=3)
        handles.insert(len(series), mpl.Line2D([], [], color=COLOURS[name], marker=MARKERS[name], markersize=9,
                                           linewidth=2.5, label=label))
        series.append(label)
        points[label] = sum(v is not None for v in values)
    for kind, (marker, colour) in DECISION_STYLE.items():
        hits = [(d - first).days for d, k in decisions if k == kind and first <= d <= end]
        if not hits:
            continue
        label = t(f"chart.decision.{kind}")
        for x in hits:
            ax.axvline(x, color=colour, linestyle="--", linewidth=1.5, alpha=0.8, zorder=1)
        ax.plot(hits, [10.35] * len(hits), linestyle="none", marker=marker, markersize=14, color=colour, zorder=4)
        handles.append(mpl.Line2D([], [], linestyle="none", marker=marker, markersize=12, color=colour, label=label))
        series.append(label)
        points[label] = len(hits)
    ax.set_ylim(0, 10.8)
    ax.set_yticks([0, 3, 5, 7, 10])
    ax.set_xlim(-0.5, days - 0.5)
    ticks = [i for i, d in enumerate(dates) if d.weekday() == 0] or [0]
    ax.set_xticks(ticks, [f"{dates[i].month}/{dates[i].day}" for i in ticks])
    ax.tick_params(labelsize=15)
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylabel(t("chart.pain_axis"), fontsize=16)
    fig.suptitle(title, fontsize=20, y=0.975)
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=15, frameon=False,
               bbox_to_anchor=(0.5, 0.01), handlelength=1.8, columnspacing=1.2)
    return Chart(_png(fig), (band_label, *series), points, title)


def overview_chart(summaries: list[PatientSummary], start: date, end: date, *,
                   max_rows: int = OVERVIEW_MAX_ROWS) -> Chart:
    """One bar per patient (attention first): sessions done in the last 2 weeks against the target of 6,
    coloured by status, with the week's mean pain during exercise written at the end of the bar."""
    rows = summaries[:max_rows]
    title = t("chart.overview.title", start=f"{start.month}/{start.day}", end=f"{end.month}/{end.day}")
    height = 2.8 + 0.62 * max(len(rows), 1)
    mpl = _mpl()
    fig = mpl.Figure(figsize=(8, height))
    top = 1 - 0.9 / height
    bottom = 1.5 / height
    ax = fig.add_axes((0.30, bottom, 0.64, top - bottom))
    ys = list(range(len(rows)))[::-1]
    done = [s.done_14 for s in rows]
    ax.barh(ys, done, color=[TIER_COLOURS[s.tier] for s in rows], height=0.7)
    for y, s in zip(ys, rows, strict=True):  # a column right of the bars: the week's mean pain during exercise
        mean = s.ratings["during"].mean
        ax.text(17.5, y, "-" if mean is None else f"{mean:.1f}", va="center", ha="center", fontsize=15,
                color="#D55E00" if mean is not None and mean > 3 else "#222222")
    ax.text(17.5, max(len(rows), 1) - 0.45, t("chart.overview.during_head"), ha="center", va="bottom", fontsize=12)
    ax.axvspan(15, 20, color="#f2f2f2", zorder=0)
    ax.axvline(6, color="#333333", linestyle="--", linewidth=1.5)
    ax.set_yticks(ys, [t("chart.overview.row", nickname=s.patient.nickname[:8], id=s.patient.id) for s in rows])
    ax.set_xlim(0, 20)
    ax.set_ylim(-0.7, max(len(rows), 1) + 0.2)
    ax.set_xticks([0, 2, 4, 6, 8, 10, 12, 14])
    ax.tick_params(labelsize=14)
    ax.set_xlabel(t("chart.overview.axis"), fontsize=15)
    fig.suptitle(title, fontsize=19, y=1 - 0.25 / height)
    tiers = [tier for tier in TIERS if any(s.tier == tier for s in rows)]
    handles = [mpl.Patch(color=TIER_COLOURS[tier], label=t(f"chart.tier.{tier}")) for tier in tiers]
    handles.append(mpl.Line2D([], [], color="#333333", linestyle="--", label=t("chart.overview.target")))
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=14, frameon=False, bbox_to_anchor=(0.5, 0.0))
    labels = tuple(h.get_label() for h in handles)
    points = {t(f"chart.tier.{tier}"): sum(s.tier == tier for s in rows) for tier in tiers}
    if len(summaries) > max_rows:
        fig.text(0.5, 0.5 / height + 0.35 / height, t("chart.overview.more", n=len(summaries) - max_rows),
                 ha="center", fontsize=13)
    return Chart(_png(fig), labels, points, title)


def progress_chart(title: str, first: date, last: date, sessions: list[SessionRow], notes: tuple[str, ...] = (),
                   ) -> Chart:
    """For the patient (their weekly report, the end-of-trial report): pain before and right after exercise on
    each day from `first` to `last`, big and simple; `notes` (the outcome measures, baseline -> end) written
    under the plot."""
    days = (last - first).days + 1
    by_day = {r.day: r for r in sessions if first <= r.day <= last}
    dates = [first + timedelta(days=i) for i in range(days)]
    mpl = _mpl()
    extra = 0.42 * len(notes)
    fig = mpl.Figure(figsize=(8, 5.6 + extra))
    height = 5.6 + extra
    ax = fig.add_axes((0.11, (1.35 + extra) / height, 0.86, 3.5 / height))
    ax.axhspan(0, 3, color="#009E73", alpha=0.13, zorder=0)
    series, points = [], {}
    for name in ("before", "after"):
        values = [getattr(by_day[d], name) if d in by_day else None for d in dates]
        label = t(f"rating.{name}")
        ax.plot(range(days), [math.nan if v is None else v for v in values], color=COLOURS[name],
                marker=MARKERS[name], markersize=9, linewidth=3, label=label)
        series.append(label)
        points[label] = sum(v is not None for v in values)
    ax.set_ylim(0, 10.5)
    ax.set_yticks([0, 3, 5, 7, 10])
    ax.set_xlim(-0.5, days - 0.5)
    step = 1 if days <= 8 else 7
    ticks = list(range(0, days, step))
    ax.set_xticks(ticks, [f"{dates[i].month}/{dates[i].day}" for i in ticks])
    ax.tick_params(labelsize=14)
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylabel(t("chart.pain_axis"), fontsize=15)
    fig.suptitle(title, fontsize=19, y=1 - 0.3 / height)
    fig.legend(loc="lower center", ncol=2, fontsize=15, frameon=False,
               bbox_to_anchor=(0.5, (0.55 + extra) / height))
    for i, note in enumerate(notes):
        fig.text(0.06, (0.15 + extra - 0.42 * (i + 1) + 0.1) / height, note, fontsize=14)
    return Chart(_png(fig), tuple(series), points, title)
