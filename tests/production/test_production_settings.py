"""The write-path settings: parsed once, one-line errors, secrets never shown."""

import pytest

from proxy.config import SettingsError, load_settings

KEY = "pk_" + "a" * 34


def test_defaults_keep_the_synchronous_path():
    settings = load_settings(environ={})
    assert (settings.delivery, settings.redis_url, settings.retry_budget, settings.governor_max_wait) == ("sync", None, 2.0, 5.0)


def test_token_keys_from_the_environment_and_never_shown():
    settings = load_settings(environ={"KLP_TOKEN_KEYS": f"ShopA={KEY}, ShopB={KEY}", "KLP_REDIS_URL": "redis://:secret@redis:6379/0"})
    assert dict(settings.token_keys) == {"ShopA": KEY, "ShopB": KEY}
    assert KEY not in repr(settings) and "secret" not in repr(settings)


def test_the_conventional_redis_url_is_read_unless_ours_is_set():
    assert load_settings(environ={"REDIS_URL": "redis://a:6379/0"}).redis_url == "redis://a:6379/0"
    both = {"REDIS_URL": "redis://a:6379/0", "KLP_REDIS_URL": "redis://b:6379/0"}
    assert load_settings(environ=both).redis_url == "redis://b:6379/0"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"KLP_DELIVERY": "later"}, "environment: setting KLP_DELIVERY='later': must be one of sync, spool"),
        ({"KLP_TOKEN_KEYS": "ShopA=sk_nope"}, "environment: setting KLP_TOKEN_KEYS=<hidden>: must map public tokens to private keys, e.g. Token=pk_…"),
        ({"KLP_REDIS_URL": "http://:pw@redis"}, "environment: setting KLP_REDIS_URL=<hidden>: must be a redis://, rediss:// or unix:// URL"),
        ({"KLP_RETRY_BUDGET": "-1"}, "environment: setting KLP_RETRY_BUDGET='-1': must be a number of seconds, 0 or more"),
        ({"KLP_SPOOL_PATH": "/no/such/dir/spool.sqlite3"}, "environment: setting KLP_SPOOL_PATH='/no/such/dir/spool.sqlite3': must be a file in an existing directory"),
        ({"KLP_WORKERS": "2", "KLP_DELIVERY": "spool"}, "setting delivery=spool with workers>1 needs redis_url: one SQLite spool serves one process"),
    ],
)
def test_bad_values_stop_start_up_with_one_line(environ, message):
    with pytest.raises(SettingsError) as raised:
        load_settings(environ=environ)
    assert str(raised.value) == message
