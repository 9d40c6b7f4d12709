"""A reply to send (text + inline buttons), independent of who sends it (a handler or delivery).

Callback data formats (each carries the id of what it answers; at most 64 bytes):
  rt:<prompt>:<0-10>       a pain rating            rm:<prompt>:now|later|skip   a reminder's choice
  nx:<session>:during|after  "ask me now" taps      rf:open | rf:<flag>|none     red-flag check-in
  su:<step>:<value>        enrolment steps          c:yes|no / trial              consent, start trial
  st:<what>[:<value>]      /settings                del:yes|no                    /delete confirmation
  tr:<prompt>:continue|end  end-of-trial question
  cp:<patient>             a clinician opens a patient's detail (alerts, /patients)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import t

Buttons = list[list[tuple[str, str]]]


@dataclass
class Reply:
    text: str
    buttons: Buttons = field(default_factory=list)
    document: tuple[str, bytes] | None = None  # (file name, content)
    photo: bytes | None = None  # a PNG/JPEG sent as a photo; `text` is its caption (at most 1024 characters)

    @property
    def markup(self) -> InlineKeyboardMarkup | None:
        if not self.buttons:
            return None
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in self.buttons]
        )


def rating_buttons(prompt_id: int) -> Buttons:
    """0-10 in two rows of big buttons (0-5, 6-10), easy to tap on a phone."""
    return [
        [(str(n), f"rt:{prompt_id}:{n}") for n in range(0, 6)],
        [(str(n), f"rt:{prompt_id}:{n}") for n in range(6, 11)],
    ]


def join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def closed() -> Reply:
    return Reply(t("common.closed"))
