"""The personal-data keyring: sealing bound to a place, rotation that never breaks a read, the key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from crmkit.pii import Keyring, KeyringError, ensure_keyring, main, write_keyring
from crmkit.secretbox import SecretBoxError


def test_a_sealed_value_opens_only_in_the_place_it_was_sealed_for() -> None:
    keyring = Keyring.generate()
    sealed = keyring.seal("13905711234", "contacts/a/mobile")

    assert b"13905711234" not in sealed
    assert keyring.open(sealed, "contacts/a/mobile") == "13905711234"
    with pytest.raises(SecretBoxError):
        keyring.open(sealed, "contacts/b/mobile")
    with pytest.raises(SecretBoxError):
        keyring.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), "contacts/a/mobile")


def test_sealing_twice_gives_different_bytes_but_the_blind_index_is_stable() -> None:
    keyring = Keyring.generate()
    assert keyring.seal("x", "c") != keyring.seal("x", "c")
    assert keyring.blind_index("mobile", "t1", "13905711234") == keyring.blind_index("mobile", "t1", "13905711234")
    assert keyring.blind_index("mobile", "t1", "13905711234") != keyring.blind_index("mobile", "t2", "13905711234")
    assert keyring.blind_index("mobile", "t1", "13905711234") != keyring.blind_index("wechat", "t1", "13905711234")
    assert Keyring.generate().blind_index("mobile", "t1", "1") != keyring.blind_index("mobile", "t1", "1")


def test_a_value_sealed_before_a_rotation_still_opens_and_is_known_to_be_old() -> None:
    before = Keyring.generate()
    old_value = before.seal("wx_zhang88", "contacts/a/wechat_id")
    added = before.with_new_key()
    new_id = added.describe()[-1].split()[-1]
    rotated = added.promoted(new_id)

    assert rotated.key_id == new_id != before.key_id
    assert rotated.open(old_value, "contacts/a/wechat_id") == "wx_zhang88"
    assert not rotated.is_current(old_value)
    assert rotated.is_current(rotated.seal("wx_zhang88", "contacts/a/wechat_id"))
    # The blind index survives rotation: duplicates and search keep working.
    assert rotated.blind_index("m", "t", "v") == before.blind_index("m", "t", "v")
    # Once retired, the old key opens nothing.
    with pytest.raises(SecretBoxError):
        rotated.retired(before.key_id).open(old_value, "contacts/a/wechat_id")


def test_the_key_file_is_created_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "customer-personal-data.keys"
    first = ensure_keyring(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_keyring(path).key_id == first.key_id
    with pytest.raises(KeyringError):
        write_keyring(path, Keyring.generate(), create=True)
    assert Keyring.from_file(path).key_id == first.key_id


def test_a_malformed_or_missing_key_file_is_refused_with_its_reason(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match=r"python -m crmkit\.pii init"):
        Keyring.from_file(tmp_path / "absent.keys")
    good = Keyring.generate().to_text()
    with pytest.raises(KeyringError, match="exactly one index key and one seal key"):
        Keyring.parse("\n".join(line for line in good.splitlines() if not line.startswith("seal")))
    with pytest.raises(KeyringError, match="role"):
        Keyring.parse(good + "master AAAA\n")
    with pytest.raises(KeyringError, match="base64"):
        Keyring.parse(good.replace("seal ", "seal !"))
    with pytest.raises(KeyringError, match="32 bytes"):
        Keyring.parse(good + "open AAAA\n")


def test_the_rotation_commands_add_promote_and_retire_a_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "personal-data.keys"
    assert main(["init", str(path)]) == 0
    first = Keyring.from_file(path).key_id
    assert main(["init", str(path)]) == 1

    assert main(["add", str(path)]) == 0
    added = [line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("open")]
    assert len(added) == 1 and Keyring.from_file(path).key_id == first

    assert main(["promote", str(path), added[0]]) == 0
    assert Keyring.from_file(path).key_id == added[0]
    assert main(["retire", str(path), first]) == 0
    assert Keyring.from_file(path).describe() == [f"seal  {added[0]}"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert main(["retire", str(path), "deadbeef"]) == 1
    out = capsys.readouterr()
    assert "base64" not in out.out and Keyring.from_file(path).to_text().split()[-1] not in out.out
