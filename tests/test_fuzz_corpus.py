"""The fuzzing harnesses (tests/fuzz/) over their seed corpora, once each, without atheris: the corpus and
the harnesses cannot rot (a harness whose code under test changed shape fails here, in seconds, not
only in `make fuzz`), and every seed stays an input the contract holds for."""
from __future__ import annotations

import importlib

import pytest

from tests.fuzz.common import CORPUS
from tests.fuzz.run import HARNESSES

pytestmark = pytest.mark.unit

SEEDS = [(harness, path.name) for harness in HARNESSES for path in sorted((CORPUS / harness).iterdir())]


def test_every_harness_has_seeds_and_every_seed_folder_a_harness():
    assert {p.name for p in CORPUS.iterdir() if p.is_dir()} == set(HARNESSES)
    for harness in HARNESSES:
        assert any((CORPUS / harness).iterdir()), f"{harness} has no seed corpus"


def test_the_corpus_stays_small():
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert total < 256 * 1024, f"the seed corpus holds {total} bytes"


@pytest.mark.parametrize(("harness", "seed"), SEEDS, ids=[f"{h}/{s}" for h, s in SEEDS])
def test_seed_passes_its_harness(harness, seed):
    module = importlib.import_module(f"tests.fuzz.fuzz_{harness}")
    module.TestOneInput((CORPUS / harness / seed).read_bytes())


def test_runner_reads_libfuzzer_figures():
    from tests.fuzz.run import parse

    output = ("#93\tINITED cov: 244 ft: 342 corp: 77/440b exec/s: 0 rss: 49Mb\n"
              "#1717894\tDONE   cov: 257 ft: 397 corp: 102/1017b lim: 4096 exec/s: 28162 rss: 49Mb\n"
              "stat::number_of_executed_units: 1717894\n")
    outcome = parse("gtin_price", output, 0)
    assert (outcome.executions, outcome.cov, outcome.ft, outcome.crashes) == (1717894, 257, 397, [])
    crashed = parse("amazon", "#50\tNEW    cov: 60 ft: 120 corp: 3/1b\n"
                              "artifact_prefix='x/'; Test unit written to x/crash-abc\n", 1)
    assert crashed.crashes == ["x/crash-abc"] and crashed.cov == 60
