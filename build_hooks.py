"""setuptools hook (pyproject.toml, [tool.setuptools.cmdclass]): a built wheel carries `locales/` (every
user-facing string) inside the bot package, as `bot/locales/`, so a non-editable `pip install .` has its
texts. In the repository the catalogues stay at the top-level `locales/`; bot/i18n.py reads
`bot/locales/` when it exists (an installed package), else the repository's `locales/`."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
LOCALES = ROOT / "locales"


class BuildPyWithLocales(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads the repository's locales/
            return
        target = Path(self.build_lib) / "bot" / "locales"
        for po in sorted(LOCALES.rglob("*.po")):
            dest = target / po.relative_to(LOCALES)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(po, dest)
