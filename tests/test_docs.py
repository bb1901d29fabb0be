"""The README documents every setting and shows the two quick-start commands."""

from __future__ import annotations

import tomllib

from publisher import settings
from publisher.channels import registry
from publisher.config import build

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _declared() -> list[str]:
    keys = [f"{section}.{s.key}" for section, decl in settings.SECTIONS.items() for s in decl]
    keys += [f"agencies.<code>.{s.key}" for s in settings.AGENCY]
    keys += [f"channels.<name>.{s.key}" for s in settings.CHANNEL]
    keys += [f"channels.<name>.{s.key}" for kind in registry.CHANNEL_TYPES.values() for s in kind.options]
    return keys


def test_readme_documents_every_setting():
    missing = [key for key in _declared() if f"`{key}`" not in README]
    assert missing == []


def test_readme_documents_no_setting_that_does_not_exist():
    import re

    documented = set(re.findall(r"^\| `([a-z_<>.]+)` \|", README, re.M))
    assert documented == set(_declared())


def test_readme_quick_start_commands():
    quick = README.split("## Quick start", 1)[1]
    commands = [line for line in quick.splitlines() if line.startswith("pip install")][:2]
    assert commands == ["pip install -e . && publisher demo", "pip install -e '.[test]' && pytest"]


def test_shipped_config_is_valid_and_sets_every_section_key(tmp_path):
    raw = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    build(raw, ROOT / "config.toml", ROOT)  # raises on any mistake
    for section, decl in settings.SECTIONS.items():
        assert {s.key for s in decl} == set(raw[section]), section
