"""Small secrets at rest: AES-256-GCM under a key read from a key file (created 0600 if absent).

A sealed value is `version (1) | key id (4) | nonce (12) | ciphertext+tag`. The key id (the first
four bytes of the key's SHA-256) names the key that sealed it, so a later key rotation can tell
old values from new ones without trying every key. `associated_data` binds a value to its place
(a row id, a column name): a ciphertext copied onto another row does not open there.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
_HEADER = 1 + 4 + NONCE_BYTES


class SecretBoxError(ValueError):
    """A value that this key cannot open: tampered, truncated, or sealed under another key."""


def key_id_of(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:4]


def ensure_key_file(path: Path) -> bytes:
    """The key in `path` (base64 text, so it fits a Kubernetes Secret), made on first use.

    The file is created with mode 0600 in one step (never world-readable, even for a moment);
    when two processes start together, the one that loses the race reads the winner's key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as out:
            out.write(base64.b64encode(os.urandom(KEY_BYTES)).decode() + "\n")
    key = base64.b64decode(path.read_text().strip(), validate=True)
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} does not hold a {KEY_BYTES}-byte base64 key")
    return key


class SecretBox:
    """Seals and opens byte strings with one AES-GCM key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"an AES-256 key has {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self.key_id = key_id_of(key)

    @classmethod
    def from_key_file(cls, path: Path) -> SecretBox:
        return cls(ensure_key_file(path))

    def seal(self, plaintext: bytes, associated_data: bytes = b"") -> bytes:
        nonce = os.urandom(NONCE_BYTES)  # random 96-bit nonces: safe far beyond our volumes
        header = bytes([FORMAT_VERSION]) + self.key_id + nonce
        return header + self._aead.encrypt(nonce, plaintext, header + associated_data)

    def open(self, sealed: bytes, associated_data: bytes = b"") -> bytes:
        if len(sealed) < _HEADER + 16 or sealed[0] != FORMAT_VERSION:
            raise SecretBoxError("not a sealed value / 密文格式无效")
        if sealed[1:5] != self.key_id:
            raise SecretBoxError("sealed under another key / 密钥不匹配")
        header, body = sealed[:_HEADER], sealed[_HEADER:]
        try:
            return self._aead.decrypt(header[5:], body, header + associated_data)
        except InvalidTag as exc:
            raise SecretBoxError("sealed value was altered / 密文已被篡改") from exc
