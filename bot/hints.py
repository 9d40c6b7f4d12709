"""Commands printed as hints (a missing token, chat mode), written so that they work from where the user is.

With the project's venv active, or when `python` on PATH is this interpreter: `python -m bot chat`.
Otherwise the interpreter's path, relative to the current directory when it is below it:
`.venv/bin/python -m bot chat`.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def python(cwd: Path | None = None) -> str:
    """How to call this interpreter from `cwd` (default: the current directory)."""
    exe = Path(sys.executable).absolute()
    on_path = shutil.which("python")
    if on_path is not None and Path(on_path).absolute() == exe:
        return "python"
    active = os.environ.get("VIRTUAL_ENV")
    if active and Path(active).absolute() == Path(sys.prefix).absolute():
        return "python"
    here = (cwd or Path.cwd()).absolute()
    try:
        return str(exe.relative_to(here))
    except ValueError:
        return str(exe)


def command(args: str = "") -> str:
    """`python -m bot <args>` as the user should type it here, e.g. command("chat --reset")."""
    return f"{python()} -m bot {args}".rstrip()
