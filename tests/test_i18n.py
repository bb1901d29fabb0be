"""The message catalogue: complete, NFC, consistent, and covering every key the code uses.

The keys used by the code are found by reading its source (``ast``), so a new
``raise InputError("input.new_thing", ...)`` without a catalogue entry fails here.
"""

from __future__ import annotations

import ast
import dataclasses
import string
import unicodedata
from pathlib import Path

import pytest

from publisher import campaign, errors, i18n, reports
from publisher.models import DeliveryState, Impact, Policy, PostState

PACKAGE = Path(i18n.__file__).resolve().parent
RAW = i18n.raw_catalogue()
CATALOGUE = i18n.catalogue()

#: Exception classes whose first argument is a message key.
KEYED = {name for name, obj in vars(errors).items()
         if isinstance(obj, type) and issubclass(obj, errors.PublisherError)}
#: f-string / concatenation prefixes and the values they are completed with.
ENUM_PREFIXES = {
    "state.": [s.value for s in DeliveryState],
    "post_state.": [s.value for s in PostState],
    "impact.": [i.value for i in Impact],
    "moment.": list(campaign.MOMENTS),
    "campaign.": list(campaign.ACTIONS),
}


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _sources() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for p in sorted(PACKAGE.rglob("*.py"))}


SOURCES = _sources()


def _callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _string_tuple(node: ast.AST) -> list[tuple[str, ...]]:
    """Tuples/lists of string literals in *node* (following ``a if c else b``)."""
    if isinstance(node, ast.IfExp):
        return _string_tuple(node.body) + _string_tuple(node.orelse)
    if isinstance(node, (ast.Tuple, ast.List)) and node.elts and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return [tuple(e.value for e in node.elts)]
    return []


def _column_names() -> set[str]:
    """Every column a table header or ``col.`` label is made from."""
    names = {f.name for f in dataclasses.fields(Policy)}  # policy show: t('col.' + key) over asdict(policy)
    names |= set(reports.LOG_COLUMNS) | set(reports.QUEUE_COLUMNS)
    for tree in SOURCES.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _callee(node) == "table" and len(node.args) >= 2:
                for cols in _string_tuple(node.args[1]):
                    names |= set(cols)
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "columns"
                                                    for t in node.targets):
                for cols in _string_tuple(node.value):
                    names |= set(cols)
    return names


def _config_summary_keys() -> set[str]:
    """Keys of the summary printed by ``config check`` (shown as t('config.' + key))."""
    tree = SOURCES[PACKAGE / "cli" / "admin.py"]
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "summary" for t in node.targets)
                and isinstance(node.value, ast.Dict)):
            return {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    raise AssertionError("config check no longer builds a 'summary' dict; update this test")


PROBLEMS: list[str] = []  # call sites whose key the scan cannot work out


def _expand_prefix(prefix: str, where: str) -> list[str]:
    if prefix in ENUM_PREFIXES:
        return [prefix + v for v in ENUM_PREFIXES[prefix]]
    if prefix == "col.":
        return [prefix + c for c in sorted(_column_names())]
    if prefix == "config.":
        return [prefix + k for k in sorted(_config_summary_keys())]
    PROBLEMS.append(f"{where}: message key built from prefix {prefix!r}")
    return []


def _is_passthrough(node: ast.AST) -> bool:
    """PublisherError.__str__: t(self.key, **self.params) forwards keys checked at their raise."""
    return isinstance(node, ast.Attribute) and node.attr == "key" and getattr(node.value, "id", "") == "self"


Use = tuple[str, str, "set[str] | None"]  # (where, callee, keyword names or None if **kwargs)


def _used_keys() -> dict[str, list[Use]]:
    """key -> every call site that uses it."""
    used: dict[str, list[Use]] = {}
    for path, tree in SOURCES.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = _callee(node)
            if name != "t" and name not in KEYED:
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            first = node.args[0]
            if _is_passthrough(first):
                continue
            kwargs = None if any(k.arg is None for k in node.keywords) else {k.arg for k in node.keywords}
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                used.setdefault(first.value, []).append((where, name, kwargs))
            elif isinstance(first, ast.JoinedStr):  # t(f"state.{x}") / t(f"{header_prefix}.{c}")
                head = first.values[0]
                if isinstance(head, ast.Constant):
                    keys = _expand_prefix(head.value, where)
                elif isinstance(head, ast.FormattedValue) and getattr(head.value, "id", "") == "header_prefix":
                    keys = ["col." + c for c in sorted(_column_names())]  # table(..., header_prefix="col")
                else:
                    PROBLEMS.append(f"{where}: cannot tell which message key this f-string makes")
                    keys = []
                for key in keys:
                    used.setdefault(key, []).append((where, name, None))
            elif (isinstance(first, ast.BinOp) and isinstance(first.op, ast.Add)
                  and isinstance(first.left, ast.Constant)):  # t('col.' + key)
                for key in _expand_prefix(first.left.value, where):
                    used.setdefault(key, []).append((where, name, None))
            else:
                PROBLEMS.append(f"{where}: message key is not a literal")
    return used


USED = _used_keys()


def test_catalogue_file_is_what_the_code_loads():
    assert set(RAW) == set(CATALOGUE)
    assert len(CATALOGUE) > 50


@pytest.mark.parametrize("key", sorted(RAW))
def test_every_message_has_vi_and_en_in_nfc_with_the_same_placeholders(key):
    texts = RAW[key]
    assert set(texts) == set(i18n.LANGUAGES), f"{key}: languages {sorted(texts)}"
    for lang, text in texts.items():
        assert isinstance(text, str) and text.strip(), f"{key}.{lang} is empty"
        assert unicodedata.is_normalized("NFC", text), f"{key}.{lang} is not NFC in messages.toml"
    assert _placeholders(texts["vi"]) == _placeholders(texts["en"]), key
    assert all(p.isidentifier() for p in _placeholders(texts["vi"])), f"{key}: odd placeholder"


def test_vietnamese_texts_are_vietnamese():
    """Guard against an English text pasted into vi: most vi texts carry Vietnamese letters."""
    marked = [k for k, v in RAW.items() if any(ord(c) > 127 for c in v["vi"])]
    assert len(marked) / len(RAW) > 0.9


def test_every_message_key_in_the_code_can_be_worked_out():
    assert PROBLEMS == [], "teach tests/test_i18n.py how these keys are made"


def test_code_uses_keys_the_scan_can_see():
    # the scan itself must work, or the coverage test below proves nothing
    for key in ("config.unknown_key", "render.undefined", "post.self_approval", "cli.error",
                "state.waiting", "post_state.draft", "impact.high", "col.next_attempt", "col.issued_on",
                "config.data_dir", "config.agencies"):
        assert key in USED, key


@pytest.mark.parametrize("key", sorted(USED))
def test_every_key_used_in_the_code_is_in_the_catalogue(key):
    places = ", ".join(w for w, _, _ in USED[key])
    assert key in CATALOGUE, f"message key {key!r} used at {places} is missing from messages.toml"


@pytest.mark.parametrize("key", sorted(k for k in USED if k in CATALOGUE))
def test_call_sites_pass_every_placeholder_and_render(key):
    """Each call site, replayed with its own keyword names, gives a message in both languages.

    A missing placeholder would raise KeyError when shown; a parameter named like
    the positional ``key`` would raise TypeError: either turns a user mistake
    into a crash.
    """
    needed = _placeholders(CATALOGUE[key]["vi"])
    for where, callee, kwargs in USED[key]:
        if kwargs is None:
            continue
        assert needed <= kwargs, f"{where}: {key} needs {sorted(needed - kwargs)}"
        params = {k: f"<{k}>" for k in kwargs}
        for lang in i18n.LANGUAGES:
            i18n.set_language(lang)
            if callee in KEYED:
                shown = str(getattr(errors, callee)(key, **params))
            else:
                shown = i18n.t(key, **params)
            assert shown == CATALOGUE[key][lang].format(**params), where
            assert all(f"<{p}>" in shown for p in needed), where


def test_set_language_switches():
    i18n.set_language("en")
    assert i18n.language() == "en"
    assert i18n.t("config.valid") == RAW["config.valid"]["en"]
    assert i18n.t("post.not_found", id=7) == RAW["post.not_found"]["en"].format(id=7)
    i18n.set_language("vi")
    assert i18n.language() == "vi"
    assert i18n.t("config.valid") == RAW["config.valid"]["vi"]
    assert i18n.t("post.not_found", id=7) == RAW["post.not_found"]["vi"].format(id=7)
    assert i18n.t("config.valid") != RAW["config.valid"]["en"]


@pytest.mark.parametrize("lang", ["fr", "", "EN", "vi-VN", "xx"])
def test_unknown_language_falls_back_to_vietnamese(lang):
    i18n.set_language("en")
    i18n.set_language(lang)
    assert i18n.language() == "vi"
    assert i18n.t("cli.error") == RAW["cli.error"]["vi"]


def test_errors_render_in_the_current_language():
    exc = errors.ConfigError("config.unknown_key", path="daemon.pol_seconds", allowed="poll_seconds")
    assert str(exc) == RAW["config.unknown_key"]["vi"].format(path="daemon.pol_seconds", allowed="poll_seconds")
    i18n.set_language("en")
    assert str(exc) == RAW["config.unknown_key"]["en"].format(path="daemon.pol_seconds", allowed="poll_seconds")


def test_missing_key_shows_key_and_data_instead_of_crashing():
    assert i18n.t("khong.co.khoa") == "khong.co.khoa"
    shown = i18n.t("khong.co.khoa", path="daemon.x")
    assert "khong.co.khoa" in shown and "daemon.x" in shown


def test_catalogue_is_nfc_even_when_the_file_is_not(tmp_path, monkeypatch):
    decomposed = unicodedata.normalize("NFD", "cấu hình hợp lệ")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    path = tmp_path / "messages.toml"
    path.write_text(f'["x.y"]\nvi = "{decomposed}"\nen = "valid"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "_LOCALE", tmp_path)
    i18n.catalogue.cache_clear()
    try:
        assert i18n.t("x.y") == "cấu hình hợp lệ"
        assert unicodedata.is_normalized("NFC", i18n.t("x.y"))
    finally:
        monkeypatch.undo()
        i18n.catalogue.cache_clear()
    assert "x.y" not in i18n.catalogue()


def test_a_key_defined_in_two_locale_files_is_refused(tmp_path, monkeypatch):
    for name in ("a.toml", "b.toml"):
        (tmp_path / name).write_text('["x.y"]\nvi = "hai"\nen = "two"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "_LOCALE", tmp_path)
    with pytest.raises(RuntimeError, match=r"b\.toml.*x\.y"):
        i18n.raw_catalogue()
