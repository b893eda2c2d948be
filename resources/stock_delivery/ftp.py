"""Delivery over FTP and FTPS (explicit TLS): passive binary STOR to a temporary name, then RNFR/RNTO."""
import ftplib
import io
import socket
import ssl
from urllib.parse import unquote

from marketsync.resources.feed_transport import FtpTls, connect_ftp, plain_login_refusal
from marketsync.resources.stock_delivery.core import (
    CHUNK,
    DEFAULT_PORTS,
    Call,
    Delivery,
    DeliveryError,
    temporary_name,
    tls_context,
)


def send_ftp(call: Call, parsed_port: tuple) -> Delivery:
    parsed, port = parsed_port
    step = ["connect"]  # the command under way, for error messages
    try:
        _ftp_upload(call, parsed, port, step)
    except DeliveryError:
        raise
    except (*ftplib.all_errors, ValueError) as exc:  # replies, OSError (socket, TLS), EOFError
        raise _ftp_error(call, exc, step[0]) from None
    return call.delivered()


def _ftp_upload(call: Call, parsed, port: int | None, step: list[str]) -> None:
    """Passive binary STOR to a temporary name in the directory, then RNFR/RNTO to the final name."""
    target = call.target
    tls = parsed.scheme.lower() == "ftps"
    directories = [unquote(s) for s in parsed.path.split("/") if s]
    user = target.username or "anonymous"
    password = target.password or ("anonymous@" if user == "anonymous" else "")
    refusal = plain_login_refusal(tls, user, target.plain_ftp_login)
    if refusal:
        raise call.error(refusal, "rejected")
    ftp: ftplib.FTP = FtpTls(context=tls_context()) if tls else ftplib.FTP()  # noqa: S321 - FTP and FTPS are protocols merchants' feeds use; FTPS when configured
    temporary = temporary_name(call.filename)
    stored = False
    try:
        connect_ftp(ftp, parsed.hostname, port or DEFAULT_PORTS[parsed.scheme.lower()], target.timeout)
        if tls:
            step[0] = "AUTH TLS"
            ftp.auth()
        step[0] = "login"
        ftp.login(user, password)
        if tls:
            step[0] = "PROT P"
            ftp.prot_p()
        ftp.set_pasv(True)
        for directory in directories:
            step[0] = f"CWD {directory}"
            ftp.cwd(directory)
        step[0] = "TYPE I"
        ftp.voidcmd("TYPE I")
        step[0] = "STOR"
        stored = True  # from here on a partial temporary file may exist
        ftp.storbinary(f"STOR {temporary}", io.BytesIO(call.data), blocksize=CHUNK)
        step[0] = "RNFR/RNTO"
        try:
            ftp.rename(temporary, call.filename)
        except ftplib.error_perm as exc:
            # Some servers (IIS, older ProFTPD setups) will not rename over an existing file: remove
            # it and rename again. Readers may then briefly find no file, but never half of one.
            if not str(exc).startswith(("550", "553")):
                raise
            try:
                ftp.delete(call.filename)
            except ftplib.error_perm:
                raise exc from None
            ftp.rename(temporary, call.filename)
        stored = False
        try:
            ftp.quit()
        except ftplib.all_errors:
            pass
    except ftplib.Error:
        # The server answered, so the control connection still works: tidy up the partial file.
        # (After a socket error or timeout, trying would only wait for the same dead connection.)
        if stored:
            try:
                ftp.delete(temporary)
            except (*ftplib.all_errors, ValueError):
                pass
        raise
    finally:
        ftp.close()


def _ftp_error(call: Call, exc: BaseException, step: str) -> DeliveryError:
    command = step.split(" ")[0]
    if isinstance(exc, (ftplib.error_perm, ftplib.error_temp, ftplib.error_reply)):
        code = str(exc)[:3]
        if code == "530" or (step == "login" and code.startswith("5")):
            return call.error(f"the FTP server refused the login (reply {code})", "auth")
        if command == "CWD" and code.startswith("5"):
            return call.error(f"the directory {step[4:]!r} does not exist on the FTP server or is not "
                              f"accessible (CWD answered {code})", "missing_directory")
        if step == "AUTH TLS":
            return call.error(f"the FTP server does not offer explicit TLS (AUTH TLS answered {code})", "tls")
        if command in ("STOR", "RNFR/RNTO") and code in ("550", "553", "532"):
            return call.error(f"the FTP server does not let this user write or rename the file "
                              f"({command} answered {code})", "denied")
        if isinstance(exc, ftplib.error_temp):
            return call.error(f"the FTP server answered {code} to {command} (temporary)", "server")
        return call.error(f"the FTP server answered {code} to {command}", "rejected")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return call.error("the FTP server's TLS certificate is not trusted", "tls")
    if isinstance(exc, ssl.SSLError):
        return call.error(f"TLS failed during {command} ({exc.reason or 'handshake'})", "tls")
    if isinstance(exc, ConnectionRefusedError):
        return call.error("connection refused", "unreachable")
    if isinstance(exc, TimeoutError):
        return call.error(f"no answer within {call.target.timeout:g} s during {command} (timeout)", "timeout")
    if isinstance(exc, socket.gaierror):
        return call.error("the host name does not resolve", "unreachable")
    if isinstance(exc, ftplib.error_proto):
        return call.error("the FTP server's reply makes no sense", "rejected")
    if isinstance(exc, ValueError):  # ftplib refusing a line with CR/LF in it
        return call.error("a file or directory name contains characters FTP cannot carry", "rejected")
    return call.error(f"the connection broke during {command}", "broken")
