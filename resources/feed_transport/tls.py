"""TLS for feed downloads: the shared SSL context of a trust configuration (`tls_context`), and the
FTP_TLS that FTPS servers insisting on TLS session reuse accept (`FtpTls`, also used by stock delivery)."""
from __future__ import annotations

import ftplib
import functools
import ssl


class FtpTls(ftplib.FTP_TLS):
    """FTP_TLS that reuses the control connection's TLS session on data connections. vsftpd
    (`require_ssl_reuse`), FileZilla Server and others refuse data connections that do not, and
    ftplib does not by itself."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)  # noqa: S321 - FTPS's data connection, wrapped in TLS below under PROT P
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


@functools.lru_cache(maxsize=8)
def tls_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """Shared per configuration: loading the system's CA store costs tens of milliseconds, and
    an SSLContext is safe to share between connections and threads."""
    context = ssl.create_default_context(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
