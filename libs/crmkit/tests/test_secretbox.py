"""Sealed secrets open only with their key and their place; the key file is private from birth."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from crmkit.secretbox import SecretBox, SecretBoxError, ensure_key_file


def test_a_sealed_value_opens_to_the_plaintext_and_does_not_contain_it(tmp_path: Path) -> None:
    box = SecretBox.from_key_file(tmp_path / "keys" / "secrets.key")

    sealed = box.seal(b"JBSWY3DPEHPK3PXP", b"user-1")

    assert b"JBSWY3DPEHPK3PXP" not in sealed
    assert box.open(sealed, b"user-1") == b"JBSWY3DPEHPK3PXP"
    # A fresh nonce each time: the same secret never seals to the same bytes.
    assert box.seal(b"JBSWY3DPEHPK3PXP", b"user-1") != sealed


def test_the_key_file_is_created_mode_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "secrets.key"

    first = ensure_key_file(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_key_file(path) == first
    sealed = SecretBox(first).seal(b"x")
    assert SecretBox.from_key_file(path).open(sealed) == b"x"


@pytest.mark.parametrize("damage", ["flip a byte", "other place", "other key", "truncated"])
def test_a_damaged_or_misplaced_value_does_not_open(tmp_path: Path, damage: str) -> None:
    box = SecretBox.from_key_file(tmp_path / "a.key")
    sealed = box.seal(b"secret", b"user-1")
    place = b"user-1"
    if damage == "flip a byte":
        sealed = sealed[:-1] + bytes([sealed[-1] ^ 1])
    elif damage == "other place":
        place = b"user-2"
    elif damage == "other key":
        box = SecretBox.from_key_file(tmp_path / "b.key")
    else:
        sealed = sealed[:20]

    with pytest.raises(SecretBoxError):
        box.open(sealed, place)
