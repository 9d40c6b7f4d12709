"""matplotlib for the bot's pictures (clinicians' charts: reports/charts.py; exercise pictures:
exercise_pictures.py): imported at the first drawing, Agg only, no pyplot state (safe in a worker thread).

Importing matplotlib takes a second or more, and the bot must start, and `python -m bot` must answer about a
missing token, without it. Japanese text uses the IPAexGothic font shipped with matplotlib-fontja (no
missing-glyph boxes); text is never parsed as mathematics (a nickname `$\\x$` is drawn as typed).
"""

from __future__ import annotations

import io
from functools import cache
from types import SimpleNamespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FONT_FAMILY = "IPAexGothic"


@cache
def mpl() -> SimpleNamespace:
    """matplotlib's pieces the bot draws with, imported once, when the first picture is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib_fontja  # noqa: F401  (registers IPAexGothic and makes it the default family)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, FancyArrowPatch, Patch, Rectangle

    # Text is data (nicknames), never markup: `$...$` is not mathematics, and there is no LaTeX.
    matplotlib.rcParams.update({"text.parse_math": False, "text.usetex": False})
    return SimpleNamespace(FigureCanvasAgg=FigureCanvasAgg, Figure=Figure, Line2D=Line2D, Patch=Patch,
                           Circle=Circle, FancyArrowPatch=FancyArrowPatch, Rectangle=Rectangle)


def png(fig: Figure, dpi: int) -> bytes:
    """The figure as PNG bytes; the same drawing gives the same bytes (no timestamp or version in the file)."""
    mpl().FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()
