"""The secrets vault: authenticated encryption bound to its record, fail-closed reads, rotation, expiry."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from wizard.vault import crypto, store
from wizard.vault.models import StoredSecret

from .conftest import all_at_once, dump_database, keep_secret

pytestmark = pytest.mark.django_db

CANARY = "canary-Q7b2xV9kLp3N=="


def read(owner: str, field: str) -> str | None:
    return store.read_secrets(owner, [field]).get(field)


def test_a_secret_is_stored_only_as_ciphertext_and_reads_back(vault_keys):
    keep_secret("setup:1", "api_key", CANARY)
    assert CANARY not in dump_database() and CANARY.encode().hex() not in dump_database()
    row = StoredSecret.objects.get()
    assert row.key_id == "k1" and len(bytes(row.nonce)) == 12
    assert read("setup:1", "api_key") == CANARY


def test_the_same_value_encrypts_differently_each_time(vault_keys):
    keep_secret("setup:1", "api_key", CANARY)
    keep_secret("setup:2", "api_key", CANARY)
    first, second = StoredSecret.objects.order_by("owner")
    assert bytes(first.nonce) != bytes(second.nonce) and bytes(first.ciphertext) != bytes(second.ciphertext)


def test_storing_again_replaces_the_value_and_renews_its_expiry(vault_keys):
    keep_secret("setup:1", "api_key", CANARY, ttl=timedelta(minutes=1))
    first_expiry = store.expiry_of("setup:1")
    keep_secret("setup:1", "api_key", "second-value-00000000==", ttl=timedelta(minutes=30))
    assert StoredSecret.objects.count() == 1
    assert read("setup:1", "api_key") == "second-value-00000000=="
    assert store.expiry_of("setup:1") > first_expiry + timedelta(minutes=28)


def test_a_ciphertext_moved_to_another_record_or_field_fails_closed(vault_keys):
    keep_secret("setup:1", "api_key", CANARY)
    keep_secret("setup:2", "api_key", "other-value-0000000000==")
    source = StoredSecret.objects.get(owner="setup:1")
    StoredSecret.objects.filter(owner="setup:2").update(nonce=source.nonce, ciphertext=source.ciphertext)
    with pytest.raises(store.SecretUnavailable):
        read("setup:2", "api_key")
    StoredSecret.objects.filter(owner="setup:1").update(field="password")
    with pytest.raises(store.SecretUnavailable):
        read("setup:1", "password")


def test_a_flipped_byte_fails_closed_and_never_returns_the_ciphertext(vault_keys):
    keep_secret("setup:1", "api_key", CANARY)
    row = StoredSecret.objects.get()
    tampered = bytearray(bytes(row.ciphertext))
    tampered[0] ^= 1
    StoredSecret.objects.filter(pk=row.pk).update(ciphertext=bytes(tampered))
    with pytest.raises(store.SecretUnavailable) as caught:
        read("setup:1", "api_key")
    assert CANARY not in str(caught.value)


def test_a_retired_key_fails_closed(vault_keys):
    keep_secret("setup:1", "api_key", CANARY)
    vault_keys(crypto.new_key_spec("k2"))
    with pytest.raises(store.SecretUnavailable):
        read("setup:1", "api_key")


def test_rotation_re_encrypts_everything_under_the_newest_key(vault_keys, settings):
    for n in range(5):
        keep_secret(f"setup:{n}", "api_key", f"{CANARY}{n}")
    old = settings.PORTAL_VAULT_KEYS
    new = crypto.new_key_spec("k2")
    vault_keys(f"{new},{old}")
    call_command("rotate_keys")
    assert set(StoredSecret.objects.values_list("key_id", flat=True)) == {"k2"}
    vault_keys(new)  # the old key is retired
    assert [read(f"setup:{n}", "api_key") for n in range(5)] == [f"{CANARY}{n}" for n in range(5)]
    assert store.rotate_keys() == (0, 0)  # a second run changes nothing


def test_rotation_reports_secrets_no_key_can_read(vault_keys):
    keep_secret("setup:1", "api_key", CANARY)
    vault_keys(f"{crypto.new_key_spec('k3')},{crypto.new_key_spec('k4')}")
    with pytest.raises(CommandError, match="1 secrets could not be decrypted"):
        call_command("rotate_keys")


def test_changing_secret_key_does_not_touch_the_vault(vault_keys, settings):
    keep_secret("setup:1", "api_key", CANARY)
    settings.SECRET_KEY = "a-completely-different-django-secret-key-0123456789"
    crypto.keyring.cache_clear()  # the keyring read afresh, as a process started with the new key would
    assert read("setup:1", "api_key") == CANARY


def test_expired_secrets_are_never_read_and_the_purge_deletes_them(vault_keys):
    keep_secret("setup:1", "api_key", CANARY, ttl=timedelta(minutes=30))
    keep_secret("setup:2", "api_key", CANARY, ttl=timedelta(minutes=30))
    StoredSecret.objects.filter(owner="setup:1").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert read("setup:1", "api_key") is None
    assert store.expiry_of("setup:1") is None
    call_command("purge_expired")
    assert list(StoredSecret.objects.values_list("owner", flat=True)) == ["setup:2"]


def test_forget_deletes_at_once(vault_keys):
    keep_secret("setup:1", "api_key", CANARY)
    keep_secret("setup:1", "password", CANARY)
    assert store.forget("setup:1") == 2
    assert not StoredSecret.objects.exists()


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("", "no vault key"),
        ("k1", "id:base64key"),
        ("k1:not base64!", "base64"),
        ("k1:" + "QUJD", "32 bytes"),
        (f"{crypto.new_key_spec('a')},{crypto.new_key_spec('a')}", "twice"),
        (crypto.new_key_spec("k" * 33), "at most 32 characters; one has 33"),
    ],
)
def test_bad_key_configuration_fails_loudly(spec, problem):
    with pytest.raises(ImproperlyConfigured, match=problem):
        crypto.parse_keyring(spec)


def test_a_keyring_the_vault_cannot_read_fails_the_servers_check_before_any_save(settings):
    settings.PORTAL_VAULT_KEYS = "k1:not base64!"
    with pytest.raises(SystemCheckError, match=r"vault\.E001.*'k1' is not valid base64"):
        call_command("check")
    settings.PORTAL_VAULT_KEYS = crypto.new_key_spec("k1")
    call_command("check")


def test_a_new_key_entry_is_printed_only_for_an_id_the_keyring_takes(capsys):
    call_command("rotate_keys", new_key="k2")
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("k2:") and crypto.parse_keyring(printed).active_id == "k2"
    with pytest.raises(CommandError, match="at most 32 characters; one has 33"):
        call_command("rotate_keys", new_key="k" * 33)
    for separated in ["k:2", "k,2", " k2"]:
        with pytest.raises(CommandError, match="no ':' or ',' in it and no spaces around it"):
            call_command("rotate_keys", new_key=separated)
    assert capsys.readouterr().out == ""


def test_a_key_id_as_long_as_the_stored_column_allows_seals_and_reads_back(vault_keys):
    vault_keys(crypto.new_key_spec("k" * 32))
    keep_secret("setup:1", "api_key", CANARY)
    assert StoredSecret.objects.get().key_id == "k" * 32
    assert read("setup:1", "api_key") == CANARY


def test_the_stored_row_never_prints_its_value(vault_keys):
    keep_secret("setup:1", "api_key", CANARY)
    assert CANARY not in str(StoredSecret.objects.get())


def test_forget_deletes_only_that_owners_secrets(vault_keys):
    keep_secret("setup:1", "api_key", CANARY)
    keep_secret("setup:2", "password", CANARY)
    assert store.forget("setup:1") == 1
    assert store.forget("setup:1") == 0
    assert list(StoredSecret.objects.values_list("owner", "field")) == [("setup:2", "password")]


def test_saved_credentials_stand_or_fall_with_their_setup(vault_keys):
    """The secrets and the setup's facts about them are written in one transaction."""
    from django.db import DatabaseError

    from wizard.flow import services
    from wizard.flow.models import Setup

    setup = services.start_setup(None, "en")
    setup.signature = "platform_rest"
    Setup.objects.filter(pk=setup.pk).delete()  # gone between reading it and saving (say, purged)
    with pytest.raises(DatabaseError):
        services.save_credentials(setup, {"api_key": CANARY})
    assert not StoredSecret.objects.filter(owner=setup.vault_owner).exists()


def test_a_customer_saving_during_a_rotation_keeps_what_they_saved(vault_keys, settings):
    keep_secret("setup:1", "api_key", CANARY)
    old = settings.PORTAL_VAULT_KEYS
    read_by_rotation = StoredSecret.objects.get()  # the rotation has read this row...
    keep_secret("setup:1", "api_key", "saved-meanwhile-0000000==")  # ...a server still on the old key saves
    vault_keys(f"{crypto.new_key_spec('k2')},{old}")
    assert store.rotate(read_by_rotation) == store.CHANGED_MEANWHILE
    assert read("setup:1", "api_key") == "saved-meanwhile-0000000=="
    assert store.rotate_keys() == (1, 0)  # the next run takes the new value to the new key
    assert read("setup:1", "api_key") == "saved-meanwhile-0000000=="
    assert StoredSecret.objects.get().key_id == "k2"


def test_workers_starting_together_share_one_development_key(settings, tmp_path):
    # Without PORTAL_VAULT_KEYS the first worker to need a key writes one; the others, starting in the
    # same instant, must read that whole key, never an empty or half-written file.
    settings.PORTAL_VAULT_KEYS = ""
    settings.PORTAL_VAULT_KEY_FILE = tmp_path / "vault" / "dev.key"
    crypto.keyring.cache_clear()
    results = all_at_once(crypto.keyring, [()] * 8)
    rings = [result for result in results if isinstance(result, crypto.Keyring)]
    errors = [result for result in results if isinstance(result, Exception)]
    crypto.keyring.cache_clear()
    assert errors == []
    assert len({ring.keys[ring.active_id] for ring in rings}) == 1
    assert settings.PORTAL_VAULT_KEY_FILE.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in settings.PORTAL_VAULT_KEY_FILE.parent.iterdir()] == ["dev.key"]
