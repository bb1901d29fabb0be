"""config.toml validation: every mistake is a ConfigError naming the key path.

Library calls prove the messages; the real ``publisher`` command (a
subprocess) proves exit code 2, one line on stderr, no traceback, and that a
bad configuration touches nothing.
"""

from __future__ import annotations

import json
import os
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from publisher import config, i18n, resources, settings
from publisher.errors import ConfigError
from publisher.retry import RetryPolicy

from .conftest import BASE_CONFIG, run_cli

BUILTIN = resources.builtin_templates().resolve()
SECRET = "EAAB-sieu-bi-mat-9f8e7d"  # must never be printed
PG_PASSWORD = "MatKhau-CSDL-42x"


def _write(folder: Path, text: str, name: str = "config.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _in_section(section: str, line: str) -> str:
    """BASE_CONFIG with *line* added at the top of ``[section]``."""
    header = f"[{section}]\n"
    if header not in BASE_CONFIG:
        return BASE_CONFIG + f"\n{header}{line}\n"
    return BASE_CONFIG.replace(header, f"{header}{line}\n", 1)


def _replace(old: str, new: str) -> str:
    assert old in BASE_CONFIG
    return BASE_CONFIG.replace(old, new, 1)


NO_AGENCIES = """
[storage]
data_dir = "data"
"""

# (id, config text, message key, key path)
BAD = [
    ("unknown-top-level-key", "verbose = true\n" + BASE_CONFIG, "config.unknown_key", "verbose"),
    ("unknown-section", BASE_CONFIG + "\n[logging]\nlevel = \"debug\"\n", "config.unknown_key", "logging"),
    ("unknown-key-in-section", _in_section("daemon", "pol_seconds = 1"), "config.unknown_key", "daemon.pol_seconds"),
    ("unknown-key-in-agency", _in_section("agencies.tinh", 'ten = "x"'), "config.unknown_key", "agencies.tinh.ten"),
    ("unknown-key-in-channel", _in_section("channels.portal", 'fromat = "portal"'), "config.unknown_key",
     "channels.portal.fromat"),
    ("section-not-a-table", "daemon = 5\n" + _replace("[daemon]\npoll_seconds = 0.2\nlease_seconds = 5\n"
                                                     "grace_seconds = 10\n", ""), "config.not_table", "daemon"),
    ("string-for-float", _replace("lease_seconds = 5", 'lease_seconds = "x"'), "config.wrong_type",
     "daemon.lease_seconds"),
    ("bool-for-int", _replace("max_attempts = 3", "max_attempts = true"), "config.wrong_type", "retry.max_attempts"),
    ("bool-for-float", _replace("poll_seconds = 0.2", "poll_seconds = false"), "config.wrong_type",
     "daemon.poll_seconds"),
    ("float-for-int", _in_section("daemon", "batch_size = 2.5"), "config.wrong_type", "daemon.batch_size"),
    ("int-for-bool", _in_section("channels.fanpage", "enabled = 1"), "config.wrong_type", "channels.fanpage.enabled"),
    ("string-for-string-list", _in_section("display", 'language = ["vi"]'), "config.wrong_type", "display.language"),
    ("below-minimum-float", _replace("poll_seconds = 0.2", "poll_seconds = 0.01"), "config.too_small",
     "daemon.poll_seconds"),
    ("below-minimum-int", _replace("max_attempts = 3", "max_attempts = 0"), "config.too_small", "retry.max_attempts"),
    ("negative", _in_section("storage", "busy_timeout_ms = -1"), "config.too_small", "storage.busy_timeout_ms"),
    ("above-maximum", _in_section("audit", "coverage_target = 70"), "config.too_large", "audit.coverage_target"),
    ("bad-coverage-rule", _in_section("audit", 'coverage_requires = "website"'), "config.bad_choice",
     "audit.coverage_requires"),
    ("nan", _replace("poll_seconds = 0.2", "poll_seconds = nan"), "config.not_finite", "daemon.poll_seconds"),
    ("inf", _replace("max_seconds = 2", "max_seconds = inf"), "config.not_finite", "retry.max_seconds"),
    ("bad-language", _in_section("display", 'language = "fr"'), "config.bad_choice", "display.language"),
    ("bad-format", _replace('format = "portal"', 'format = "twitter"'), "config.bad_choice",
     "channels.portal.format"),
    ("unknown-channel-type", _replace('type = "outbox"', 'type = "telegram"'), "config.unknown_channel_type",
     "channels.portal.type"),
    ("channel-type-missing", _replace('type = "outbox"\n', ""), "config.unknown_channel_type",
     "channels.portal.type"),
    ("channel-type-a-list", _replace('type = "outbox"', 'type = ["outbox"]'), "config.unknown_channel_type",
     "channels.portal.type"),
    ("channel-agency-missing", _replace('agency = "tinh"\n', ""), "config.required", "channels.portal.agency"),
    ("channel-unknown-agency", _replace('agency = "tinh"', 'agency = "huyen"'), "config.unknown_agency",
     "channels.portal.agency"),
    ("channel-bad-name", BASE_CONFIG + '\n[channels."Kênh 1"]\ntype = "outbox"\nagency = "tinh"\n',
     "config.bad_code", 'channels.Kênh 1'),
    ("no-agencies", NO_AGENCIES, "config.no_agencies", "agencies"),
    ("empty-agencies", NO_AGENCIES + "\n[agencies]\n", "config.no_agencies", "agencies"),
    ("agency-bad-code", BASE_CONFIG + '\n[agencies."Tỉnh"]\nname = "x"\n', "config.bad_code", "agencies.Tỉnh"),
    ("agency-code-newline", BASE_CONFIG + '\n[agencies."tinh2\\n"]\nname = "x"\n', "config.bad_code",
     "agencies.tinh2\\n"),  # shown escaped: an error stays on one line
    ("unknown-key-with-newline", '"a\\nb" = 1\n' + BASE_CONFIG, "config.unknown_key", "a\\nb"),
    ("agency-name-missing", BASE_CONFIG + "\n[agencies.huyen]\n", "config.required", "agencies.huyen.name"),
    ("missing-default-template", _in_section("templates", 'default = "khong-co"'), "config.missing_template",
     "templates.default"),
    ("missing-template-dir", _in_section("templates", 'dir = "mau-khong-co"'), "config.missing_dir",
     "templates.dir"),
    ("bad-timezone", _in_section("display", 'timezone = "Asia/Ha_Noi"'), "config.bad_timezone", "display.timezone"),
    ("url-with-password", _in_section("storage", f'database_url = "postgresql+psycopg://pub:{PG_PASSWORD}@db/pub"'),
     "config.secret_in_url", "storage.database_url"),
    ("url-with-password-in-query",
     _in_section("storage", f'database_url = "postgresql+psycopg://pub@db/pub?password={PG_PASSWORD}"'),
     "config.secret_in_url", "storage.database_url"),
    ("url-not-a-url", _in_section("storage", 'database_url = "khong phai url"'), "config.bad_database_url",
     "storage.database_url"),
    ("url-env-unset", _in_section("storage", 'database_url_env = "PUBLISHER_TEST_KHONG_CO_BIEN"'),
     "config.env_unset", "storage.database_url_env"),
]

# (id, config text, key path): secrets written inline; the value must never be shown
INLINE_SECRETS = [
    ("channel-token", _in_section("channels.fanpage", f'token = "{SECRET}"'), "channels.fanpage.token"),
    ("top-level-password", f'password = "{SECRET}"\n' + BASE_CONFIG, "password"),
    ("storage-password", _in_section("storage", f'password = "{SECRET}"'), "storage.password"),
    ("agency-app-secret", _in_section("agencies.xa", f'app_secret = "{SECRET}"'), "agencies.xa.app_secret"),
    ("suffixed-token", _in_section("channels.portal", f'fb_page_token = "{SECRET}"'), "channels.portal.fb_page_token"),
    ("upper-case", _in_section("channels.portal", f'API_KEY = "{SECRET}"'), "channels.portal.API_KEY"),
    ("unknown-section-secret", BASE_CONFIG + f'\n[facebook]\naccess_token = "{SECRET}"\n', "facebook.access_token"),
]


def _assert_untouched(project: Path) -> None:
    assert sorted(p.name for p in project.iterdir()) == ["config.toml", "templates"]


def _one_line_error(result, *needles: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# --- library: each mistake names its key path ---------------------------------

@pytest.mark.parametrize(("text", "key", "path"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_config_names_the_key_path(project, monkeypatch, text, key, path):
    monkeypatch.delenv("PUBLISHER_TEST_KHONG_CO_BIEN", raising=False)
    cfg = _write(project, text)
    with pytest.raises(ConfigError) as caught:
        config.load(cfg)
    err = caught.value
    assert (err.key, err.params["path"]) == (key, path)
    assert path.split(".")[-1].strip() in str(err)
    if key != "config.no_agencies":  # that one shows an example table instead
        assert path in str(err)
    i18n.set_language("en")
    assert path.split(".")[-1].strip() in str(err)
    assert PG_PASSWORD not in str(err)
    assert "\n" not in str(err)
    _assert_untouched(project)


@pytest.mark.parametrize(("text", "path"), [s[1:] for s in INLINE_SECRETS], ids=[s[0] for s in INLINE_SECRETS])
def test_inline_secret_is_refused_without_showing_it(project, text, path):
    cfg = _write(project, text)
    with pytest.raises(ConfigError) as caught:
        config.load(cfg)
    err = caught.value
    assert err.params["path"] == path
    for lang in i18n.LANGUAGES:
        i18n.set_language(lang)
        message = str(err)
        assert path in message
        assert SECRET not in message
        name = path.rsplit(".", 1)[-1]
        assert f"{name}_env" in message and f"{name}_file" in message  # tells what to write instead
    assert SECRET not in repr(err.params)


@pytest.mark.parametrize("line", ['token_env = "FB_TOKEN"', 'token_file = "/etc/publisher/fb.token"',
                                  'password_env = "X"', 'tokens_seen = 3', 'secretary = "x"'])
def test_secret_references_are_not_mistaken_for_secrets(project, line):
    # not refused as a secret; the outbox channel has no such option, so it is an unknown key
    cfg = _write(project, _in_section("channels.portal", line))
    with pytest.raises(ConfigError) as caught:
        config.load(cfg)
    assert caught.value.key == "config.unknown_key"
    assert caught.value.params["path"] == "channels.portal." + line.split(" ")[0]


def test_syntax_error_names_the_file_and_line(project):
    cfg = _write(project, BASE_CONFIG + "\n[daemon\npoll_seconds = 1\n")
    with pytest.raises(ConfigError) as caught:
        config.load(cfg)
    assert caught.value.key == "config.syntax"
    assert str(cfg) in str(caught.value)
    lines = (BASE_CONFIG + "\n[daemon\n").count("\n")
    assert f"line {lines}" in str(caught.value)


def test_secret_in_a_syntax_error_is_not_shown(project):
    cfg = _write(project, _in_section("channels.portal", f"token = {SECRET}"))  # unquoted: not TOML
    with pytest.raises(ConfigError) as caught:
        config.load(cfg)
    assert caught.value.key == "config.syntax" and SECRET not in str(caught.value)


def test_unreadable_file_names_the_file(project):
    cfg = project / "config.toml"
    cfg.write_bytes(BASE_CONFIG.encode("utf-8") + b'\n# \xff\xfe not utf-8\n')
    with pytest.raises(ConfigError) as caught:
        config.load(cfg)
    assert caught.value.key == "config.unreadable" and str(cfg) in str(caught.value)


def test_missing_explicit_file(project):
    with pytest.raises(ConfigError) as caught:
        config.load(project / "khong-co.toml")
    assert caught.value.key == "config.missing_file"
    assert "khong-co.toml" in str(caught.value)


# --- library: valid configurations -------------------------------------------

def test_valid_config_values(project):
    cfg = config.load(project / "config.toml")
    assert cfg.path == project / "config.toml"
    assert cfg.data_dir == project.resolve() / "data"
    assert cfg.database_url == f"sqlite:///{project.resolve() / 'data' / 'publisher.db'}"
    assert cfg.timezone.key == "Asia/Ho_Chi_Minh" and cfg.language == "vi"
    assert cfg.daemon["poll_seconds"] == 0.2
    assert cfg.daemon["lease_seconds"] == 5.0 and isinstance(cfg.daemon["lease_seconds"], float)  # int accepted
    assert cfg.daemon["batch_size"] == 20  # default
    written = tomllib.loads(BASE_CONFIG)["retry"]
    assert cfg.retry == RetryPolicy(**written)
    assert all(isinstance(getattr(cfg.retry, k), type(getattr(RetryPolicy(), k))) for k in written)
    assert cfg.template_dirs == ((project / "templates").resolve(), BUILTIN)
    assert cfg.default_template == "moi-gop-y"
    assert {a.code: a.name for a in cfg.agencies.values()} == {
        "tinh": "Ủy ban nhân dân tỉnh Thử Nghiệm", "xa": "Ủy ban nhân dân xã Thử Nghiệm"}
    assert {(c.name, c.agency, c.format, c.enabled) for c in cfg.channels.values()} == {
        ("portal", "tinh", "portal", True), ("fanpage", "tinh", "facebook", True),
        ("xa-fanpage", "xa", "facebook", True)}
    assert cfg.channels["portal"].options == {"directory": ""}
    _assert_untouched(project)


def test_relative_paths_are_relative_to_the_config_file(project, tmp_path_factory, monkeypatch):
    elsewhere = tmp_path_factory.mktemp("cwd-khac")
    monkeypatch.chdir(elsewhere)
    _write(project, _in_section("channels.portal", 'directory = "xuat-ban/portal"'))
    cfg = config.load(project / "config.toml")
    assert cfg.data_dir == project.resolve() / "data"
    assert cfg.template_dirs[0] == (project / "templates").resolve()
    assert cfg.channels["portal"].options["directory"] == str(project.resolve() / "xuat-ban" / "portal")


def test_a_missing_templates_folder_is_an_error_only_when_named(project):
    (project / "templates").rmdir()
    assert config.load(project / "config.toml").template_dirs == (BUILTIN,)  # templates.dir not set
    with pytest.raises(ConfigError) as err:
        config.load(_write(project, BASE_CONFIG + '\n[templates]\ndir = "mau"\n'))
    assert err.value.params["path"] == "templates.dir"


def test_user_template_folder_may_provide_the_default_template(project):
    (project / "templates" / "posts").mkdir()
    for fmt, ext in (("portal", "html"), ("facebook", "txt")):
        (project / "templates" / "posts" / f"rieng.{fmt}.{ext}").write_text("{{ policy.title }}\n", encoding="utf-8")
    cfg = config.load(_write(project, _in_section("templates", 'default = "rieng"')))
    assert cfg.default_template == "rieng"


def test_default_template_needs_every_format_in_use(project):
    (project / "templates" / "posts").mkdir()
    (project / "templates" / "posts" / "rieng.portal.html").write_text("x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(_write(project, _in_section("templates", 'default = "rieng"')))
    assert caught.value.params["format"] == "facebook"
    assert caught.value.params["path"] == "templates.default"


def test_database_url_without_password_is_accepted(project):
    url = "postgresql+psycopg://publisher@db.example/publisher"
    assert config.load(_write(project, _in_section("storage", f'database_url = "{url}"'))).database_url == url


def test_database_url_env_is_read(project, monkeypatch):
    url = f"postgresql+psycopg://pub:{PG_PASSWORD}@db/pub"
    monkeypatch.setenv("PUBLISHER_TEST_DB_URL", url)
    cfg = config.load(_write(project, _in_section("storage", 'database_url_env = "PUBLISHER_TEST_DB_URL"')))
    assert cfg.database_url == url  # a password is fine when it comes from the environment


def test_publisher_database_url_overrides_everything(project, monkeypatch):
    url = f"postgresql+psycopg://pub:{PG_PASSWORD}@db/pub"
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", url)
    monkeypatch.setenv("PUBLISHER_TEST_DB_URL", "postgresql+psycopg://other@db2/other")
    assert config.load(project / "config.toml").database_url == url
    text = _in_section("storage",
                       'database_url = "postgresql+psycopg://x@h/file"\ndatabase_url_env = "PUBLISHER_TEST_DB_URL"')
    assert config.load(_write(project, text)).database_url == url


def test_bad_publisher_database_url_is_a_config_error(project, monkeypatch):
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", "day khong phai url")
    with pytest.raises(ConfigError) as caught:
        config.load(project / "config.toml")
    assert caught.value.params["path"] == "PUBLISHER_DATABASE_URL"
    assert "day khong phai url" not in str(caught.value)  # could hold a password


def test_publisher_config_env_selects_the_file(project, tmp_path_factory, monkeypatch):
    other = tmp_path_factory.mktemp("etc")
    (other / "templates").mkdir()
    text = BASE_CONFIG.replace('name = "Ủy ban nhân dân tỉnh Thử Nghiệm"', 'name = "UBND tỉnh Khác"')
    chosen = _write(other, text, "publisher.toml")
    monkeypatch.setenv("PUBLISHER_CONFIG", str(chosen))
    cfg = config.load()
    assert cfg.path == chosen
    assert cfg.agencies["tinh"].name == "UBND tỉnh Khác"
    assert cfg.data_dir == other.resolve() / "data"
    # an explicit path beats the environment
    assert config.load(project / "config.toml").agencies["tinh"].name == "Ủy ban nhân dân tỉnh Thử Nghiệm"
    monkeypatch.setenv("PUBLISHER_CONFIG", str(other / "khong-co.toml"))
    with pytest.raises(ConfigError) as caught:
        config.load()
    assert caught.value.key == "config.missing_file" and "khong-co.toml" in str(caught.value)


def test_cwd_config_is_used_without_flag_or_env(project):
    assert config.load().path == project / "config.toml"


def test_builtin_defaults_without_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PUBLISHER_CONFIG", raising=False)
    monkeypatch.delenv("PUBLISHER_DATABASE_URL", raising=False)
    cfg = config.load()
    assert cfg.path is None
    assert cfg.data_dir == tmp_path.resolve() / "queue"
    assert cfg.database_url == f"sqlite:///{tmp_path.resolve() / 'queue' / 'publisher.db'}"
    assert list(cfg.agencies) == ["ubnd-huyen"]
    assert {n: c.format for n, c in cfg.channels.items()} == {"cong-thong-tin": "portal", "fanpage": "facebook"}
    assert cfg.template_dirs == (BUILTIN,)  # no ./templates: built-in ones only, and that is no error
    assert cfg.retry == RetryPolicy()
    assert list(tmp_path.iterdir()) == []


def test_shipped_config_declares_every_setting_at_its_default():
    """The commented config.toml users copy must match the declared defaults."""
    raw = tomllib.loads(resources.default_config().read_text(encoding="utf-8"))
    for section, decl in settings.SECTIONS.items():
        for s in decl:
            assert raw[section].get(s.key, s.default) == s.default, f"{section}.{s.key}"


# --- secret() -----------------------------------------------------------------

def test_secret_from_env(monkeypatch):
    monkeypatch.setenv("PUBLISHER_TEST_FB_TOKEN", f"  {SECRET}\n")
    assert config.secret({"token_env": "PUBLISHER_TEST_FB_TOKEN"}, "token", "channels.fb") == SECRET


@pytest.mark.parametrize("value", [None, "", "  \n"])
def test_secret_env_unset_or_blank(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("PUBLISHER_TEST_FB_TOKEN", raising=False)
    else:
        monkeypatch.setenv("PUBLISHER_TEST_FB_TOKEN", value)
    with pytest.raises(ConfigError) as caught:
        config.secret({"token_env": "PUBLISHER_TEST_FB_TOKEN"}, "token", "channels.fb")
    assert caught.value.key == "config.env_unset"
    assert caught.value.params["path"] == "channels.fb.token_env"
    assert "PUBLISHER_TEST_FB_TOKEN" in str(caught.value) and "channels.fb.token_env" in str(caught.value)


def test_secret_from_file(tmp_path):
    path = tmp_path / "fb.token"
    path.write_text(SECRET + "\n", encoding="utf-8")
    assert config.secret({"token_file": str(path)}, "token", "channels.fb") == SECRET


def test_secret_env_wins_over_file(tmp_path, monkeypatch):
    path = tmp_path / "fb.token"
    path.write_text("tu-tep", encoding="utf-8")
    monkeypatch.setenv("PUBLISHER_TEST_FB_TOKEN", "tu-bien")
    options = {"token_env": "PUBLISHER_TEST_FB_TOKEN", "token_file": str(path)}
    assert config.secret(options, "token", "channels.fb") == "tu-bien"


def test_secret_file_missing(tmp_path):
    path = tmp_path / "khong-co.token"
    with pytest.raises(ConfigError) as caught:
        config.secret({"token_file": str(path)}, "token", "channels.fb")
    assert caught.value.key == "config.secret_file"
    assert caught.value.params["path"] == "channels.fb.token_file"
    assert str(path) in str(caught.value)


def test_secret_file_is_a_folder(tmp_path):
    with pytest.raises(ConfigError) as caught:
        config.secret({"token_file": str(tmp_path)}, "token", "channels.fb")
    assert caught.value.key == "config.secret_file"


def test_secret_file_empty(tmp_path):
    path = tmp_path / "fb.token"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.secret({"token_file": str(path)}, "token", "channels.fb")
    assert caught.value.params["path"] == "channels.fb.token_file"
    assert str(path) in str(caught.value)


def test_secret_file_error_does_not_show_its_content(tmp_path):
    path = tmp_path / "fb.token"
    path.write_bytes(SECRET.encode() + b"\xff\xfe")  # unreadable as UTF-8
    with pytest.raises(ConfigError) as caught:
        config.secret({"token_file": str(path)}, "token", "channels.fb")
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("options", [{}, {"token_env": ""}, {"token_file": ""}, {"app_secret_env": "X"}])
def test_secret_not_configured(options):
    with pytest.raises(ConfigError) as caught:
        config.secret(options, "token", "channels.fb")
    assert caught.value.key == "config.secret_missing"
    assert "channels.fb.token_env" in str(caught.value)


# --- the real command ---------------------------------------------------------

def _cli_case(folder: Path, text: str):  # type: ignore[no-untyped-def]
    folder.mkdir()
    (folder / "templates").mkdir()
    _write(folder, text)
    return run_cli("config", "check", cwd=folder)


@pytest.fixture(scope="module")
def cli_bad_results(tmp_path_factory):  # type: ignore[no-untyped-def]
    """Every bad configuration through the real command, run side by side (0.5 s each)."""
    root = tmp_path_factory.mktemp("cli-bad")
    cases = {case_id: text for case_id, text, *_ in BAD + INLINE_SECRETS}
    with ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2))) as pool:
        futures = {case_id: pool.submit(_cli_case, root / case_id, text) for case_id, text in cases.items()}
        return {case_id: (root / case_id, f.result()) for case_id, f in futures.items()}


@pytest.mark.parametrize("path", [b[3] for b in BAD], ids=[b[0] for b in BAD])
def test_cli_config_check_bad_config(cli_bad_results, request, path):
    folder, result = cli_bad_results[request.node.callspec.id]
    _one_line_error(result, path.split(".")[-1].strip())
    assert PG_PASSWORD not in result.stderr
    _assert_untouched(folder)


@pytest.mark.parametrize("path", [s[2] for s in INLINE_SECRETS], ids=[s[0] for s in INLINE_SECRETS])
def test_cli_inline_secret(cli_bad_results, request, path):
    folder, result = cli_bad_results[request.node.callspec.id]
    _one_line_error(result, path)
    assert SECRET not in result.stderr + result.stdout
    _assert_untouched(folder)


def test_cli_bad_config_touches_nothing_even_for_commands_that_write(project):
    _write(project, _in_section("daemon", "pol_seconds = 1"))
    _one_line_error(run_cli("db", "upgrade", cwd=project), "daemon.pol_seconds")
    _one_line_error(run_cli("policy", "list", cwd=project), "daemon.pol_seconds")
    _assert_untouched(project)
    # the same commands with the mistake fixed do create the database: the check above is real
    _write(project, BASE_CONFIG)
    assert run_cli("db", "upgrade", cwd=project).returncode == 0
    assert (project / "data" / "publisher.db").is_file()


def test_cli_syntax_error_names_the_file(project):
    _write(project, BASE_CONFIG + "\n[daemon\n")
    _one_line_error(run_cli("config", "check", cwd=project), str(project / "config.toml"))
    _assert_untouched(project)


def test_cli_missing_config_file(project):
    line = _one_line_error(run_cli("--config", "khong-co.toml", "config", "check", cwd=project), "khong-co.toml")
    assert "--config" in line
    _one_line_error(run_cli("config", "check", cwd=project, env={"PUBLISHER_CONFIG": "/khong/co.toml"}),
                    "/khong/co.toml")
    _assert_untouched(project)


def test_cli_english_errors(project):
    _write(project, _in_section("display", 'language = "fr"'))
    line = _one_line_error(run_cli("--lang", "en", "config", "check", cwd=project), "display.language")
    assert line.startswith("Error: config:") and "fr" in line and "vi, en" in line


def test_cli_config_check_json(project):
    result = run_cli("config", "check", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    root = project.resolve()
    assert summary["config_file"] == str(project / "config.toml")
    assert summary["database"] == f"sqlite:///{root / 'data' / 'publisher.db'}"
    assert summary["data_dir"] == str(root / "data")
    assert summary["timezone"] == "Asia/Ho_Chi_Minh" and summary["language"] == "vi"
    assert summary["template_dirs"] == [str(root / "templates"), str(BUILTIN)]
    assert summary["default_template"] == "moi-gop-y"
    assert summary["agencies"] == {"tinh": "Ủy ban nhân dân tỉnh Thử Nghiệm", "xa": "Ủy ban nhân dân xã Thử Nghiệm"}
    assert summary["channels"] == {
        "portal": {"type": "outbox", "agency": "tinh", "format": "portal", "enabled": True},
        "fanpage": {"type": "outbox", "agency": "tinh", "format": "facebook", "enabled": True},
        "xa-fanpage": {"type": "outbox", "agency": "xa", "format": "facebook", "enabled": True},
    }
    _assert_untouched(project)  # checking creates no database


def test_cli_config_check_text(project):
    result = run_cli("config", "check", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Cấu hình hợp lệ.\n")
    assert "tinh: Ủy ban nhân dân tỉnh Thử Nghiệm" in result.stdout
    assert "xa-fanpage:" in result.stdout


def test_cli_publisher_config_env_selects_the_file(project, tmp_path_factory):
    other = tmp_path_factory.mktemp("etc")
    (other / "templates").mkdir()
    chosen = _write(other, BASE_CONFIG.replace("[agencies.xa]", "[agencies.huyen]").replace(
        'agency = "xa"', 'agency = "huyen"'), "publisher.toml")
    result = run_cli("config", "check", "--json", cwd=project, env={"PUBLISHER_CONFIG": str(chosen)})
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["config_file"] == str(chosen)
    assert set(summary["agencies"]) == {"tinh", "huyen"}
    assert summary["data_dir"] == str(other.resolve() / "data")


def test_cli_publisher_database_url_overrides_and_hides_the_password(project):
    url = f"postgresql+psycopg://publisher:{PG_PASSWORD}@db.example:5432/publisher"
    env = {"PUBLISHER_DATABASE_URL": url}
    as_json = run_cli("config", "check", "--json", cwd=project, env=env)
    as_text = run_cli("config", "check", cwd=project, env=env)
    for result in (as_json, as_text):
        assert result.returncode == 0, result.stderr
        assert PG_PASSWORD not in result.stdout + result.stderr
    assert json.loads(as_json.stdout)["database"] == "postgresql+psycopg://publisher:***@db.example:5432/publisher"
    assert "publisher:***@db.example" in as_text.stdout


def test_cli_config_check_hides_a_password_given_as_query_parameter(project):
    url = f"postgresql+psycopg://publisher@db.example/publisher?password={PG_PASSWORD}"
    result = run_cli("config", "check", cwd=project, env={"PUBLISHER_DATABASE_URL": url})
    assert result.returncode == 0
    assert PG_PASSWORD not in result.stdout


def test_cli_bad_publisher_database_url(project):
    result = run_cli("config", "check", cwd=project, env={"PUBLISHER_DATABASE_URL": "khong phai url"})
    _one_line_error(result, "PUBLISHER_DATABASE_URL")
    assert "khong phai url" not in result.stderr


def test_cli_builtin_defaults_put_data_in_queue(tmp_path):
    empty = tmp_path / "trong"
    empty.mkdir()
    result = run_cli("config", "check", "--json", cwd=empty)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["config_file"] == i18n.t("config.builtin")
    assert summary["data_dir"] == str(empty.resolve() / "queue")
    assert list(empty.iterdir()) == []
    assert run_cli("db", "upgrade", cwd=empty).returncode == 0
    assert (empty / "queue" / "publisher.db").is_file()
