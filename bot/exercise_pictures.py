"""A picture of every shipped exercise, drawn by code: the start and the end position side by side, a clean
figure seen from the side, with the exercise's name and 「はじめ」「おわり」 (issue 9 §2).

A position (`Pose`) is a few points: the hip, the trunk's angle, where the hands and feet are, and which
way the knees and elbows bend; the knees and elbows are found from the limbs' lengths (two-link inverse
kinematics), so a pose reads like a physiotherapist's description ("lying on the back, knees bent, feet
flat"). The near side of the body is drawn dark, the far side light; props (floor, chair, wall, towel) in
grey; an orange arrow shows the movement on the end position.

`draw(exercise_id, name)` returns a Drawing (PNG bytes and what was drawn, for tests); matplotlib is
imported at the first drawing (bot/drawing.py). Which picture a patient gets (this one, or the clinic's
own from the program file) is decided in bot/coaching/pictures.py.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.drawing import mpl, png
from bot.i18n import t

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Point = tuple[float, float]

# segment lengths (metres, an adult of about 1.65 m)
TRUNK, NECK, HEAD = 0.52, 0.07, 0.11
UPPER_ARM, FOREARM = 0.29, 0.27
THIGH, SHIN, FOOT = 0.44, 0.42, 0.15
ANKLE_HEIGHT = 0.07
SEAT = 0.45  # a chair's seat height

NEAR, FAR, PROP, ARROW = "#1f4e79", "#9dbcd8", "#8c8c8c", "#E69F00"
DPI = 100


@dataclass(frozen=True)
class Limb:
    end: Point  # the hand's or the ankle's position
    bend: int = 1  # +1 / -1: which side of the line from the joint to `end` the knee or elbow goes
    foot: float = 0.0  # for a leg: the foot's angle (degrees; 0 = toes pointing right, -90 = down)


@dataclass(frozen=True)
class Pose:
    hip: Point
    trunk: float  # degrees: 90 = upright, 180 = lying on the back with the head to the left
    legs: tuple[Limb, Limb]  # near, far
    arms: tuple[Limb, Limb]  # near, far
    head: float | None = None  # the neck's angle (default: the trunk's)
    spine: float = 0.0  # how much the back curves: + rounds it to the left of hip -> shoulder, - the other way
    props: tuple[tuple[str, Any], ...] = ()  # ("chair", x) ("chair_back", x) ("towel", (x, y)) ("wall", x)
    arrow: tuple[Point, Point, float] | None = None  # the movement: from, to, curvature


@dataclass
class Drawing:
    png: bytes
    title: str
    panels: tuple[str, ...]  # the panels' captions
    props: tuple[str, ...] = field(default_factory=tuple)


def _polar(p: Point, degrees: float, length: float) -> Point:
    a = math.radians(degrees)
    return p[0] + length * math.cos(a), p[1] + length * math.sin(a)


def _joint(root: Point, end: Point, a: float, b: float, bend: int) -> tuple[Point, Point]:
    """The middle joint of a two-segment limb (lengths a, b) from `root` reaching for `end` (the end is
    pulled in when out of reach): the knee or elbow, and where the end really is."""
    dx, dy = end[0] - root[0], end[1] - root[1]
    d = math.hypot(dx, dy) or 1e-6
    if d > a + b - 1e-6:  # out of reach: the limb straight towards it
        ux, uy = dx / d, dy / d
        return (root[0] + a * ux, root[1] + a * uy), (root[0] + (a + b) * ux, root[1] + (a + b) * uy)
    d = max(d, abs(a - b) + 1e-6)
    along = (a * a - b * b + d * d) / (2 * d)
    h = math.sqrt(max(a * a - along * along, 0.0))
    ux, uy = dx / d, dy / d
    mx, my = root[0] + along * ux, root[1] + along * uy
    return (mx - bend * h * uy, my + bend * h * ux), end


def _joints(pose: Pose) -> dict[str, Point]:
    """Every point of the figure: shoulder, head (its centre), and per side (0 near, 1 far) knee, ankle, toe,
    elbow and hand."""
    shoulder = _polar(pose.hip, pose.trunk, TRUNK)
    neck = pose.head if pose.head is not None else pose.trunk
    out = {"hip": pose.hip, "shoulder": shoulder, "neck": _polar(shoulder, neck, NECK),
           "head": _polar(shoulder, neck, NECK + HEAD)}
    for side in (0, 1):
        leg, arm = pose.legs[side], pose.arms[side]
        out[f"knee{side}"], out[f"ankle{side}"] = _joint(pose.hip, leg.end, THIGH, SHIN, leg.bend)
        out[f"toe{side}"] = _polar(out[f"ankle{side}"], leg.foot, FOOT)
        out[f"elbow{side}"], out[f"hand{side}"] = _joint(shoulder, arm.end, UPPER_ARM, FOREARM, arm.bend)
    return out


def _figure(ax: Axes, pose: Pose) -> None:
    j = _joints(pose)
    for side, colour, z in ((1, FAR, 2), (0, NEAR, 4)):
        width = 11 if side == 0 else 9
        limbs = (("hip", f"knee{side}", f"ankle{side}", f"toe{side}"), ("shoulder", f"elbow{side}", f"hand{side}"))
        for names in limbs:
            ax.plot([j[n][0] for n in names], [j[n][1] for n in names], color=colour, linewidth=width,
                    solid_capstyle="round", solid_joinstyle="round", zorder=z + (0.5 if len(names) == 3 else 0))
    # the trunk: a quadratic curve hip -> shoulder, bowed by `spine`
    hip, shoulder = pose.hip, j["shoulder"]
    mx, my = (hip[0] + shoulder[0]) / 2, (hip[1] + shoulder[1]) / 2
    a = math.radians(pose.trunk)
    cx, cy = mx - pose.spine * math.sin(a), my + pose.spine * math.cos(a)
    ts = [i / 20 for i in range(21)]
    xs = [(1 - s) ** 2 * hip[0] + 2 * (1 - s) * s * cx + s * s * shoulder[0] for s in ts]
    ys = [(1 - s) ** 2 * hip[1] + 2 * (1 - s) * s * cy + s * s * shoulder[1] for s in ts]
    ax.plot(xs, ys, color=NEAR, linewidth=16, solid_capstyle="round", zorder=3)
    ax.plot([shoulder[0], j["neck"][0]], [shoulder[1], j["neck"][1]], color=NEAR, linewidth=9,
            solid_capstyle="round", zorder=3)
    ax.add_patch(mpl().Circle(j["head"], HEAD, color=NEAR, zorder=5))


def _props(ax: Axes, pose: Pose) -> list[str]:
    m = mpl()
    drawn = []
    for kind, where in pose.props:
        drawn.append(kind)
        if kind in ("chair", "chair_back"):  # a chair seen from the side: seat, legs and its back
            # "chair": sat on, `where` = the seat's middle, the back behind (left); "chair_back": held from
            # behind while standing, `where` = the back, the seat in front of it (right)
            x = float(where) if kind == "chair" else float(where) + 0.2
            ax.plot([x - 0.22, x + 0.22], [SEAT, SEAT], color=PROP, linewidth=7, solid_capstyle="butt", zorder=1)
            ax.plot([x - 0.2, x - 0.2], [0, SEAT], color=PROP, linewidth=5, zorder=1)
            ax.plot([x + 0.2, x + 0.2], [0, SEAT], color=PROP, linewidth=5, zorder=1)
            ax.plot([x - 0.2, x - 0.2], [SEAT, SEAT + 0.45], color=PROP, linewidth=7, solid_capstyle="round",
                    zorder=1)
        elif kind == "towel":
            ax.add_patch(m.Circle(where, 0.055, color=PROP, zorder=3.5))
        elif kind == "mat":
            ax.add_patch(m.Rectangle((where[0], 0), where[1] - where[0], 0.025, color="#cfd8e3", zorder=0.5))
        elif kind == "wall":
            ax.plot([where, where], [0, 1.9], color=PROP, linewidth=8, zorder=1)
    return drawn


def _draw_panel(ax: Axes, pose: Pose, label: str, arrow: bool, box: tuple[float, float, float, float]) -> list[str]:
    x0, x1, y1 = box[0], box[1], box[3]
    ax.set_xlim(x0, x1)
    ax.set_ylim(-0.08, y1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.plot([x0, x1], [0, 0], color=PROP, linewidth=3, zorder=0)  # the floor
    drawn = _props(ax, pose)
    _figure(ax, pose)
    if arrow and pose.arrow is not None:
        start, end, curve = pose.arrow
        ax.add_patch(mpl().FancyArrowPatch(start, end, connectionstyle=f"arc3,rad={curve}", arrowstyle="-|>",
                                           mutation_scale=34, linewidth=5, color=ARROW, zorder=6))
    ax.set_title(label, fontsize=26, pad=6, color="#222222")
    return drawn


def draw(exercise_id: str, name: str) -> Drawing:
    """The exercise's start and end positions as one PNG, titled with its name (raises KeyError for an
    exercise with no drawing: see `has_drawing`)."""
    start, end = POSES[exercise_id]()
    m = mpl()
    xs = [p for pose in (start, end) for p in _extent(pose)[0]]
    ys = [p for pose in (start, end) for p in _extent(pose)[1]]
    box = (min(xs) - 0.2, max(xs) + 0.2, 0.0, max(ys) + 0.2)
    width = box[1] - box[0]
    height = box[3] + 0.08
    panel_w = 4.4
    panel_h = max(2.2, min(5.0, panel_w * height / width))
    fig = m.Figure(figsize=(2 * panel_w + 0.6, panel_h + 1.5))
    labels = (t("picture.start"), t("picture.end"))
    drawn: list[str] = []
    for i, (pose, label) in enumerate(zip((start, end), labels, strict=True)):
        ax = fig.add_axes((0.03 + i * 0.5, 0.04, 0.44, panel_h / (panel_h + 1.5)))
        drawn += _draw_panel(ax, pose, label, arrow=i == 1, box=box)
    fig.text(0.5, 0.47, "→", fontsize=40, ha="center", va="center", color="#555555")
    fig.suptitle(name, fontsize=30, y=0.97, color="#222222")
    return Drawing(png(fig, DPI), name, labels, tuple(dict.fromkeys(drawn)))


def _extent(pose: Pose) -> tuple[list[float], list[float]]:
    points = list(_joints(pose).values())
    points += [(x, y + HEAD) for x, y in points[3:4]] + [(x, y - HEAD) for x, y in points[3:4]]
    for kind, where in pose.props:
        if kind == "chair":
            points += [(float(where) - 0.22, SEAT + 0.45), (float(where) + 0.22, 0.0)]
        elif kind == "chair_back":
            points += [(float(where), SEAT + 0.45), (float(where) + 0.44, 0.0)]
        elif kind == "wall":
            points.append((float(where), 0.0))
    if pose.arrow is not None:
        points += [pose.arrow[0], pose.arrow[1]]
    return [p[0] for p in points], [p[1] for p in points]


def has_drawing(exercise_id: str) -> bool:
    return exercise_id in POSES


_drawing = threading.Lock()


@cache
def drawn_png(exercise_id: str, name: str) -> bytes:
    """The drawing's PNG, drawn once per process (the same bytes every time: its hash keys Telegram's file id).
    Sends at the same moment resolve it in worker threads: one draws, the others wait for it."""
    with _drawing:
        return _drawn(exercise_id, name)


@cache
def _drawn(exercise_id: str, name: str) -> bytes:
    return draw(exercise_id, name).png


# --- the positions ------------------------------------------------------------------------------------

FLOOR_Y = 0.09  # the hip's and the back's height lying on the floor
ANKLE = ANKLE_HEIGHT


def _hook_lying(**over: Any) -> Pose:
    """Lying on the back, knees bent, feet flat (head to the left), arms beside the body."""
    base = Pose(hip=(0.0, FLOOR_Y), trunk=180, head=180,
                legs=(Limb((0.5, ANKLE), bend=1), Limb((0.53, ANKLE), bend=1)),
                arms=(Limb((0.2, 0.05)), Limb((0.22, 0.05))), props=(("mat", (-0.95, 0.9)),))
    return replace(base, **over)


def _pelvic_tilt() -> tuple[Pose, Pose]:
    start = _hook_lying(spine=-0.05)
    end = _hook_lying(spine=0.0, arrow=((-0.2, 0.34), (-0.2, 0.16), 0.0))
    return start, end


def _bridge() -> tuple[Pose, Pose]:
    start = _hook_lying()
    lifted = (0.05, 0.40)
    trunk = math.degrees(math.atan2(0.11 - lifted[1], -0.46 - lifted[0]))
    end = _hook_lying(hip=lifted, trunk=trunk, head=180, arms=(Limb((0.3, 0.04)), Limb((0.32, 0.04))),
                      arrow=((0.05, 0.12), (0.05, 0.3), 0.0))
    return start, end


def _knee_to_chest() -> tuple[Pose, Pose]:
    start = _hook_lying()
    end = _hook_lying(legs=(Limb((0.2, 0.46), bend=1, foot=-10), Limb((0.53, ANKLE), bend=1)),
                      arms=(Limb((-0.17, 0.5), bend=-1), Limb((-0.15, 0.5), bend=-1)),
                      arrow=((0.45, 0.55), (0.05, 0.72), 0.35))
    return start, end


def _straight_leg_raise() -> tuple[Pose, Pose]:
    """Lying on the back, the other knee bent; the straight leg raised to the bent knee's height."""
    straight = Limb((0.86, ANKLE + 0.02), bend=1, foot=80)
    start = _hook_lying(legs=(straight, Limb((0.5, ANKLE), bend=1)))
    raised = Limb(_polar((0.0, FLOOR_Y), 30, THIGH + SHIN), bend=1, foot=110)
    end = _hook_lying(legs=(raised, Limb((0.5, ANKLE), bend=1)), arrow=((0.95, 0.12), (0.8, 0.48), 0.25))
    return start, end


def _hip_abduction() -> tuple[Pose, Pose]:
    """Lying on the side (seen from the front), head on the lower arm, the lower knee bent; the top leg is
    lifted straight up a little and lowered."""
    under = Limb((0.86, FLOOR_Y - 0.02), bend=1, foot=0)
    top = Limb((0.86, FLOOR_Y + 0.05), bend=1, foot=0)
    arms = (Limb((0.3, 0.14)), Limb((-1.2, 0.05)))
    start = Pose(hip=(0.0, FLOOR_Y + 0.03), trunk=180, head=175, legs=(top, under), arms=arms,
                 props=(("mat", (-0.95, 0.95)),))
    lifted = Limb(_polar((0.0, FLOOR_Y + 0.03), 25, THIGH + SHIN), bend=1, foot=25)
    end = replace(start, legs=(lifted, under), arrow=((0.95, 0.16), (0.85, 0.42), 0.2))
    return start, end


def _seated(**over: Any) -> Pose:
    """Sitting on a chair (its back behind), feet flat, hands on the thighs."""
    hip = (0.0, SEAT + 0.05)
    base = Pose(hip=hip, trunk=93, legs=(Limb((0.42, ANKLE), bend=1), Limb((0.44, ANKLE), bend=1)),
                arms=(Limb((0.24, SEAT + 0.12), bend=-1), Limb((0.26, SEAT + 0.12), bend=-1)),
                props=(("chair", 0.05),))
    return replace(base, **over)


def _seated_knee_extension() -> tuple[Pose, Pose]:
    start = _seated()
    end = _seated(legs=(Limb((0.86, SEAT + 0.04), bend=1, foot=80), Limb((0.44, ANKLE), bend=1)),
                  arrow=((0.5, 0.12), (0.92, 0.36), 0.35))
    return start, end


def _sit_to_stand() -> tuple[Pose, Pose]:
    start = _seated(trunk=70, arms=(Limb((0.34, SEAT + 0.2), bend=-1), Limb((0.36, SEAT + 0.2), bend=-1)))
    standing_hip = (0.3, ANKLE + THIGH + SHIN - 0.01)
    end = Pose(hip=standing_hip, trunk=90, legs=(Limb((0.36, ANKLE), bend=1), Limb((0.38, ANKLE), bend=1)),
               arms=(Limb((0.34, 0.58), bend=-1), Limb((0.36, 0.58), bend=-1)), props=(("chair", 0.05),),
               arrow=((0.1, 0.72), (0.16, 1.05), -0.3))
    return start, end


def _standing(x: float = 0.0, **over: Any) -> Pose:
    """Standing, fingertips on a chair's back in front (support)."""
    base = Pose(hip=(x, ANKLE + THIGH + SHIN - 0.01), trunk=90,
                legs=(Limb((x, ANKLE), bend=1), Limb((x + 0.02, ANKLE), bend=1)),
                arms=(Limb((x + 0.36, SEAT + 0.47), bend=-1), Limb((x + 0.38, SEAT + 0.47), bend=-1)),
                props=(("chair_back", x + 0.37),))
    return replace(base, **over)


def _heel_raise() -> tuple[Pose, Pose]:
    start = _standing()
    up = 0.09
    end = _standing(hip=(0.0, ANKLE + THIGH + SHIN - 0.01 + up),
                    legs=(Limb((0.0, ANKLE + up), bend=1, foot=-38), Limb((0.02, ANKLE + up), bend=1, foot=-38)),
                    arrow=((-0.14, 0.04), (-0.14, 0.36), 0.0))
    return start, end


def _walking() -> tuple[Pose, Pose]:
    hip = (0.0, ANKLE + THIGH + SHIN - 0.04)

    def stride(front: float, back: float) -> tuple[Limb, Limb]:
        return Limb((front, ANKLE), bend=1, foot=15), Limb((back, ANKLE + 0.03), bend=1, foot=-30)

    start = Pose(hip=hip, trunk=88, legs=stride(0.3, -0.28),
                 arms=(Limb((-0.2, 0.45), bend=1), Limb((0.22, 0.5), bend=-1)))
    near_front, far_back = stride(0.3, -0.28)
    end = Pose(hip=(0.3, hip[1]), trunk=88, legs=(replace(far_back, end=(0.02, ANKLE + 0.03)),
                                                   replace(near_front, end=(0.6, ANKLE))),
               arms=(Limb((0.52, 0.5), bend=-1), Limb((0.1, 0.45), bend=1)),
               arrow=((-0.1, 1.75), (0.5, 1.75), 0.0))
    return start, end


def _quad_setting() -> tuple[Pose, Pose]:
    """Sitting on the floor, legs out, a rolled towel under the knee: press the knee down into it."""
    hip = (0.0, FLOOR_Y)
    arms = (Limb((-0.26, 0.02), bend=1), Limb((-0.24, 0.02), bend=1))
    towel = ("towel", (0.44, 0.06))
    start = Pose(hip=hip, trunk=100, legs=(Limb((0.84, ANKLE), bend=1, foot=70), Limb((0.5, ANKLE), bend=1)),
                 arms=arms, props=(towel,))
    end = replace(start, legs=(Limb((0.88, ANKLE), bend=1, foot=85), Limb((0.5, ANKLE), bend=1)),
                  arrow=((0.44, 0.45), (0.44, 0.22), 0.0))
    return start, end


def _cat_and_dog() -> tuple[Pose, Pose]:
    """On hands and knees: the back rounded up (head down), then gently arched (head up)."""
    hip = (0.0, ANKLE + THIGH - 0.02)
    legs = (Limb((-0.4, 0.05), bend=1, foot=180), Limb((-0.38, 0.05), bend=1, foot=180))
    arms = (Limb((0.5, 0.02), bend=1), Limb((0.52, 0.02), bend=1))
    start = Pose(hip=hip, trunk=4, head=-60, spine=0.1, legs=legs, arms=arms, props=(("mat", (-0.6, 0.8)),),
                 arrow=((0.25, 0.75), (0.25, 0.9), 0.0))
    end = replace(start, head=40, spine=-0.07, arrow=((0.25, 0.74), (0.25, 0.5), 0.0))
    return start, end


POSES: dict[str, Callable[[], tuple[Pose, Pose]]] = {
    "pelvic_tilt": _pelvic_tilt,
    "cat_and_dog": _cat_and_dog,
    "bridge": _bridge,
    "knee_to_chest": _knee_to_chest,
    "quad_setting": _quad_setting,
    "seated_knee_extension": _seated_knee_extension,
    "sit_to_stand": _sit_to_stand,
    "heel_raise": _heel_raise,
    "walking": _walking,
    "hip_abduction": _hip_abduction,
    "straight_leg_raise": _straight_leg_raise,
}
