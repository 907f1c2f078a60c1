"""Personal data at rest: a keyring of AES-256-GCM keys that rotate, and keyed blind indexes.

A service that keeps personal data (a contact's mobile, WeChat id, email) stores each value sealed
(`crmkit.secretbox` format: the key id travels with the value) and, where it must find or
deduplicate by a value, an HMAC of it: the blind index. Only the holder of the keys can open a
value or compute the index of a candidate, so a copy of the database (or its backups, WAL,
replicas) reveals neither.

The keyring is a text file, mode 0600, one key per line (base64 of 32 random bytes):

    index <key>   the blind-index key; it never rotates (a new one means re-indexing everything)
    seal  <key>   the key new values are sealed with; exactly one
    open  <key>   older keys, kept to open values sealed before a rotation

Rotation never breaks a read: (1) `add` a key as `open` and roll it out, so every replica can open
what it will seal; (2) `promote` it to `seal` and roll out; (3) run the service's reseal command,
which re-seals old values in batches; (4) `retire` the old key once nothing is sealed with it.
`python -m crmkit.pii init|show|add|promote|retire FILE [KEY_ID]` edits the file.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from crmkit.secretbox import KEY_BYTES, SecretBox, SecretBoxError

ROLES = ("index", "seal", "open")


class KeyringError(ValueError):
    """A keyring file that is missing, malformed or cannot do what was asked."""


def _fresh_key() -> bytes:
    return os.urandom(KEY_BYTES)


class Keyring:
    """The index key, the sealing key and the keys kept only to open older values."""

    def __init__(self, index_key: bytes, sealing_key: bytes, opening_keys: Sequence[bytes] = ()) -> None:
        for key in (index_key, sealing_key, *opening_keys):
            if len(key) != KEY_BYTES:
                raise KeyringError(f"every key is {KEY_BYTES} bytes of base64 / 密钥长度应为{KEY_BYTES}字节")
        self.index_key = index_key
        self.sealing_key = sealing_key
        self.opening_keys = tuple(opening_keys)
        self._sealing = SecretBox(sealing_key)
        self._boxes = {box.key_id: box for box in (*map(SecretBox, self.opening_keys), self._sealing)}

    # ------------------------------------------------------------------ values

    @property
    def key_id(self) -> str:
        """The sealing key's id (hex), as stored next to what it sealed."""
        return self._sealing.key_id.hex()

    def seal(self, value: str, context: str) -> bytes:
        """`value` sealed under the current key, bound to `context` (e.g. "contacts/<id>/mobile"):
        a sealed value copied to another row or column does not open there."""
        return self._sealing.seal(value.encode(), context.encode())

    def open(self, sealed: bytes, context: str) -> str:
        """The value, with whichever key of the ring sealed it (`SecretBoxError` if none did)."""
        box = self._boxes.get(bytes(sealed[1:5]))
        if box is None:
            raise SecretBoxError("sealed under a key this keyring does not hold / 缺少解密所需的密钥")
        return box.open(bytes(sealed), context.encode()).decode()

    def is_current(self, sealed: bytes) -> bool:
        return bytes(sealed[1:5]) == self._sealing.key_id

    def blind_index(self, purpose: str, *parts: str, length: int = 16) -> bytes:
        """HMAC-SHA256 of the parts under the index key, cut to `length` bytes. `purpose` keeps
        the indexes of different fields apart (one mobile's dedupe index is not its search term)."""
        message = "\x00".join((purpose, *parts)).encode()
        return hmac.new(self.index_key, message, hashlib.sha256).digest()[:length]

    # ------------------------------------------------------------------ the file

    @classmethod
    def parse(cls, text: str, source: str = "keyring") -> Keyring:
        keys: dict[str, list[bytes]] = {role: [] for role in ROLES}
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            role, _, encoded = line.partition(" ")
            if role not in ROLES:
                raise KeyringError(f"{source}:{number}: the role is one of {', '.join(ROLES)}, not {role!r}")
            try:
                keys[role].append(base64.b64decode(encoded.strip(), validate=True))
            except ValueError as exc:
                raise KeyringError(f"{source}:{number}: the key is not base64") from exc
        if len(keys["index"]) != 1 or len(keys["seal"]) != 1:
            raise KeyringError(f"{source}: a keyring has exactly one index key and one seal key")
        return cls(keys["index"][0], keys["seal"][0], tuple(keys["open"]))

    def to_text(self) -> str:
        lines = [
            "# Keyuan personal-data keys (crmkit.pii): keep secret, back up apart from the database.",
            *(f"{role} {base64.b64encode(key).decode()}" for role, key in self._entries()),
        ]
        return "\n".join(lines) + "\n"

    def _entries(self) -> list[tuple[str, bytes]]:
        return [("index", self.index_key), ("seal", self.sealing_key), *(("open", k) for k in self.opening_keys)]

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        try:
            text = path.read_text()
        except FileNotFoundError as exc:
            raise KeyringError(
                f"personal-data keyring {path} not found; create it with `python -m crmkit.pii init {path}` "
                f"/ 未找到个人信息密钥文件"
            ) from exc
        return cls.parse(text, str(path))

    @classmethod
    def generate(cls) -> Keyring:
        return cls(_fresh_key(), _fresh_key())

    def describe(self) -> list[str]:
        """Each key's role and id: what an operator may see (never the key)."""
        return [f"{role:5} {SecretBox(key).key_id.hex()}" for role, key in self._entries() if role != "index"]

    # ------------------------------------------------------------------ rotation steps

    def _key(self, key_id: str) -> bytes:
        for key in self.opening_keys:
            if SecretBox(key).key_id.hex() == key_id:
                return key
        raise KeyringError(f"no open key {key_id!r} in this keyring / 密钥不存在")

    def with_new_key(self) -> Keyring:
        return Keyring(self.index_key, self.sealing_key, (*self.opening_keys, _fresh_key()))

    def promoted(self, key_id: str) -> Keyring:
        key = self._key(key_id)
        others = tuple(k for k in self.opening_keys if k != key)
        return Keyring(self.index_key, key, (self.sealing_key, *others))

    def retired(self, key_id: str) -> Keyring:
        key = self._key(key_id)
        return Keyring(self.index_key, self.sealing_key, tuple(k for k in self.opening_keys if k != key))


def write_keyring(path: Path, keyring: Keyring, *, create: bool = False) -> None:
    """Write the file with mode 0600 from the first byte; replace it atomically unless `create`
    (then an existing file is an error: a second `init` must not orphan sealed data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path if create else path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyringError(f"{target} already exists / 密钥文件已存在") from exc
    with os.fdopen(descriptor, "w") as out:
        out.write(keyring.to_text())
    if not create:
        os.replace(target, path)


def ensure_keyring(path: Path) -> Keyring:
    """The keyring in `path`, created on first use: for `make run` and tests only. A deployment
    must never make a fresh keyring where one is missing (the data sealed under the lost one
    would be unreadable), so the services themselves only ever read the file."""
    with contextlib.suppress(KeyringError):
        write_keyring(path, Keyring.generate(), create=True)
    return Keyring.from_file(path)


USAGE = """usage: python -m crmkit.pii COMMAND FILE [KEY_ID]
  init FILE             a new keyring (index and seal keys)
  show FILE             the keys' roles and ids
  add FILE              a new key, only to open with (roll it out first)
  promote FILE KEY_ID   seal with that key from now on; the old one stays, to open with
  retire FILE KEY_ID    drop an open key once the reseal command found nothing sealed with it"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    command, path = args[0], Path(args[1])
    try:
        if command == "init" and len(args) == 2:
            write_keyring(path, Keyring.generate(), create=True)
        elif command == "add" and len(args) == 2:
            write_keyring(path, Keyring.from_file(path).with_new_key())
        elif command == "promote" and len(args) == 3:
            write_keyring(path, Keyring.from_file(path).promoted(args[2]))
        elif command == "retire" and len(args) == 3:
            write_keyring(path, Keyring.from_file(path).retired(args[2]))
        elif command != "show" or len(args) != 2:
            print(USAGE, file=sys.stderr)
            return 2
        print("\n".join(Keyring.from_file(path).describe()))
    except KeyringError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
