"""Sealing values: AES-256-GCM bound to associated data, keys derived with HKDF, the ``Keyring``.

May import: errors / cryptography, stdlib.

The mechanics behind ``crypto`` (which adds key files and the process's
keyring): a value is sealed as ``0x01 | key id (8) | nonce (12) |
ciphertext+tag`` with a fresh random 96-bit nonce; the header and the caller's
associated data are authenticated, so a value moved to another row fails to
open. ``bind(...)`` builds that data from everything that identifies a stored
value (assessment, revision, field, result key: schema 4); ``aad(assessment,
field)`` is the older binding without the revision, kept only so the schema-4
upgrade can open values sealed under it. From each 32-byte key HKDF-SHA256 derives, with
separate ``info`` strings, the AES key, the audit HMAC key and the key id; a
retired key keeps only its audit key, from which the others cannot be computed.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import StoreError

__all__ = ["FORMAT", "HEADER", "KEY_BYTES", "KID_BYTES", "NONCE_BYTES", "Keyring", "aad", "bind", "new_key"]

FORMAT = b"\x01"
KEY_BYTES = 32
KID_BYTES = 8
NONCE_BYTES = 12
HEADER = len(FORMAT) + KID_BYTES
_INFO_AEAD = b"screening/aes-256-gcm/v1"
_INFO_AUDIT = b"screening/audit-hmac-sha256/v1"
_INFO_KID = b"screening/key-id/v1"

_FILE_HEADER = (
    "# screening key file: keep it secret and owner-only (0600); never put it in a repository,\n"
    "# next to the case store or in a backup of the store. Without it the store cannot be read.\n"
)


def _derive(key: bytes, info: bytes, length: int = KEY_BYTES) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(key)


def new_key() -> bytes:
    """32 random bytes from the OS."""
    return os.urandom(KEY_BYTES)


def aad(assessment_id: str, field: str) -> bytes:
    """The schema-1-to-3 associated data: assessment and field only (length-prefixed, unambiguous).

    It lets revision 1's ciphertext open in revision 2's row (a rollback of a
    correction without the key), which is why schema 4 re-seals every value under
    ``bind``; nothing seals under this any more.
    """
    a, f = assessment_id.encode("utf-8"), field.encode("utf-8")
    return b"screening-field/v1|%d:%b|%d:%b" % (len(a), a, len(f), f)


def bind(*parts: str) -> bytes:
    """The associated data binding a value to every part of its identity, in order (length-prefixed).

    The store passes (assessment, revision, field, and for a derived row the
    instrument hash, rules hash and engine version): a value copied to any other
    row, revision or result key fails to open.
    """
    if len(parts) == 3:  # (assessment, revision, field): once per answer a re-score reads, so spelled out
        a, r, f = parts[0].encode("utf-8"), parts[1].encode("utf-8"), parts[2].encode("utf-8")
        return b"screening-value/v2|%d:%b|%d:%b|%d:%b" % (len(a), a, len(r), r, len(f), f)
    out = [b"screening-value/v2"]
    for part in parts:
        data = part.encode("utf-8")
        out.append(b"%d:%b" % (len(data), data))
    return b"|".join(out)


@dataclass(frozen=True)
class _Key:
    kid: bytes
    aead: AESGCM | None  # None: retired, audit verification only
    audit: bytes
    raw: bytes | None  # kept only to write the key file back during a rotation


def _key(raw: bytes) -> _Key:
    return _Key(_derive(raw, _INFO_KID, KID_BYTES), AESGCM(_derive(raw, _INFO_AEAD)), _derive(raw, _INFO_AUDIT), raw)


class Keyring:
    """The current key plus any older ones; seals and opens stored values.

    Build one with ``Keyring.from_key(raw)`` (tests, embedding), ``load_key_file``
    or ``default_keyring()``. ``source`` says where it came from, for messages.
    """

    def __init__(
        self,
        current: bytes,
        old: Iterable[bytes] = (),
        retired: Mapping[bytes, bytes] | None = None,
        *,
        source: str = "<memory>",
        path: Path | None = None,
        stores: Mapping[bytes, str] | None = None,
    ) -> None:
        if len(current) != KEY_BYTES or any(len(k) != KEY_BYTES for k in old):
            raise StoreError("a key is 32 bytes")
        self.source = source
        self.path = path
        # The stores sealed with this key (store id → where it was last opened): a
        # rotation must re-encrypt every one of them, or those left out can no longer
        # be read once the old key is retired.
        self.stores: dict[bytes, str] = dict(stores or {})
        self._current = _key(current)
        self._keys: dict[bytes, _Key] = {}
        for kid, audit_key in (retired or {}).items():
            self._keys[kid] = _Key(kid, None, audit_key, None)
        for raw in old:
            k = _key(raw)
            self._keys[k.kid] = k
        self._keys[self._current.kid] = self._current

    @classmethod
    def from_key(cls, raw: bytes, *, source: str = "<memory>") -> Keyring:
        return cls(raw, source=source)

    # ------------------------------------------------------------------ facts

    @property
    def current_kid(self) -> bytes:
        return self._current.kid

    @property
    def old_kids(self) -> tuple[bytes, ...]:
        """Keys that still open values but no longer seal them (a rotation in progress)."""
        return tuple(k.kid for k in self._keys.values() if k.aead is not None and k.kid != self._current.kid)

    @property
    def retired_kids(self) -> tuple[bytes, ...]:
        return tuple(k.kid for k in self._keys.values() if k.aead is None)

    def can_open(self, kid: bytes) -> bool:
        key = self._keys.get(kid)
        return key is not None and key.aead is not None

    def audit_key(self, kid: bytes | None = None) -> bytes | None:
        """The audit HMAC key of ``kid`` (default: the current key); ``None`` if unknown."""
        key = self._keys.get(self._current.kid if kid is None else kid)
        return None if key is None else key.audit

    # ------------------------------------------------------------------ values

    def seal(self, plaintext: bytes, associated: bytes) -> bytes:
        """Encrypt under the current key with a fresh random nonce."""
        key = self._current
        header = FORMAT + key.kid
        nonce = os.urandom(NONCE_BYTES)
        assert key.aead is not None
        return header + nonce + key.aead.encrypt(nonce, plaintext, header + associated)

    def open(self, blob: bytes, associated: bytes, field: str | None = None) -> bytes:
        """Decrypt and authenticate; every failure is a ``StoreError`` that names no content.

        ``field`` only names the value in an error message (built on failure only:
        this runs once per stored answer when re-scoring).

        Raises:
            StoreError: not our format, a key this keyring does not have, or a value
                that was altered or moved from another row.
        """
        key = self._keys.get(blob[1:HEADER])
        if key is None or key.aead is None or len(blob) < HEADER + NONCE_BYTES + 16 or blob[:1] != FORMAT:
            raise self._refusal(blob, field)
        try:
            return key.aead.decrypt(blob[HEADER : HEADER + NONCE_BYTES], blob[HEADER + NONCE_BYTES :],
                                    blob[:HEADER] + associated)
        except InvalidTag:
            what = f"the stored {field}" if field else "a stored value"
            raise StoreError(f"{what} failed authentication: it was altered, or moved from another row or revision "
                             "(tampering detected); it is not used") from None

    def opener(self) -> Callable[[bytes, bytes], bytes | None]:
        """``open`` for a batch of values: the plaintext, or ``None`` on any failure (``open`` then says why).

        The same checks as ``open`` without building a message; a re-score opens
        twenty values per assessment, a million times.
        """
        aeads = {kid: key.aead for kid, key in self._keys.items() if key.aead is not None}
        shortest = HEADER + NONCE_BYTES + 16
        body = HEADER + NONCE_BYTES

        def open_or_none(blob: bytes, associated: bytes) -> bytes | None:
            aead = aeads.get(blob[1:HEADER])
            if aead is None or len(blob) < shortest or blob[:1] != FORMAT:
                return None
            try:
                return aead.decrypt(blob[HEADER:body], blob[body:], blob[:HEADER] + associated)
            except InvalidTag:
                return None

        return open_or_none

    def rekeyed(self, blob: bytes, associated: bytes, field: str | None = None) -> bytes:
        """The value sealed under the current key with the nonce it already has (a key rotation).

        A nonce must never repeat under one key; this one was drawn at random under
        another key, so under the new key it is as fresh as a new random one. Keeping
        it keeps the value's identity across rotations: the audit record of the write
        names the nonce (``audit.Event.seal``), and ``audit.verify`` finds a value
        rolled back to an older ciphertext of the same row by it.

        Raises:
            StoreError: as ``open``, or the value is already under the current key.
        """
        plaintext = self.open(blob, associated, field)
        key = self._current
        if blob[1:HEADER] == key.kid:
            raise StoreError("the value is already sealed under the current key")
        nonce = blob[HEADER : HEADER + NONCE_BYTES]
        header = FORMAT + key.kid
        assert key.aead is not None
        return header + nonce + key.aead.encrypt(nonce, plaintext, header + associated)

    def _refusal(self, blob: bytes, field: str | None) -> StoreError:
        what = f"the stored {field}" if field else "a stored value"
        if len(blob) < HEADER + NONCE_BYTES + 16 or blob[:1] != FORMAT:
            return StoreError(f"{what} is not in the encrypted format; refusing to trust it")
        return StoreError(
            f"{what} was encrypted with key {blob[1:HEADER].hex()}, which {self.source} does not have "
            f"(it has {self.current_kid.hex()}); use the key file that belongs to this store"
        )

    # ------------------------------------------------------------------ rotation

    def rotated(self) -> Keyring:
        """A keyring with a new current key; this one's key becomes ``old`` (still opens values)."""
        old = [k.raw for k in self._keys.values() if k.raw is not None]
        retired = {k.kid: k.audit for k in self._keys.values() if k.aead is None}
        return Keyring(new_key(), old, retired, source=self.source, path=self.path, stores=self.stores)

    def retire_old(self) -> Keyring:
        """The same keyring with every old key reduced to its audit key (rotation finished)."""
        retired = {k.kid: k.audit for k in self._keys.values() if k.kid != self._current.kid}
        assert self._current.raw is not None
        return Keyring(self._current.raw, (), retired, source=self.source, path=self.path, stores=self.stores)

    def with_stores(self, stores: Mapping[bytes, str]) -> Keyring:
        """The same keys, recording ``stores`` as the stores sealed with them."""
        if self._current.raw is None:
            raise StoreError("this keyring cannot be written")
        old = [k.raw for k in self._keys.values() if k.raw is not None and k.kid != self._current.kid]
        retired = {k.kid: k.audit for k in self._keys.values() if k.aead is None}
        return Keyring(self._current.raw, old, retired, source=self.source, path=self.path, stores=stores)

    def file_text(self) -> str:
        """The key file's content for this keyring."""
        if self._current.raw is None:
            raise StoreError("this keyring cannot be written")
        lines = [_FILE_HEADER, f"key {base64.b64encode(self._current.raw).decode()}\n"]
        for k in self._keys.values():
            if k.kid == self._current.kid:
                continue
            if k.aead is not None and k.raw is not None:
                lines.append(f"old {base64.b64encode(k.raw).decode()}\n")
            else:
                lines.append(f"audit {k.kid.hex()} {base64.b64encode(k.audit).decode()}\n")
        for store_id, where in sorted(self.stores.items()):
            lines.append(f"store {store_id.hex()} {_one_line(where)}\n")
        return "".join(lines)


def _one_line(text: str) -> str:
    """A store's path as one printable line of the key file (the path is a hint; the id decides)."""
    return "".join(c if c.isprintable() else "?" for c in text) or "?"
