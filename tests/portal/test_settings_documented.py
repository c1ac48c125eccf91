"""Every variable the settings read is documented in .env.example and the README's table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def variables_read_by_settings() -> set[str]:
    source = (ROOT / "portal" / "settings.py").read_text()
    return set(re.findall(r"cfg\.\w+\(\s*\"([A-Z0-9_]+)\"", source))


def test_settings_read_a_plausible_number_of_variables() -> None:
    assert len(variables_read_by_settings()) > 30


def test_every_variable_is_in_env_example() -> None:
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    assert variables_read_by_settings() - documented == set()


def test_every_variable_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in variables_read_by_settings() if f"`{name}`" not in readme}
    assert missing == set()
