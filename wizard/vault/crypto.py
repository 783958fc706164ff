"""The only place that encrypts or decrypts customer secrets.

AES-256-GCM with a random 96-bit nonce per value. The associated data names the record and field a
ciphertext belongs to, so a ciphertext copied onto another record or field fails to decrypt.
Keys are independent of SECRET_KEY: they come from PORTAL_VAULT_KEYS (``id:base64,id:base64``,
newest first) or, for development, from a key file generated on first use.
"""

import base64
import os
import secrets
import tempfile
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables

AAD_PREFIX = "portal-switch/vault/v1"
# Every stored secret names its key in StoredSecret.key_id, a column this wide: a longer id could not be
# written, and every save of credentials would fail.
KEY_ID_MAX_LENGTH = 32


class SecretUnavailable(Exception):
    """A stored secret cannot be read back (wrong or retired key, tampering). Never carries the value."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    active_id: str


def parse_keyring(spec: str) -> Keyring:
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id:
            raise ImproperlyConfigured("vault keys must look like 'id:base64key'")
        if len(key_id) > KEY_ID_MAX_LENGTH:
            # Not echoed: an id this long may well be a key pasted in the wrong place.
            raise ImproperlyConfigured(
                f"vault key ids must be at most {KEY_ID_MAX_LENGTH} characters; one has {len(key_id)}"
            )
        try:
            raw = base64.urlsafe_b64decode(encoded.encode())
        except ValueError:
            raise ImproperlyConfigured(f"vault key {key_id!r} is not valid base64") from None
        if len(raw) != 32:
            raise ImproperlyConfigured(f"vault key {key_id!r} must be 32 bytes (AES-256)")
        if key_id in keys:
            raise ImproperlyConfigured(f"vault key id {key_id!r} appears twice")
        keys[key_id] = raw
        order.append(key_id)
    if not keys:
        raise ImproperlyConfigured("no vault key configured")
    return Keyring(keys=keys, active_id=order[0])


def new_key_spec(key_id: str) -> str:
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}"


@cache
def keyring() -> Keyring:
    if settings.PORTAL_VAULT_KEYS:
        return parse_keyring(settings.PORTAL_VAULT_KEYS)
    path = settings.PORTAL_VAULT_KEY_FILE
    if not path.exists():
        _create_dev_key_file(path)
    return parse_keyring(path.read_text().strip())


def _create_dev_key_file(path) -> None:
    """Write a development key file whole, then link it into place: several workers starting at once
    all end up reading the one key that won, never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".vault-key-")  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(new_key_spec("dev1") + "\n")
        try:
            os.link(draft, path)  # fails if another worker's key is already in place
        except FileExistsError:
            pass
    finally:
        os.unlink(draft)


def associated_data(owner: str, field: str) -> bytes:
    return f"{AAD_PREFIX}|{owner}|{field}".encode()


@sensitive_variables()
def seal(plaintext: str, owner: str, field: str) -> Sealed:
    ring = keyring()
    nonce = secrets.token_bytes(12)
    ciphertext = AESGCM(ring.keys[ring.active_id]).encrypt(
        nonce, plaintext.encode(), associated_data(owner, field)
    )
    return Sealed(key_id=ring.active_id, nonce=nonce, ciphertext=ciphertext)


@sensitive_variables()
def unseal(sealed: Sealed, owner: str, field: str) -> str:
    key = keyring().keys.get(sealed.key_id)
    if key is None:
        raise SecretUnavailable(f"key {sealed.key_id!r} is not in the keyring")
    try:
        return AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, associated_data(owner, field)).decode()
    except InvalidTag:
        raise SecretUnavailable("stored secret failed its integrity check") from None
