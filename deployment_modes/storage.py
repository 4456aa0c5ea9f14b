"""The files of a durable state dir: a write-ahead log in segments, and a checksummed snapshot.

- ``snapshot.pkl``: a pickled state behind a header line (JSON: its ``seq``, size and SHA-256).
  It is written to ``.snapshot.tmp``, flushed to disk, then renamed over the old one, so a reader
  finds the old snapshot or the new one, never half of one.
- ``wal-<seq>.log`` (``seq`` on 12 digits: the first record it holds): one line per record,
  ``<crc32 in 8 hex digits> <JSON>\\n``. A record is durable once :meth:`LogWriter.append` returns:
  the bytes are written with ``os.write`` on a raw file descriptor (no buffer that could write them
  again later) and flushed with ``fsync``. A write that fails is cut off again with ``os.ftruncate``.

Reading is strict: only an unterminated last line of the last segment that looks like the start of
a record is a *torn tail* (a crash in the middle of a write, never acknowledged) and is skipped.
Any other bad line is corruption: :class:`StateError` names the file and the line, and no file is
deleted. Every file is created readable and writable by its owner only (0600).

Defined in the Learning on a server chapter (``book/server.ipynb``); :mod:`deployment_modes.durable` uses it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import pickle
import re
import time
import zlib
from pathlib import Path

from . import json_codec

__all__ = [
    "LogWriteError",
    "LogWriter",
    "StateError",
    "encode",
    "load_snapshot",
    "lock_state_dir",
    "read_log",
    "segments",
    "write_snapshot",
]

SNAPSHOT = "snapshot.pkl"
TMP = ".snapshot.tmp"
MAGIC = b"deployment_modes snapshot 1\n"
SEGMENT = re.compile(r"wal-(\d{12})\.log")
FILE_MODE = 0o600
_FLAGS = os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class StateError(RuntimeError):
    """The state dir cannot be used: corrupt, in use by another server, or of another mode.

    Parameters
    ----------
    *args, **kwargs
        The message, as for any exception: it names the file and says what to do.

    Examples
    --------
    >>> import tempfile
    >>> load_snapshot(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    deployment_modes.storage.StateError: ...snapshot.pkl: no snapshot there
    """


class LogWriteError(RuntimeError):
    """A record could not be made durable; nothing of it stays in the log. ``disk_full`` says why.

    Parameters
    ----------
    message
        What failed (the file and the system's reason).
    disk_full
        Whether the disk (or the user's quota) was full: a server answers 507, else 503.

    Examples
    --------
    >>> error = LogWriteError("not logged, nothing learned: writing wal-000000000001.log failed", disk_full=True)
    >>> error.disk_full, isinstance(error, RuntimeError)
    (True, True)
    """

    def __init__(self, message: str, *, disk_full: bool):
        super().__init__(message)
        self.disk_full = disk_full


def encode(record: dict) -> bytes:
    """One log line for ``record``: its CRC32 in 8 hex digits, a space, its JSON, a newline.

    Parameters
    ----------
    record
        A dict of JSON values (no NaN or infinity) with an int ``seq``.

    Returns
    -------
    bytes
        The line, as :func:`read_log` reads it back.

    Examples
    --------
    >>> encode({"seq": 1, "kind": "learn"})
    b'7066d533 {"seq":1,"kind":"learn"}\\n'
    """
    body = json_codec.dumps(record)
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _decode(line: bytes) -> dict | None:
    """The record of one complete log line, or None if it fails its CRC or is not a record."""
    crc, body = line[:8], line[9:-1]
    if len(line) < 11 or line[8:9] != b" " or not re.fullmatch(rb"[0-9a-f]{8}", crc):
        return None
    if int(crc, 16) != zlib.crc32(body):
        return None
    try:
        record = json_codec.loads(body)
    except ValueError:
        return None
    return record if isinstance(record, dict) and isinstance(record.get("seq"), int) else None


def _looks_torn(tail: bytes) -> bool:
    """Whether an unterminated line is the start of a record (8 hex digits, a space, ``{"seq":``)."""
    head, rest = tail[:8], tail[8:17]
    return (
        bool(re.fullmatch(rb"[0-9a-f]*", head))
        and b' {"seq":'.startswith(rest[:8])
        and (len(tail) <= 16 or tail[16:17].isdigit())
    )


def segments(state_dir) -> list[Path]:
    """The log segments of ``state_dir`` (files named ``wal-<12 digits>.log``), oldest first.

    Parameters
    ----------
    state_dir
        The state dir (str or Path).

    Returns
    -------
    list of Path
        The segments, oldest first (the number in a name is the first record it holds).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> LogWriter(folder, 1).close(); LogWriter(folder, 42).close()
    >>> [p.name for p in segments(folder)]
    ['wal-000000000001.log', 'wal-000000000042.log']
    """
    return sorted(p for p in Path(state_dir).iterdir() if SEGMENT.fullmatch(p.name))


def read_log(state_dir) -> list[dict]:
    """Every record of the write-ahead log, in order; raise :class:`StateError` on corruption.

    Parameters
    ----------
    state_dir
        The state dir (str or Path) whose ``wal-*.log`` segments are read.

    Returns
    -------
    list of dict
        The records, their ``seq`` consecutive; a torn tail (an unterminated last line that
        starts like a record) is left out.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> log = LogWriter(folder, 1); log.append(encode({"seq": 1}) + b'7f00aa11 {"se'); log.close()
    >>> read_log(folder)  # the unterminated last line is a torn tail
    [{'seq': 1}]
    """
    paths, records = segments(state_dir), []
    for i, path in enumerate(paths):
        lines = path.read_bytes().splitlines(keepends=True)
        for n, line in enumerate(lines, 1):
            torn = not line.endswith(b"\n")
            if torn and i == len(paths) - 1 and n == len(lines) and _looks_torn(line):
                break  # a write cut short by a crash: it was never acknowledged
            record = None if torn else _decode(line)
            if record is None:
                raise StateError(
                    f"{path} line {n} is corrupt ({'unterminated' if torn else 'it fails its checksum'}"
                    f"): the write-ahead log cannot be replayed. Refusing to start; no file was "
                    f"changed. Restore the state dir from a backup, or move it away to start afresh"
                )
            if n == 1 and record["seq"] != int(SEGMENT.fullmatch(path.name)[1]):
                raise StateError(
                    f"{path} starts with record {record['seq']}, not the one its name says"
                )
            if records and record["seq"] != records[-1]["seq"] + 1:
                raise StateError(
                    f"{path} line {n}: the write-ahead log skips from record "
                    f"{records[-1]['seq']} to {record['seq']}"
                )
            records.append(record)
    return records


def lock_state_dir(state_dir) -> int:
    """Create ``state_dir`` if missing (0700) and take its ``lock`` file: one process at a time.

    The lock (``flock``) lasts until the returned file descriptor is closed, or the process ends,
    even by ``kill -9``. A ``lock`` that is a symbolic link is not followed.

    Parameters
    ----------
    state_dir
        The state dir (str or Path).

    Returns
    -------
    int
        The open file descriptor of the lock file: close it to release the state dir.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> fd = lock_state_dir(folder)
    >>> lock_state_dir(folder)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    deployment_modes.storage.StateError: another server is using the state dir ...
    >>> os.close(fd); os.close(lock_state_dir(folder))
    """
    folder = Path(state_dir)
    if folder.exists() and not folder.is_dir():
        raise StateError(f"state_dir must be a folder, got the file {folder}")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / "lock"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, FILE_MODE)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise StateError(
                f"{path} is a symbolic link: refusing to follow it (remove it)"
            ) from None
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StateError(f"another server is using the state dir {folder}") from None
    return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LogWriter:
    """Appends records durably to the segment ``wal-<first_seq>.log`` of ``state_dir``.

    ``append`` writes and fsyncs (``write`` then ``sync``: a caller may work while the disk
    flushes), or cuts the file back to where it was and raises :class:`LogWriteError`. If even
    that fails, the writer is ``broken`` and refuses every later append (the state dir is then
    read again at the next start, which decides what is in it).

    Parameters
    ----------
    state_dir
        The state dir (str or Path); the segment is created there (0600), or appended to.
    first_seq
        The ``seq`` of the first record the segment holds (it names the file).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> log = LogWriter(folder, 1)
    >>> log.append(encode({"seq": 1, "kind": "learn"}) + encode({"seq": 2, "kind": "learn"})); log.close()
    >>> [r["seq"] for r in read_log(folder)]
    [1, 2]
    """

    def __init__(self, state_dir, first_seq: int):
        self.path = Path(state_dir) / f"wal-{first_seq:012d}.log"
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _FLAGS, FILE_MODE)
        self.broken: str | None = None
        try:
            _fsync_dir(self.path.parent)
        except OSError:
            self.close()
            raise

    def append(self, data: bytes) -> None:
        """Write ``data`` (whole lines from :func:`encode`) and fsync it, or raise :class:`LogWriteError`."""
        self.sync(self.write(data))

    def write(self, data: bytes) -> int:
        """Write ``data`` without flushing it; the size the file had before (for :meth:`sync`).

        The bytes are not durable until :meth:`sync` returns. A write that fails is cut off again
        and raised as :class:`LogWriteError`.
        """
        if self.broken:
            raise LogWriteError(self.broken, disk_full=False)
        start = os.fstat(self.fd).st_size
        try:
            _write_all(self.fd, data)
        except OSError as error:
            raise self._cut_back(start, error) from error
        return start

    def sync(self, start: int) -> None:
        """Flush what was written since the file had ``start`` bytes, or cut it off and raise :class:`LogWriteError`."""
        try:
            os.fsync(self.fd)
        except OSError as error:
            raise self._cut_back(start, error) from error

    def _cut_back(self, start: int, error: OSError) -> LogWriteError:
        """Cut the file back to ``start`` bytes after ``error``; the error to raise (``broken`` if even that fails)."""
        try:
            os.ftruncate(self.fd, start)
            os.fsync(self.fd)
        except OSError as again:
            self.broken = (
                f"{self.path} could not be cut back after a failed write ({again}): "
                f"restart the server to recover from the log"
            )
        return LogWriteError(
            f"not logged, nothing learned: writing {self.path.name} failed: "
            f"{error.strerror or error}",
            disk_full=error.errno in _DISK_FULL,
        )

    def close(self) -> None:
        """Close the file (the records appended stay durable)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def write_snapshot(state_dir, state, seq: int, **header) -> dict:
    """Pickle ``state`` (the state after log record ``seq``) into the snapshot, atomically; its header.

    On failure the temporary file is removed and the old snapshot stays as it was.

    Parameters
    ----------
    state_dir
        The state dir (str or Path).
    state
        What to pickle.
    seq
        The last log record ``state`` includes: replay starts after it.
    **header
        More JSON values for the header (the server stores ``n_seen`` and ``mode``).

    Returns
    -------
    dict
        The header written: ``seq``, the extra values, ``bytes``, ``sha256``, ``written_at``.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> write_snapshot(folder, {"weights": [0.5]}, 7, mode="online")["seq"]
    7
    >>> load_snapshot(folder)[1]
    {'weights': [0.5]}
    """
    payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    header = {
        "seq": seq,
        **header,
        "bytes": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "written_at": time.time(),
    }
    folder = Path(state_dir)
    tmp = folder / TMP
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _FLAGS, FILE_MODE)
        try:
            _write_all(fd, MAGIC + json.dumps(header).encode() + b"\n" + payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, folder / SNAPSHOT)
        _fsync_dir(folder)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return header


def load_snapshot(state_dir) -> tuple[dict, object]:
    """``(header, state)`` of the snapshot, after checking its checksum; :class:`StateError` if unusable.

    Parameters
    ----------
    state_dir
        The state dir (str or Path) holding ``snapshot.pkl``.

    Returns
    -------
    tuple
        ``(header, state)``: the header as :func:`write_snapshot` returned it, and the state unpickled.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> header = write_snapshot(folder, [1, 2], 3)
    >>> load_snapshot(folder) == (header, [1, 2])
    True
    >>> (folder / "snapshot.pkl").write_bytes(b"not a snapshot")
    14
    >>> load_snapshot(folder)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    deployment_modes.storage.StateError: ...snapshot.pkl is not a deployment_modes snapshot (its header is not readable)
    """
    path = Path(state_dir) / SNAPSHOT
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StateError(f"{path}: no snapshot there") from None
    end = data.find(b"\n", len(MAGIC))
    try:
        header = json.loads(data[len(MAGIC) : end]) if data.startswith(MAGIC) and end > 0 else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or not isinstance(header.get("seq"), int):
        raise StateError(f"{path} is not a deployment_modes snapshot (its header is not readable)")
    payload = data[end + 1 :]
    if len(payload) != header.get("bytes") or hashlib.sha256(payload).hexdigest() != header.get(
        "sha256"
    ):
        raise StateError(f"{path} fails its checksum: refusing to load it")
    try:
        return header, pickle.loads(payload)
    except Exception as error:  # noqa: BLE001 (a checksummed pickle that a changed package cannot load)
        raise StateError(f"{path} cannot be unpickled ({type(error).__name__}: {error})") from None
