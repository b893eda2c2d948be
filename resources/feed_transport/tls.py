"""TLS for feed downloads: the shared SSL context of a trust configuration (`tls_context`), the FTP_TLS
that FTPS servers insisting on TLS session reuse accept (`FtpTls`, also used by stock delivery), and an
FTP connection made through the outbound URL policy (`connect_ftp`)."""
from __future__ import annotations

import ftplib
import functools
import ssl

from marketsync.resources.url_policy import connect_checked


class FtpTls(ftplib.FTP_TLS):
    """FTP_TLS that reuses the control connection's TLS session on data connections. vsftpd
    (`require_ssl_reuse`), FileZilla Server and others refuse data connections that do not, and
    ftplib does not by itself."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)  # noqa: S321 - FTPS's data connection, wrapped in TLS below under PROT P
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


def connect_ftp(ftp: ftplib.FTP, host: str, port: int, timeout: float) -> str:
    """What `ftplib.FTP.connect` does, over a socket the outbound URL policy opened (the host resolved
    once, every address checked, the peer checked): the greeting. ftplib opens passive data connections
    to the control connection's peer, never to an address the server names, so they stay there too.
    FTPS still verifies the host name, kept as `ftp.host`."""
    ftp.host, ftp.port, ftp.timeout = host, port, timeout
    ftp.sock = connect_checked(host, port, timeout, ftp.source_address, "the FTP server")
    ftp.af = ftp.sock.family
    ftp.file = ftp.sock.makefile("r", encoding=ftp.encoding)
    ftp.welcome = ftp.getresp()
    return ftp.welcome


def plain_login_refusal(tls: bool, user: str, allowed: bool) -> str | None:
    """Why a login may not go ahead, or None: over plain FTP a password crosses the network unencrypted,
    so only an anonymous login does, unless the feed or delivery says its server offers nothing else."""
    if tls or user == "anonymous" or allowed:
        return None
    return ("the login would cross the network unencrypted over plain FTP: use ftps://, or, if the server "
            "offers nothing else, set plain_ftp_login: true in the settings")


@functools.lru_cache(maxsize=8)
def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying context, shared per trust configuration (loading the system's CA store costs tens of
    milliseconds, and an SSLContext is safe to share between connections and threads). `ca_file` trusts a
    private CA (a supplier's, or the sandbox's) instead; there is no way to turn verification off."""
    return ssl.create_default_context(cafile=ca_file)
