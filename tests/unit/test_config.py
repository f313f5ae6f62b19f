from pathlib import Path

import pytest

from proxy.config import SettingsError, load_settings


def test_defaults_then_yaml_then_env_then_flags(tmp_path: Path):
    config = tmp_path / "proxy.yaml"
    config.write_text("port: 9000\nupstream: http://yaml.example\nlog_level: debug\n")
    settings = load_settings(
        flags={"port": "9100"},
        environ={"KLP_UPSTREAM": "http://env.example:8081", "KLP_UPSTREAM_CONCURRENCY": "4"},
        config_file=config,
    )
    assert settings.port == 9100
    assert settings.upstream == "http://env.example:8081"
    assert settings.log_level == "debug"
    assert settings.upstream_concurrency == 4
    assert settings.host == "127.0.0.1"


def test_allowed_keys_and_private_key_from_environment():
    key = "pk_" + "a" * 34
    settings = load_settings(environ={"KLP_PRIVATE_KEY": key, "KLP_PRIVATE_KEY_MODE": "always", "KLP_ALLOWED_KEYS": "pk_x, pk_y"})
    assert settings.private_key == key
    assert settings.allowed_keys == frozenset({"pk_x", "pk_y"})
    assert key not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"KLP_PORT": "eighty"}, "KLP_PORT='eighty': must be a number"),
        ({"KLP_PORT": "70000"}, "must be a port number"),
        ({"KLP_UPSTREAM": "ftp://x"}, "KLP_UPSTREAM='ftp://x': must be an http(s) base URL"),
        ({"KLP_UPSTREAM": "https://a.klaviyo.com/api"}, "with no path"),
        ({"KLP_LOG_FORMAT": "xml"}, "must be one of json, console"),
        ({"KLP_REQUEST_TIMEOUT": "-1"}, "positive number"),
        ({"KLP_PRIVATE_KEY": "secret"}, "KLP_PRIVATE_KEY=<hidden>: must be a Klaviyo private key"),
        ({"KLP_PRIVATE_KEY_MODE": "always"}, "needs private_key"),
    ],
)
def test_invalid_settings_stop_with_one_clear_line(environ, message):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=environ)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "secret" not in str(caught.value)


def test_unknown_yaml_setting_is_named(tmp_path: Path):
    config = tmp_path / "proxy.yaml"
    config.write_text("prot: 9000\n")
    with pytest.raises(SettingsError, match="unknown setting prot"):
        load_settings(environ={}, config_file=config)


def test_sandbox_mode_keeps_state_in_memory_unless_told(tmp_path: Path):
    """The sandbox is rebuilt at every start: a state file would answer from the last world."""
    assert load_settings(flags={"sandbox": True}, environ={}).state_path is None
    assert load_settings(environ={}).state_path == Path("klaviyo-legacy-proxy-state.sqlite3")
    told = load_settings(flags={"sandbox": True}, environ={"KLP_STATE_PATH": str(tmp_path / "s.sqlite3")})
    assert told.state_path == tmp_path / "s.sqlite3"
