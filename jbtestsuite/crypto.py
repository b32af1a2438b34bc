"""Secrets at rest: Fernet tokens (AES-128-CBC + HMAC-SHA256) under keys from the environment.

`SECRETS_ENCRYPTION_KEYS` lists one or more keys, newest first: new values are encrypted with
the first, and any listed key decrypts (cryptography's MultiFernet). To rotate: put a new key
first, run `manage.py secrets_rotate` (re-encrypts every stored secret with it), then drop the
old key. Staging and production must set the variable; development and testing derive a key
from SECRET_KEY so that nothing needs configuring on a laptop.
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models

# Every Fernet token starts with its version byte 0x80, which base64 spells "gAAAAA".
TOKEN_PREFIX = "gAAAAA"  # noqa: S105 - a format marker, not a secret


class SecretUnreadable(Exception):
    """A stored secret that none of the configured keys decrypts (a key dropped too early?)."""


def key_valid(key: str) -> bool:
    try:
        Fernet(key)
    except (ValueError, TypeError):
        return False
    return True


@functools.cache
def _keys() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.SECRETS_ENCRYPTION_KEYS])


def _settings_changed(*, setting, **kwargs):
    if setting in ("SECRETS_ENCRYPTION_KEYS", "SECRET_KEY"):
        _keys.cache_clear()


setting_changed.connect(_settings_changed)


def encrypt(text: str) -> str:
    return _keys().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """Raises SecretUnreadable (naming no value) when no configured key fits."""
    try:
        return _keys().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted with SECRETS_ENCRYPTION_KEYS: was a key removed before "
            "`manage.py secrets_rotate` ran?"
        ) from None


def is_token(text: str) -> bool:
    """True when the text is a token one of the configured keys decrypts (not merely looks like one)."""
    if not text.startswith(TOKEN_PREFIX):
        return False
    try:
        _keys().decrypt(text.encode())
    except InvalidToken:
        return False
    return True


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) stored encrypted, found through the app registry."""
    from django.apps import apps

    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token, read back as the text. An empty value stays empty.

    Equality lookups cannot work on it (each encryption is different); nothing filters by it.
    """

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)
