"""Fuzz amazon's answer parsers (tests/fuzz/channels.py says what each reads and the contract).

    python -m tests.fuzz.fuzz_amazon -max_total_time=60 tests/fuzz/corpus/amazon
"""
from __future__ import annotations

from tests.fuzz.common import fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from tests.fuzz.channels import amazon as TestOneInput

if __name__ == "__main__":
    fuzz(TestOneInput)
