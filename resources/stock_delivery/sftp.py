"""Delivery over SFTP (asyncssh): a temporary name, then a rename; the server's host key must be pinned."""
import asyncio
import concurrent.futures
import logging
import os
import posixpath
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from marketsync.resources.stock_delivery.core import CHUNK, DEFAULT_PORTS, Call, Delivery, DeliveryError, temporary_name
from marketsync.resources.url_policy import UrlRefused, check_local_path, connect_checked

log = logging.getLogger(__name__)


def send_sftp(call: Call, parsed_port: tuple) -> Delivery:
    try:
        import asyncssh
    except ImportError:  # pragma: no cover - asyncssh is a dependency
        raise call.error("SFTP needs the asyncssh package, which is not installed", "rejected") from None
    parsed, port = parsed_port
    options = _sftp_options(call, asyncssh)  # checks the settings before anything touches the network
    directory = unquote(parsed.path) or "/"
    if directory == "/~" or directory.startswith("/~/"):
        directory = directory[3:] or "."  # relative to the login directory
    step = ["connect"]
    try:
        _run(lambda: _sftp_upload(call, asyncssh, parsed.hostname, port or DEFAULT_PORTS["sftp"], directory,
                                  options, step))
    except DeliveryError:
        raise
    except Exception as exc:
        raise _sftp_error(call, asyncssh, exc, step[0]) from None
    return call.delivered()


def _sftp_options(call: Call, asyncssh) -> dict[str, Any]:
    target = call.target
    if not target.username:
        raise call.error("SFTP needs a username", "rejected")
    if not (target.password or target.private_key):
        raise call.error("SFTP needs a password or a private key", "rejected")
    options: dict[str, Any] = {
        "username": target.username,
        "config": None,  # no ~/.ssh/config: the target says everything
        "agent_path": None,  # nor an ssh-agent's keys
        "connect_timeout": target.timeout,
        "login_timeout": target.timeout,
        "gss_auth": False, "gss_kex": False,
    }
    if target.host_key and target.host_key.strip():
        keys = []
        for line in target.host_key.strip().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                keys.append(asyncssh.import_public_key(line))
            except (asyncssh.KeyImportError, ValueError):
                raise call.error("host_key is not an OpenSSH public key line (like 'ssh-ed25519 AAAA...', "
                                 "as `ssh-keyscan` prints after the host name)", "rejected") from None
        options["known_hosts"] = (keys, [], [])
    elif target.known_hosts and target.known_hosts.strip():
        try:  # a local file read on a store's behalf: only inside a folder the deployment allows
            path = str(check_local_path(os.path.expanduser(target.known_hosts.strip()), "the known_hosts file"))
        except UrlRefused as exc:
            raise call.error(str(exc), "rejected") from None
        if not os.path.isfile(path):
            raise call.error(f"the known_hosts file {path} does not exist", "rejected")
        try:
            options["known_hosts"] = asyncssh.read_known_hosts(path)
        except (OSError, ValueError):
            raise call.error(f"the known_hosts file {path} cannot be read", "rejected") from None
    else:
        raise call.error("the SFTP server's host key is not configured: set host_key to the server's public "
                         "key line (`ssh-keyscan -p PORT HOST` shows it; check it with the server's owner) or "
                         "known_hosts to a known_hosts file", "rejected")
    methods: list[str] = []
    if target.private_key:
        key_text = target.private_key.strip()
        if "-----BEGIN" not in key_text:
            raise call.error("private_key must be the key itself (PEM or OpenSSH text), not a file name", "rejected")
        try:
            key = asyncssh.import_private_key(key_text + "\n", target.passphrase or None)
        except asyncssh.KeyEncryptionError:
            raise call.error("the private key cannot be decrypted: the passphrase is missing or wrong",
                             "rejected") from None
        except (asyncssh.KeyImportError, ValueError):
            raise call.error("the private key cannot be read (expected PEM or OpenSSH private key text, "
                             "with its passphrase if it has one)", "rejected") from None
        options["client_keys"] = [key]
        methods.append("publickey")
    else:
        options["client_keys"] = None
    if target.password:
        options["password"] = target.password
        methods += ["keyboard-interactive", "password"]
    options["preferred_auth"] = methods
    return options


async def _sftp_upload(call: Call, asyncssh, host: str, port: int, directory: str,
                       options: dict[str, Any], step: list[str]) -> None:
    timeout = call.target.timeout

    async def within(awaitable):
        return await asyncio.wait_for(awaitable, timeout)

    # The socket is opened through the outbound URL policy (host resolved once, every address and the
    # peer checked); asyncssh still checks the host key against the host name.
    sock = await asyncio.get_running_loop().run_in_executor(
        None, lambda: connect_checked(host, port, timeout, what="the SFTP server"))
    async with await asyncssh.connect(host, port, sock=sock, **options) as conn:
        step[0] = "start SFTP"
        async with await within(conn.start_sftp_client()) as sftp:
            step[0] = "stat"
            if not await within(sftp.isdir(directory)):
                raise call.error(f"the directory {directory!r} does not exist on the SFTP server "
                                 "(create it first)", "missing_directory")
            temporary = posixpath.join(directory, temporary_name(call.filename))
            final = posixpath.join(directory, call.filename)
            written = False
            try:
                step[0] = "open"
                handle = await within(sftp.open(temporary, "wb"))
                written = True
                try:
                    step[0] = "write"
                    for offset in range(0, len(call.data), CHUNK):
                        await within(handle.write(call.data[offset:offset + CHUNK], offset))
                finally:
                    await within(handle.close())
                step[0] = "rename"
                await within(_sftp_replace(sftp, asyncssh, temporary, final))
                written = False
            finally:
                if written:
                    try:
                        await asyncio.wait_for(sftp.remove(temporary), min(timeout, 5.0))
                    except Exception:  # the upload's own error is the one to report
                        log.debug("%s: could not remove the partial upload %s", call.where, temporary, exc_info=True)


async def _sftp_replace(sftp, asyncssh, temporary: str, final: str) -> None:
    """Atomic replace with OpenSSH's posix-rename (or SFTPv5+ rename with overwrite); on servers with
    neither, a plain rename, removing an existing file first if the server insists."""
    try:
        await sftp.posix_rename(temporary, final)
        return
    except asyncssh.SFTPOpUnsupported:
        pass
    try:
        await sftp.rename(temporary, final)
    except (asyncssh.SFTPFailure, asyncssh.SFTPFileAlreadyExists):
        if not await sftp.exists(final):
            raise
        await sftp.remove(final)
        await sftp.rename(temporary, final)


def _sftp_error(call: Call, asyncssh, exc: BaseException, step: str) -> DeliveryError:
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return call.error("the SFTP server's host key does not match the configured host_key/known_hosts: "
                          "if the server's owner did not change it, someone may be intercepting the connection",
                          "host_key")
    if isinstance(exc, asyncssh.PermissionDenied):
        return call.error("the SFTP server refused the login (wrong username, password or key)", "auth")
    if isinstance(exc, asyncssh.KeyExchangeFailed):
        return call.error("the SFTP server and we share no key exchange or host key algorithm "
                          "(is the host key of the right type?)", "rejected")
    if isinstance(exc, (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath)):
        return call.error(f"the SFTP server has no such directory ({step} failed)", "missing_directory")
    if isinstance(exc, asyncssh.SFTPPermissionDenied):
        return call.error(f"the SFTP server does not let this user {step} the file (permission denied)", "denied")
    if isinstance(exc, asyncssh.SFTPConnectionLost):
        return call.error(f"the connection broke during {step}", "broken")
    if isinstance(exc, asyncssh.SFTPError):
        return call.error(f"the SFTP server refused to {step} the file ({exc.reason})", "rejected")
    if isinstance(exc, asyncssh.ChannelOpenError):
        return call.error("the SSH server does not offer SFTP to this user", "rejected")
    if isinstance(exc, (asyncssh.ConnectionLost, asyncssh.ServiceNotAvailable)):
        return call.error(f"the connection broke during {step}", "broken")
    if isinstance(exc, asyncssh.DisconnectError):
        return call.error(f"the SSH server closed the connection during {step} ({type(exc).__name__})", "broken")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return call.error(f"no answer within {call.target.timeout:g} s during {step} (timeout)", "timeout")
    if isinstance(exc, ConnectionRefusedError):
        return call.error("connection refused", "unreachable")
    if isinstance(exc, socket.gaierror):
        return call.error("the host name does not resolve", "unreachable")
    if isinstance(exc, OSError):
        return call.error(f"the server cannot be reached ({exc.strerror or type(exc).__name__})", "unreachable")
    return call.error(f"the SFTP transfer failed during {step} ({type(exc).__name__})", "broken")


def _run(make_coroutine: Callable[[], Any]) -> Any:
    """Runs a coroutine to completion from synchronous code, in a worker thread if this thread
    already runs an event loop (asyncio.run cannot nest)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="stock-delivery") as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()
