"""Fuzz letzshop's answer parsers (tests/fuzz/channels.py says what each reads and the contract).

    python -m tests.fuzz.fuzz_letzshop -max_total_time=60 tests/fuzz/corpus/letzshop
"""
from __future__ import annotations

from tests.fuzz.common import fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from tests.fuzz.channels import letzshop as TestOneInput

if __name__ == "__main__":
    fuzz(TestOneInput)
