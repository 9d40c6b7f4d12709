"""Text handling like Telegram's: parse_mode validation/stripping, lengths, command entities."""

from __future__ import annotations

import html
import re

MAX_TEXT = 4096
MAX_CAPTION = 1024

_HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][\w-]*)((?:\s[^<>]*)?)>")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")


class EntityParseError(ValueError):
    """Raised with Telegram's wording after ``Bad Request: can't parse entities: ``."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _check_html(text: str) -> None:
    stack: list[str] = []
    pos = 0
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            break
        match = _TAG_RE.match(text, lt)
        if match is None:
            raise EntityParseError(f"Unexpected end of name token at byte offset {_byte_offset(text, lt)}")
        closing, name, _attrs = match.groups()
        name = name.lower()
        if name not in _HTML_TAGS:
            kind = "end" if closing else "start"
            raise EntityParseError(f'Unsupported {kind} tag "{name}" at byte offset {_byte_offset(text, lt)}')
        if closing:
            if not stack or stack[-1] != name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {_byte_offset(text, lt)}, expected "</{stack[-1]}>", '
                    f'found "</{name}>"'
                    if stack
                    else f"Unexpected end tag at byte offset {_byte_offset(text, lt)}"
                )
            stack.pop()
        else:
            stack.append(name)
        pos = match.end()
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')


_MDV2_ALWAYS_RESERVED = set(".!-=+#{}")


def _check_markdown_v2(text: str) -> None:
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "`":  # code / pre: skip to the closing backtick(s)
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of {'Pre' if fence == '```' else 'Code'} entity at byte offset "
                    f"{_byte_offset(text, i)}"
                )
            i = end + len(fence)
            continue
        if ch == "(" and i > 0 and text[i - 1] == "]":  # link target: skip the URL
            end = text.find(")", i)
            if end < 0:
                raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, i)}")
            i = end + 1
            continue
        reserved = ch in _MDV2_ALWAYS_RESERVED
        if ch == ">" and not (i == 0 or text[i - 1] == "\n"):
            reserved = True
        if ch == "|" and not (text.startswith("||", i) or (i > 0 and text[i - 1] == "|")):
            reserved = True
        if ch in "()":
            reserved = True
        if reserved:
            raise EntityParseError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        i += 1


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text as Telegram stores it (markup removed). Raises :class:`EntityParseError`."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        _check_html(text)
        return html.unescape(_TAG_RE.sub("", text))
    if mode == "markdownv2":
        _check_markdown_v2(text)
        text = re.sub(r"\]\([^)]*\)", "", text)
        out: list[str] = []
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
                continue
            if ch not in "*_~|`[":
                out.append(ch)
            i += 1
        return "".join(out)
    if mode == "markdown":
        text = re.sub(r"\]\([^)]*\)", "", text)
        return re.sub(r"(?<!\\)[*_`\[]", "", text).replace("\\", "")
    return text


def command_entities(text: str) -> list[dict]:
    """``bot_command`` entity for a leading ``/command`` (what PTB's CommandHandler needs)."""
    match = _COMMAND_RE.match(text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]
