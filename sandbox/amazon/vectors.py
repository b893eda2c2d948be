"""Amazon's static sandbox: fixed responses to fixed requests, as the SP-API models list them in
their `x-amzn-api-sandbox` -> `static` blocks, loaded at run time from `*.sandbox.json` files (one
`{"vectors": [...]}` per model, each vector with `operationId`, `method`, `path` (a template such as
`/orders/v0/orders/{orderId}`), `status`, `request.parameters` and `response`).

Matching follows the static sandbox: a request matches a vector when its method and path fit and
every parameter the vector gives a `value` for has exactly that value; parameters the vector does
not constrain (absent, or present without a `value`) may be anything. When several vectors match,
the one constraining the most parameters wins, then the first in file order.

Where a parameter lives: a name that is a placeholder of the path is a path parameter (compared
percent-decoded), `body` (or `payload`) is the JSON body (compared as JSON), anything else is a query
parameter; arrays travel comma-separated (Swagger's default `csv`) or as repeated parameters, and
compare item by item.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

import orjson

BODY_PARAMETERS = ("body", "payload")
_ANY = object()


@dataclass
class Vector:
    operation_id: str
    method: str
    path: str
    status: int
    parameters: dict  # name -> required value (JSON), or _ANY
    response: object
    source: str = ""
    pattern: re.Pattern = field(init=False, repr=False)
    placeholders: tuple = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.placeholders = tuple(re.findall(r"{([^}/]+)}", self.path))
        regex = re.sub(r"{[^}/]+}", "([^/]*)", re.escape(self.path).replace(r"\{", "{").replace(r"\}", "}"))
        self.pattern = re.compile(f"^{regex}$")

    @property
    def constrained(self) -> dict:
        return {name: value for name, value in self.parameters.items() if value is not _ANY}

    def request_parts(self, filler: str = "SANDBOX-ANY") -> tuple[str, dict[str, str], object]:
        """The request this vector describes: (path with placeholders filled, query parameters as
        they travel, JSON body or None). Unconstrained path parameters get `filler`."""
        constrained = self.constrained
        path = self.path
        for name in self.placeholders:
            value = constrained.get(name, filler)
            path = path.replace("{" + name + "}", _quote_segment(_text(value)))
        query = {name: _text(value) for name, value in constrained.items()
                 if name not in self.placeholders and name not in BODY_PARAMETERS}
        body = next((constrained[name] for name in BODY_PARAMETERS if name in constrained), None)
        return path, query, body


def _quote_segment(text: str) -> str:
    return quote(text, safe="")


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)


def _items(value) -> list[str]:
    if isinstance(value, list):
        return [_text(v) for v in value]
    return [_text(value)]


def load_vectors(path: str | Path) -> list[Vector]:
    """Every vector of `path`: a `*.sandbox.json` file, or a directory of them (sorted by name)."""
    path = Path(path)
    files = sorted(path.glob("*.sandbox.json")) if path.is_dir() else [path]
    vectors: list[Vector] = []
    for file in files:
        document = orjson.loads(file.read_bytes())
        for raw in document.get("vectors", []):
            parameters = {}
            for name, spec in ((raw.get("request") or {}).get("parameters") or {}).items():
                parameters[name] = spec["value"] if isinstance(spec, dict) and "value" in spec else _ANY
            vectors.append(Vector(raw["operationId"], raw["method"].upper(), raw["path"], int(raw["status"]),
                                  parameters, raw.get("response"), file.name))
    return vectors


def match(vectors: list[Vector], method: str, raw_path: str, query: list[tuple[str, str]],
          body: bytes) -> Vector | None:
    """The vector answering this request (see the module's docstring), or None. `raw_path` is the
    path as sent (percent-encoded), `query` the decoded query parameters in order."""
    merged: dict[str, list[str]] = {}
    for name, value in query:
        merged.setdefault(name, []).extend(value.split(","))
    missing = object()
    parsed_body = missing
    best, best_score = None, -1
    for vector in vectors:
        if vector.method != method:
            continue
        found = vector.pattern.match(raw_path)
        if found is None:
            continue
        segments = dict(zip(vector.placeholders, (unquote(g) for g in found.groups()), strict=True))
        score = 0
        for name, wanted in vector.parameters.items():
            if wanted is _ANY:
                continue
            if name in segments:
                ok = segments[name] == _text(wanted)
            elif name in BODY_PARAMETERS:
                if parsed_body is missing:
                    try:
                        parsed_body = orjson.loads(body) if body.strip() else None
                    except orjson.JSONDecodeError:
                        parsed_body = None
                ok = parsed_body == wanted
            else:
                ok = merged.get(name) == _items(wanted)
            if not ok:
                break
            score += 1
        else:
            if score > best_score:
                best, best_score = vector, score
    return best
