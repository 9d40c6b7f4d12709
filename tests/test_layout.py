"""The import rules of docs/architecture.md: rules imports nothing of bot; storage imports nothing of the
handlers; only the Telegram adapter, the handlers and the stand-in import python-telegram-bot (coaching,
delivery, reports and storage speak the messaging port, bot/coaching/messages.py)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The Telegram edge: the adapter (application wiring, transport, rendering, command menus, the start-up token
# check, chat mode driving the Telegram application through the stand-in), the handlers and the stand-in.
TELEGRAM_EDGE = ("bot/app.py", "bot/telegram_channel.py", "bot/telegram_http.py", "bot/telegram_limiter.py",
                 "bot/menus.py", "bot/updates.py", "bot/ops.py", "bot/__main__.py", "bot/chat.py", "bot/handlers/",
                 "telegram_standin/")


def imports(path: Path, module: str | None = None) -> set[str]:
    """Every module `path` names in an import, anywhere in it (inside functions and TYPE_CHECKING blocks too):
    `from a import b` names `a` and `a.b` (b may be a module); relative imports are resolved against the
    module's package (`module`: its dotted name, read from the path under ROOT when not given)."""
    module = module or rel(path).removesuffix(".py").replace("/", ".")
    package = module.split(".")[:-1]  # a/b/c.py and a/b/__init__.py are both in package a.b
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            found |= {name, *(f"{name}.{a.name}" for a in node.names)}
    return found


def modules(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def test_rules_import_nothing_of_bot():
    bad = {rel(p): sorted(m for m in imports(p) if m == "bot" or m.startswith("bot.")) for p in modules("rules")}
    assert {k: v for k, v in bad.items() if v} == {}


def test_storage_imports_nothing_of_handlers():
    bad = {rel(p): sorted(m for m in imports(p) if m.startswith("bot.handlers")) for p in modules("bot/storage")}
    assert {k: v for k, v in bad.items() if v} == {}


def test_only_the_telegram_edge_imports_telegram():
    bad = {}
    for p in modules("bot") + modules("rules"):
        name = rel(p)
        if name.startswith(TELEGRAM_EDGE) or name in TELEGRAM_EDGE:
            continue
        found = sorted(m for m in imports(p) if m == "telegram" or m.startswith("telegram."))
        if found:
            bad[name] = found
    assert bad == {}


def test_imports_sees_every_form(tmp_path):
    """The checker above is not fooled by relative imports, `from package import module` or imports inside
    functions: each of these, in bot/storage/x.py, names bot.handlers."""
    forms = ["from ..handlers import common", "from .. import handlers", "from bot import handlers",
             "import bot.handlers.common", "def f():\n    from bot.handlers import common"]
    for i, form in enumerate(forms):
        path = tmp_path / f"x{i}.py"
        path.write_text(form + "\n", encoding="utf-8")
        assert any(m.startswith("bot.handlers") for m in imports(path, f"bot.storage.x{i}")), form


def test_the_stand_ins_import_nothing_of_the_bot():
    """telegram_standin/ and line_standin/ play the messengers for tests, benchmarks and chat mode: they must not
    lean on the product."""
    bad = {rel(p): sorted(m for m in imports(p) if m.split(".")[0] in ("bot", "rules"))
           for p in modules("telegram_standin") + modules("line_standin")}
    assert {k: v for k, v in bad.items() if v} == {}


def test_only_the_line_adapter_imports_the_line_sdk():
    """line-bot-sdk stays in bot/line/ (the LINE adapter), as python-telegram-bot stays at the Telegram edge; the
    LINE adapter imports nothing of python-telegram-bot (LINE's events reach the handlers as dicts)."""
    bad = {}
    for p in modules("bot") + modules("rules"):
        name = rel(p)
        sdk = sorted(m for m in imports(p) if m == "linebot" or m.startswith("linebot."))
        telegram = sorted(m for m in imports(p) if m == "telegram" or m.startswith("telegram."))
        if (sdk and not name.startswith("bot/line/")) or (telegram and name.startswith("bot/line/")):
            bad[name] = sdk + telegram
    assert bad == {}
