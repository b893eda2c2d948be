"""Getting supplier feeds onto disk: HTTP(S), FTP/FTPS and local drops, streamed in chunks.

A supplier publishes its catalog or stock as a file somewhere: on its web server, on an FTP box, or
dropped into a shared folder. The "downloading" step of an import run calls `FeedTransport.download`,
which writes that file to local disk a chunk at a time, so memory stays flat whether the feed is 2 MB
or 2 GB; the parsers then stream from disk. A feed is refused past its size cap (the feed's
max_download_mb, else MARKETSYNC_FEED_MAX_DOWNLOAD_MB, else 2,048 MB), and a compressed one past a
200:1 inflation ratio (resources.inflation), both counted as the bytes arrive.

Credentials arrive the way Jetti's pull flow has them, in the URL (RFC 1738:
`ftp://user:p%40ss@host:21/exports/feed.csv`), or separately. The project stores a feed's URL without
them (`split_credentials`) and the credentials encrypted in `ops.credentials`, then hands both back
here; credentials passed separately win over the URL's. Any URL that reaches a log line, an error or a
return value goes through `redact` first (`user:***@host`), and every error message is additionally
scrubbed of the secret values themselves.

One module per concern; callers import from this package, which re-exports the public names:

==============  =====================================================================================
``resource``    FeedTransport, the Dagster resource: configuration, `download`, `open_stream`, retries
``http``        one HTTP(S) download attempt (resumed with Range + If-Range), the opening GET of a stream
``ftp``         one FTP/FTPS download attempt (passive RETR, resumed with REST)
``local``       a local drop (``file://`` or a plain path) copied through the same sink
``stream``      FeedStream, an http(s) feed read as it arrives
``sink``        the partial file on disk: gzip inflation, the size cap (SizeLimit), what attempts remember
``urls``        URL parsing, redaction, credentials in URLs and their scrubber
``errors``      FeedTransportError and DownloadResult
``tls``         the shared SSL contexts, FtpTls (TLS session reuse on FTPS data connections)
``settings``    the resource's configuration as the protocol modules read it, a download attempt's type
==============  =====================================================================================
"""
from marketsync.resources.feed_transport.errors import DownloadResult, FeedTransportError
from marketsync.resources.feed_transport.resource import FeedTransport
from marketsync.resources.feed_transport.stream import FeedStream
from marketsync.resources.feed_transport.tls import FtpTls, connect_ftp, plain_login_refusal
from marketsync.resources.feed_transport.urls import (
    UrlParts,
    credentials_scrubber,
    redact,
    split_credentials,
    url_parts,
)

__all__ = [
    "DownloadResult",
    "FeedStream",
    "FeedTransport",
    "FeedTransportError",
    "FtpTls",
    "UrlParts",
    "connect_ftp",
    "credentials_scrubber",
    "plain_login_refusal",
    "redact",
    "split_credentials",
    "url_parts",
]
