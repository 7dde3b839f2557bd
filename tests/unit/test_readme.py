"""The README stays true: its configuration table is exactly what the settings read."""

import re
from pathlib import Path

from service.settings import env_names

README = Path(__file__).resolve().parents[2] / "README.md"


def _configuration_table() -> set[str]:
    text = README.read_text()
    section = text.split("## Configuration (environment)", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_the_configuration_table_lists_every_variable_and_no_other():
    assert _configuration_table() == env_names()
