"""A non-editable install works on its own, and start-up stays light.

The wheel is built from a copy of the sources and installed (no dependencies: those come from this test
environment, listed after the fresh venv's own packages) into a fresh venv; from a folder outside the
repository it renders a message and runs `python -m bot chat` with /start piped in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from bot.i18n import t

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "MANIFEST.in", "build_hooks.py")
PACKAGES = ("bot", "rules", "telegram_standin", "line_standin", "locales")


def _env() -> dict[str, str]:
    """No PYTHONPATH, no settings from the developer's shell."""
    return {k: v for k, v in os.environ.items()
            if k != "PYTHONPATH" and not k.startswith(("TELEGRAM_", "DATABASE_", "CLINIC_", "LINE_"))}


def _run(*cmd: str | Path, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(), input=stdin, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(python of the fresh venv with the wheel installed, a working folder outside the repository)."""
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        shutil.copy2(ROOT / name, src / name)
    for name in PACKAGES:
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.db*"))
    built = _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                 "-w", base / "dist", src, cwd=base)
    assert built.returncode == 0, built.stderr
    [wheel] = (base / "dist").glob("itami_coach-*.whl")

    venv = base / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    done = _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel,
                cwd=base)
    assert done.returncode == 0, done.stderr
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=base).stdout.strip()
    # the dependencies: this test environment's packages, after the venv's own (so its `bot` is the wheel's)
    (Path(purelib) / "test_environment.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    work = base / "work"
    work.mkdir()
    return python, work


def test_the_installed_package_renders_messages_from_its_own_files(installed):
    python, work = installed
    result = _run(python, "-c", "import bot, bot.i18n, rules.programs as p; from bot.i18n import t; "
                  "print(bot.__file__); print(bot.i18n.LOCALES); print(t('start.welcome')); print(p.__file__)",
                  cwd=work)
    assert result.returncode == 0, result.stderr
    package, locales, *text, programs = result.stdout.splitlines()
    venv = python.parent.parent
    assert Path(package).is_relative_to(venv) and Path(locales).is_relative_to(venv)
    assert Path(programs).is_relative_to(venv)
    assert "\n".join(text) == t("start.welcome")


def test_chat_mode_runs_from_a_non_editable_install(installed):
    python, work = installed
    result = _run(python, "-m", "bot", "chat", "--database", f"sqlite+aiosqlite:///{work / 'chat.db'}",
                  cwd=work, stdin="/start\n")
    assert result.returncode == 0, result.stderr
    assert t("start.welcome") in result.stdout  # /start answered through the stand-in, from the installed texts
    assert "Traceback" not in result.stderr


def test_importing_the_application_does_not_import_matplotlib():
    probe = "import sys, bot.app; print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib'}))"
    result = _run(sys.executable, "-c", probe, cwd=ROOT)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


def test_a_missing_token_is_answered_before_the_heavy_imports(tmp_path):
    probe = ("import sys; from bot.__main__ import main; code = main([]); "
             "print(code, sorted({m.split('.')[0] for m in sys.modules} & "
             "{'telegram', 'sqlalchemy', 'matplotlib', 'aiohttp', 'alembic'}))")
    result = _run(sys.executable, "-c", probe, cwd=tmp_path)
    assert result.stdout.strip() == "2 []", result.stderr
    assert result.stderr.count("\n") == 1 and "TELEGRAM_BOT_TOKEN" in result.stderr


def test_the_wheel_carries_the_line_adapter_and_its_stand_in(installed):
    python, work = installed
    result = _run(python, "-c", "import bot.line.channel, bot.line.server, line_standin, bot; print(bot.__file__)",
                  cwd=work)
    assert result.returncode == 0, result.stderr
    assert "site-packages" in result.stdout  # the wheel's, not the repository's
