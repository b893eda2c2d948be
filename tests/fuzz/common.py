"""What every harness shares: instrumentation only when run as a fuzzer, and the one way to start one.

A harness module is importable without atheris (tests/test_fuzz_corpus.py runs each TestOneInput over
its seed corpus): atheris is imported only when the module runs as `__main__`, and only then are the
imports of the code under test instrumented for coverage.
"""
from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

CORPUS = Path(__file__).parent / "corpus"


def instrumented(active: bool) -> contextlib.AbstractContextManager:
    """`with instrumented(__name__ == "__main__"):` around the imports of the code under test: atheris
    instruments marketsync's modules imported inside it when the harness runs as a fuzzer."""
    if not active:
        return contextlib.nullcontext()
    import atheris

    return atheris.instrument_imports(include=["marketsync"])


def fuzz(test_one_input: Callable[[bytes], None]) -> None:
    """Hand the harness to libFuzzer; sys.argv carries libFuzzer's flags and corpus folders."""
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


def json_input(data: bytes, decoder: str = "orjson") -> Any:
    """The input as JSON, or the sentinel NOT_JSON: structured harnesses mutate JSON text (their seeds are
    real answers) and skip bytes that do not decode. `decoder` is what the client decodes with: orjson
    (most clients: an integer beyond 64 bits arrives as a float) or Python's json."""
    try:
        if decoder == "orjson":
            return orjson.loads(data)
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # (orjson.JSONDecodeError is a ValueError)
        return NOT_JSON


NOT_JSON = object()
