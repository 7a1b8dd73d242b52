"""The Simplified Chinese catalogues are complete and current: every message translated and none
fuzzy, the committed .mo compiled from the .po, and no marked string missing (makemessages on a
copy of the code finds the very same messages). The last check runs GNU gettext, as
`makemessages` does; .ci/run installs it (a user installing the app needs none: the .mo files
are committed)."""

from __future__ import annotations

import ast
import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
# What makemessages must not read: the same list as the README's command.
IGNORED = [".venv/*", "tests/*", "var/*", "test-artifacts/*", "static/vendor/*", "staticfiles/*"]
NOT_COPIED = shutil.ignore_patterns(
    ".venv", ".git", "var", "test-artifacts", "staticfiles", "__pycache__", "*.sqlite3*", "tests"
)


def parse_po(path: Path) -> list[dict[str, object]]:
    """The entries of a .po file (the header and obsolete #~ entries left out): each with its
    msgctxt, msgid, msgid_plural, its msgstr or msgstr[n] texts, and its flags."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] = {}
    key = ""

    def finish() -> None:
        nonlocal entry
        if entry.get("msgid"):
            entries.append(entry)
        entry = {}

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            entry.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))  # type: ignore[union-attr]
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] = str(entry[key]) + ast.literal_eval(line)
        else:
            key, _space, value = line.partition(" ")
            if key == "msgid" and "msgid" in entry and entry["msgid"]:
                finish()
            entry[key] = ast.literal_eval(value)
    finish()
    return entries


def translations(entry: dict[str, object]) -> list[str]:
    return [str(v) for k, v in entry.items() if k.startswith("msgstr")]


def message_keys(path: Path) -> set[tuple[str, str, str]]:
    return {
        (str(e.get("msgctxt", "")), str(e["msgid"]), str(e.get("msgid_plural", "")))
        for e in parse_po(path)
    }


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_message_is_translated_and_none_is_fuzzy(domain):
    entries = parse_po(CATALOGUES / f"{domain}.po")
    assert entries
    untranslated = [e["msgid"] for e in entries if not all(translations(e))]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e.get("flags", set())]  # type: ignore[operator]
    assert untranslated == [] and fuzzy == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_committed_mo_is_compiled_from_the_po(domain):
    with open(CATALOGUES / f"{domain}.mo", "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    for entry in parse_po(CATALOGUES / f"{domain}.po"):
        key = str(entry["msgid"])
        if entry.get("msgctxt"):
            key = f"{entry['msgctxt']}\x04{key}"
        if "msgid_plural" in entry:
            assert catalogue.get((key, 0)) == entry["msgstr[0]"], key
        else:
            assert catalogue.get(key) == entry["msgstr"], key


def test_the_parser_sees_a_missing_translation_and_a_fuzzy_flag(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        'msgid "One"\nmsgstr ""\n\n'
        '#, fuzzy, python-format\nmsgid "Two %(n)s"\nmsgid_plural "Twos %(n)s"\n'
        'msgstr[0] "二 %(n)s"\n\n'
        'msgctxt "date"\nmsgid ""\n"Da"\n"y"\nmsgstr "日期"\n\n'
        '#~ msgid "Old"\n#~ msgstr "旧"\n',
        encoding="utf-8",
    )
    entries = parse_po(po)
    assert [e["msgid"] for e in entries] == ["One", "Two %(n)s", "Day"]
    assert translations(entries[0]) == [""]
    assert "fuzzy" in entries[1]["flags"]  # type: ignore[operator]
    assert message_keys(po) == {
        ("", "One", ""),
        ("", "Two %(n)s", "Twos %(n)s"),
        ("date", "Day", ""),
    }


@pytest.mark.skipif(
    shutil.which("xgettext") is None and not os.environ.get("CI"),
    reason="GNU gettext is not installed (CI installs it: .ci/run)",
)
def test_makemessages_finds_no_message_missing_from_the_catalogue(tmp_path):
    copy = tmp_path / "code"
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    for domain in DOMAINS:
        command = [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "-d", domain]
        for pattern in IGNORED:
            command += ["--ignore", pattern]
        result = subprocess.run(
            command, cwd=copy, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
        before = message_keys(CATALOGUES / f"{domain}.po")
        after = message_keys(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po")
        assert sorted(after - before) == [], "marked but missing from the catalogue"
        assert sorted(before - after) == [], "in the catalogue but no longer marked"
