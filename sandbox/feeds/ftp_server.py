"""A supplier's FTP box on loopback: plain FTP or FTPS (explicit TLS), one user, one folder.

Many suppliers still publish their catalog and stock files on an FTP server, more and more often with
explicit TLS (AUTH TLS). Tests and `make demo` fetch feeds from this one exactly as from theirs:
RFC 1738 URL with credentials, passive mode, binary transfers. Built on pyftpdlib, served from a
daemon thread on its own IO loop (pyftpdlib's default loop is a process-wide singleton, which two
servers in one process must not share).

For FTPS a throwaway certificate authority and a server certificate for 127.0.0.1/localhost are made
at start in a temporary folder; clients trust `server.cert_file` (FeedTransport(ca_file=...)) instead of
turning verification off.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.filesystems import AbstractedFS
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

# pyftpdlib installs a stderr handler of its own when it finds logging unconfigured; a NullHandler
# keeps it quiet while its records still reach the application's handlers (PASS is masked by it).
if not logging.getLogger("pyftpdlib").handlers:
    logging.getLogger("pyftpdlib").addHandler(logging.NullHandler())


class FtpActivity:
    """What clients did and what is armed: `retrievals` lists (path, REST offset) per RETR;
    `truncate_next(n)` makes the next n downloads stop early, the server still answering
    "226 Transfer complete" as a flaky one does, so only the size check can notice."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.retrievals: list[tuple[str, int]] = []
        self._truncations = 0
        self._fraction = 0.5

    def truncate_next(self, count: int = 1, fraction: float = 0.5) -> None:
        with self._lock:
            self._truncations, self._fraction = count, fraction

    def take_truncation(self) -> float | None:
        with self._lock:
            if self._truncations <= 0:
                return None
            self._truncations -= 1
            return self._fraction


class _ShortFile:
    """A file that ends early: the truncation fault."""

    def __init__(self, handle, limit: int):
        self._handle, self._limit = handle, limit

    def read(self, size: int = -1) -> bytes:
        left = self._limit - self._handle.tell()
        if left <= 0:
            return b""
        return self._handle.read(left if size < 0 else min(size, left))

    def __getattr__(self, name):
        return getattr(self._handle, name)


class RunningFtpServer:
    """A started FTP(S) server. `url(path)` gives the RFC 1738 URL with the credentials
    percent-encoded; `stop()` is idempotent; usable as a context manager."""

    def __init__(self, server: FTPServer, thread: threading.Thread, stopping: threading.Event,
                 root: Path, user: str, password: str, tls: bool, cert_dir: Path | None, activity: FtpActivity):
        self._server, self._thread, self._stopping = server, thread, stopping
        self.activity = activity
        self.host, self.port = server.address[0], server.address[1]
        self.root, self.user, self.password, self.tls = root, user, password, tls
        self._cert_dir = cert_dir
        self.cert_file: str | None = str(cert_dir / "ca.pem") if cert_dir else None

    @property
    def scheme(self) -> str:
        return "ftps" if self.tls else "ftp"

    def url(self, path: str = "", *, credentials: bool = True) -> str:
        """`ftp://user:p%40ss@127.0.0.1:PORT/path` (path relative to the user's home)."""
        userinfo = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@" if credentials else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{userinfo}{host}:{self.port}/{quote(path.lstrip('/'))}"

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)
        if self._cert_dir is not None:
            shutil.rmtree(self._cert_dir, ignore_errors=True)
            self._cert_dir = None

    def __enter__(self) -> RunningFtpServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_ftp(root: Path, user: str, password: str, tls: bool = False, *, host: str = "127.0.0.1",
              port: int = 0, writable: bool = False, auth_failed_delay: float = 0.05) -> RunningFtpServer:
    """Serve `root` to `user`/`password` on `host:port` (0 = a free port) from a daemon thread.

    `tls=True`: explicit FTPS, TLS required on both control and data connections (as a supplier
    that takes security seriously would have it). `writable=True` lets the user upload too (push
    drops). `auth_failed_delay`: pyftpdlib waits 3 s after a wrong password; tests need less.
    """
    root = Path(root).resolve()
    authorizer = DummyAuthorizer()
    authorizer.add_user(user, password, str(root), perm="elradfmwMT" if writable else "elr")
    activity = FtpActivity()
    base: type[FTPHandler] = FTPHandler  # TLS_FTPHandler for FTPS, chosen below

    class SandboxFS(AbstractedFS):
        def open(self, filename, mode):
            handle = super().open(filename, mode)
            fraction = activity.take_truncation() if "r" in mode else None
            if fraction is None:
                return handle
            self.cmd_channel.use_sendfile = False  # sendfile would bypass the short read
            return _ShortFile(handle, int(os.fstat(handle.fileno()).st_size * fraction))

    def ftp_RETR(self, file):
        activity.retrievals.append((self.fs.fs2ftp(file), self._restart_position))
        return base.ftp_RETR(self, file)

    attributes = {"authorizer": authorizer, "banner": "marketsync sandbox FTP ready.",
                  "auth_failed_timeout": auth_failed_delay, "passive_ports": None,
                  "abstracted_fs": SandboxFS, "ftp_RETR": ftp_RETR}
    cert_dir: Path | None = None
    if tls:
        from pyftpdlib.handlers import TLS_FTPHandler  # needs pyOpenSSL, only for FTPS

        cert_dir = Path(tempfile.mkdtemp(prefix="marketsync-ftps-"))
        _write_certificates(cert_dir, host)
        attributes.update(certfile=str(cert_dir / "server.pem"), keyfile=str(cert_dir / "server.key"),
                          tls_control_required=True, tls_data_required=True, ssl_context=None)
        base = TLS_FTPHandler
    # A subclass per server: pyftpdlib configures handlers through class attributes.
    handler = type("SandboxFtpHandler", (base,), attributes)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    server = FTPServer(sock, handler, ioloop=IOLoop())
    stopping = threading.Event()

    def run() -> None:
        try:
            while not stopping.is_set():
                # One poll at a time, so the stop flag is seen within 50 ms.
                server.ioloop.loop(timeout=0.05, blocking=False)
        finally:
            server.close_all()

    thread = threading.Thread(target=run, name=f"sandbox-ftp-{server.address[1]}", daemon=True)
    thread.start()
    return RunningFtpServer(server, thread, stopping, root, user, password, tls, cert_dir, activity)


def _write_certificates(folder: Path, host: str) -> None:
    """A one-day CA and a server certificate it signs, for localhost, 127.0.0.1, ::1 and `host`.
    A separate CA (rather than one self-signed leaf) satisfies strict X.509 checking in newer Pythons."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "marketsync sandbox CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                     x509.IPAddress(ipaddress.ip_address("::1"))]
    try:
        extra = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        extra = x509.DNSName(host)
    if extra not in names:
        names.append(extra)
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    # The chain (leaf then CA) in certfile: pyftpdlib loads it with use_certificate_chain_file.
    (folder / "server.pem").write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    (folder / "server.key").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
