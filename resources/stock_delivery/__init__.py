"""Delivering one generated file (a stock/inventory CSV) to the location a merchant configured.

Some marketplaces take stock as a file rather than through an API: the merchant tells them where to
fetch it, or gives us a place to drop it (a Letzshop inventory CSV on an SFTP box, say). `deliver_file`
puts the bytes of one such file there, whatever the location is:

===========================================  ==============================================================
location                                     how the file gets there
===========================================  ==============================================================
``/abs/dir`` or ``file:///abs/dir/``         written to a temporary file in that directory, fsync'ed, then
                                             `os.replace`d over the final name. The directory must exist.
``ftp://host[:port]/dir/``, ``ftps://...``   passive-mode binary STOR to a temporary name, then RNFR/RNTO to
                                             the final one. ftps is explicit TLS (AUTH TLS, then PROT P so the
                                             data is encrypted too), certificates verified.
``sftp://host[:port]/dir/``                  asyncssh: written to a temporary name, then renamed (the OpenSSH
                                             posix-rename extension when the server has it). The server's host
                                             key must be pinned (`host_key`) or listed (`known_hosts`).
``http(s)://host/path/`` or ``.../file``     HTTP PUT with the caller's ``Content-Type`` (default
                                             ``text/csv; charset=utf-8``) and the caller's
                                             ``Idempotency-Key``; a location ending in "/" gets the
                                             file name appended, any other is used as it is.
===========================================  ==============================================================

Whatever the transport, a reader polling the destination never sees half a file: it sees the old
file or the new one. Temporary names are ``.<filename>.<random>.part`` in the destination directory,
so a poller matching ``*.csv`` skips them; a failed attempt removes its temporary file when it can.

Paths in FTP URLs are relative to the login directory, one CWD per segment (RFC 1738; ``%2F`` for an
absolute path). Paths in SFTP URLs are absolute, as curl and the SSH URI draft have them;
``sftp://host/~/dir/`` is relative to the login directory.

Failures raise `DeliveryError`, one sentence naming the redacted destination and the cause. Its
`retryable` says whether trying again later can help (connection trouble, timeouts, HTTP 5xx and 429,
FTP 4xx replies) or whether a person must change something first (credentials, host key, a missing
directory, an HTTP 4xx). `deliver_file` itself already retries the retryable ones a few times, with the
project's jittered backoff honouring Retry-After: every attempt starts over with a fresh temporary file,
and replacing a file by the same bytes (or re-PUTting it under the same Idempotency-Key) is idempotent.

Secrets live in `DeliveryTarget` (from the credential vault), never in the location: a location with
``user:password@`` in it is refused, so it cannot end up stored in plain text. Every error message is
scrubbed of the password, token, passphrase and private key, in every encoding they could take.
"""
from marketsync.resources.stock_delivery.core import (
    Delivery,
    DeliveryError,
    DeliveryTarget,
    classify_location,
    describe_location,
)
from marketsync.resources.stock_delivery.deliver import deliver_file

__all__ = ["Delivery", "DeliveryError", "DeliveryTarget", "classify_location", "deliver_file", "describe_location"]
