"""Delivery to a local directory: a temporary file, fsync'ed, then `os.replace`d over the final name."""
import os
import stat
import tempfile
from pathlib import Path

from marketsync.resources.stock_delivery.core import Call, Delivery

LOCAL_FILE_MODE = 0o644  # a new local file; an existing one keeps its mode


def send_local(call: Call, directory: Path) -> Delivery:
    if not directory.is_absolute():
        raise call.error("the directory must be an absolute path", "rejected")
    if not directory.exists():
        raise call.error(f"the directory {directory} does not exist (create it first)", "missing_directory")
    if not directory.is_dir():
        raise call.error(f"{directory} is not a directory", "missing_directory")
    final = directory / call.filename
    try:
        mode = stat.S_IMODE(final.stat().st_mode)
    except OSError:  # usually: no such file yet
        mode = LOCAL_FILE_MODE
    temporary: str | None = None
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{call.filename}.", suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(call.data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        temporary = None
        _fsync_directory(directory)
    except OSError as exc:
        raise call.error(f"could not write it ({exc.strerror or type(exc).__name__})", "disk") from None
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
    return call.delivered()


def _fsync_directory(directory: Path) -> None:
    """Makes the rename itself durable; not every platform or file system allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
