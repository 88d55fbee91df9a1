"""The encrypted, authenticated container of an Alliance backup file. Pure: no Django.

Layout (all integers big-endian)::

    prefix   MAGIC (16) | format version (1) | kdf (1) | salt (16) | scrypt log2 n, r, p (3)
             | backup key id (8)
    records  length (4) | AES-256-GCM ciphertext of one chunk (length - 16 bytes of plaintext + tag)

Record 0 is the manifest (JSON), then the data in chunks; the last record carries the "final" flag.
Each file gets its own key, HKDF(master key, salt), so the record counter can be the nonce:
11 bytes of counter and 1 byte final flag (the STREAM construction of Hoang, Reyhanitabar, Rogaway
and Vizár, as in Tink and age). The prefix is the associated data of every record, so a changed byte
anywhere, a reordered, dropped or repeated record, a cut-off file (no final record) or data after the
final record is detected, and the data is streamed: a multi-GB PostgreSQL dump never sits in memory.

The master key is either a random 32-byte backup key (its id, a hash, is in the clear so that a wrong
key gets a clear message) or a passphrase stretched with scrypt (no id: a wrong passphrase and a
damaged file look the same).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"ALLIANCE-BACKUP\n"
FORMAT_VERSION = 1
KDF_KEY = 1
KDF_SCRYPT = 2
# 2**17 * 8 * 128 bytes = 128 MiB and about half a second per derivation on a small server.
SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P = 17, 8, 1
# A file may ask for at most this much scrypt work, so a crafted file cannot exhaust the machine.
SCRYPT_MAX_LOG2_N = 20
DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_CHUNK_SIZE = 16 * 1024 * 1024
TAG_SIZE = 16
PREFIX = struct.Struct(">16sBB16sBBB8s")
LENGTH = struct.Struct(">I")
_NO_KEY_ID = bytes(8)


class BackupError(Exception):
    """Anything wrong with a backup file or its key; the message is meant for the operator."""


class NotABackup(BackupError):
    pass


class WrongKey(BackupError):
    pass


class Damaged(BackupError):
    pass


@dataclass(frozen=True)
class BackupKey:
    """A random 32-byte key, kept off the server (ALLIANCE_BACKUP_KEY)."""

    material: bytes

    @classmethod
    def generate(cls) -> BackupKey:
        return cls(os.urandom(32))

    @classmethod
    def from_text(cls, text: str) -> BackupKey:
        try:
            material = base64.urlsafe_b64decode(text.strip().encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            material = b""
        if len(material) != 32:
            raise BackupError(
                "The backup key must be 32 random bytes in url-safe base64 "
                "(make one with `alliance backup --generate-key`)."
            )
        return cls(material)

    def as_text(self) -> str:
        return base64.urlsafe_b64encode(self.material).decode("ascii")

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(b"alliance backup key id\0" + self.material).digest()[:8]


@dataclass(frozen=True)
class Passphrase:
    """A passphrase, stretched with scrypt and the file's salt."""

    secret: bytes


Key = BackupKey | Passphrase


def key_id_text(key_id: bytes) -> str:
    return key_id.hex()


def _scrypt(secret: bytes, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**log2_n, r=r, p=p).derive(secret)


def _file_key(master: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"alliance backup v1 file key"
    ).derive(master)
    return AESGCM(derived)


def _nonce(counter: int, final: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


class EncryptingWriter:
    """Writes the prefix, then `write_manifest`, then data through `write`, then `close`.

    Data is cut into chunks of `chunk_size`; the last (possibly empty) chunk is sealed as final by
    `close`, so a file that was not closed properly can never pass as complete."""

    def __init__(self, out: BinaryIO, key: Key, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK_SIZE}")
        self._out = out
        self._chunk_size = chunk_size
        salt = os.urandom(16)
        if isinstance(key, BackupKey):
            master, kdf, key_id = key.material, KDF_KEY, key.key_id
        else:
            master = _scrypt(key.secret, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)
            kdf, key_id = KDF_SCRYPT, _NO_KEY_ID
        self._prefix = PREFIX.pack(
            MAGIC, FORMAT_VERSION, kdf, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, key_id
        )
        self._aead = _file_key(master, salt)
        self._counter = 0
        self._buffer = bytearray()
        self._closed = False
        out.write(self._prefix)

    def _seal(self, plaintext: bytes, *, final: bool) -> None:
        ciphertext = self._aead.encrypt(_nonce(self._counter, final), plaintext, self._prefix)
        self._counter += 1
        self._out.write(LENGTH.pack(len(ciphertext)))
        self._out.write(ciphertext)

    def write_manifest(self, manifest: bytes) -> None:
        if self._counter != 0:
            raise RuntimeError("The manifest is the first record.")
        if len(manifest) > MAX_CHUNK_SIZE:
            raise ValueError("manifest too large")
        self._seal(manifest, final=False)

    def write(self, data: bytes) -> None:
        if self._counter == 0:
            raise RuntimeError("Write the manifest first.")
        self._buffer += data
        # Strictly greater: whatever is left at close() goes into the final record.
        while len(self._buffer) > self._chunk_size:
            self._seal(bytes(self._buffer[: self._chunk_size]), final=False)
            del self._buffer[: self._chunk_size]

    def close(self) -> None:
        if not self._closed:
            self._seal(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._closed = True


class DecryptingReader:
    """Reads a backup: `manifest` (bytes) at once, then `chunks()` yields the data.

    Every chunk is authenticated before it is yielded; a problem anywhere raises a BackupError, so a
    consumer that must not act on a damaged file either reads the whole stream first or can undo."""

    def __init__(self, source: BinaryIO, key: Key) -> None:
        self._source = source
        raw = source.read(PREFIX.size)
        if len(raw) < len(MAGIC) or raw[: len(MAGIC)] != MAGIC:
            raise NotABackup("This is not an Alliance backup file.")
        if len(raw) < PREFIX.size:
            raise Damaged("The backup file is cut off (it ends inside its header).")
        _, version, kdf, salt, log2_n, r, p, key_id = PREFIX.unpack(raw)
        if version != FORMAT_VERSION:
            raise NotABackup(
                f"This backup has format version {version}; this Alliance reads version "
                f"{FORMAT_VERSION}. Restore it with the Alliance version that made it."
            )
        self._prefix = raw
        if kdf == KDF_KEY:
            if not isinstance(key, BackupKey):
                raise WrongKey(
                    "This backup was made with a backup key (ALLIANCE_BACKUP_KEY), not a passphrase."
                )
            if key.key_id != key_id:
                raise WrongKey(
                    f"Wrong backup key: this backup was made with the key whose id is "
                    f"{key_id_text(key_id)}; the key given has id {key_id_text(key.key_id)}."
                )
            master = key.material
        elif kdf == KDF_SCRYPT:
            if not isinstance(key, Passphrase):
                raise WrongKey("This backup was made with a passphrase (--passphrase-file).")
            if not (1 <= log2_n <= SCRYPT_MAX_LOG2_N and 1 <= r <= 32 and 1 <= p <= 16):
                raise Damaged("The backup's header asks for impossible key-stretching parameters.")
            master = _scrypt(key.secret, salt, log2_n, r, p)
        else:
            raise Damaged("The backup's header names an unknown kind of key.")
        self._aead = _file_key(master, salt)
        self._counter = 0
        self._finished = False
        self._passphrase = kdf == KDF_SCRYPT
        self.manifest = self._open_record(first=True)[0]
        if self._finished:
            raise Damaged("The backup file holds no data after its manifest.")

    def _read_exactly(self, size: int) -> bytes:
        data = self._source.read(size)
        if len(data) != size:
            raise Damaged("The backup file is cut off (truncated): it ends before its last chunk.")
        return data

    def _open_record(self, *, first: bool = False) -> tuple[bytes, bool]:
        header = self._source.read(LENGTH.size)
        if not header:
            raise Damaged("The backup file is cut off (truncated): its final chunk is missing.")
        if len(header) < LENGTH.size:
            raise Damaged("The backup file is cut off (truncated) inside a chunk.")
        (length,) = LENGTH.unpack(header)
        if not TAG_SIZE <= length <= MAX_CHUNK_SIZE + TAG_SIZE:
            raise Damaged("The backup file is damaged (a chunk has an impossible length).")
        ciphertext = self._read_exactly(length)
        for final in (False, True):
            try:
                plaintext = self._aead.decrypt(
                    _nonce(self._counter, final), ciphertext, self._prefix
                )
            except InvalidTag:
                continue
            self._counter += 1
            self._finished = final
            return plaintext, final
        if first and self._passphrase:
            raise WrongKey("Wrong passphrase, or the backup file has been altered.")
        raise Damaged(
            f"The backup file has been altered or damaged: chunk {self._counter} fails its "
            "authentication check."
        )

    def chunks(self) -> Iterator[bytes]:
        while not self._finished:
            plaintext, _ = self._open_record()
            yield plaintext
        if self._source.read(1):
            raise Damaged("The backup file has data after its final chunk (it has been altered).")
