"""Run every fuzzing harness for a bounded time and print what each did (`make fuzz`).

    python -m tests.fuzz.run [--seconds N] [harness ...]

Each harness runs as its own process (`python -m tests.fuzz.fuzz_<name>`) under libFuzzer with a fixed
seed, the rss and per-input time limits, and two corpus folders: a work folder under .fuzz/ (git-ignored;
what the run learns is kept there for the next run) and the seed corpus kept in the repository
(tests/fuzz/corpus/<name>/, read only). A crashing input is written to .fuzz/crashes/<name>/; the run
goes on with the other harnesses, then the table is printed and the command fails naming every crash file.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
HARNESSES = ("feed_readers", "gtin_price", "push_intake", "letzshop", "amazon", "ebay", "jtl_ffn",
             "codeswholesale", "inbound_sheet")
SEED = 20260101
# libFuzzer's closing lines: "#1717894	DONE   cov: 257 ft: 397 corp: ..." (or the last status line before a
# crash), and -print_final_stats=1's "stat::number_of_executed_units: 1717894".
_STATUS = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+)", re.MULTILINE)
_EXECUTED = re.compile(r"^stat::number_of_executed_units: (\d+)", re.MULTILINE)
_CRASH_FILE = re.compile(r"Test unit written to (\S+)")


@dataclass
class Outcome:
    harness: str
    executions: int = 0
    cov: int = 0
    ft: int = 0
    crashes: list[str] | None = None
    returncode: int = 0
    seconds: float = 0.0


def parse(harness: str, output: str, returncode: int) -> Outcome:
    """What one libFuzzer run reports, from its output."""
    outcome = Outcome(harness, returncode=returncode, crashes=_CRASH_FILE.findall(output))
    statuses = _STATUS.findall(output)
    if statuses:
        executions, cov, ft = statuses[-1]
        outcome.executions, outcome.cov, outcome.ft = int(executions), int(cov), int(ft)
    executed = _EXECUTED.findall(output)
    if executed:
        outcome.executions = int(executed[-1])
    return outcome


def run(harness: str, seconds: int, work: Path) -> Outcome:
    corpus = work / "corpus" / harness
    crashes = work / "crashes" / harness
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", f"tests.fuzz.fuzz_{harness}", f"-max_total_time={seconds}",
               "-rss_limit_mb=2048", "-timeout=10", f"-seed={SEED}", "-print_final_stats=1",
               f"-artifact_prefix={crashes}/"]
    # A libFuzzer dictionary of tokens the inputs are made of: the harness's own, else (the channels' JSON
    # answers) JSON's.
    dictionary = HERE / "dicts" / f"{harness}.dict"
    if not dictionary.exists():
        dictionary = HERE / "dicts" / "json.dict"
    command.append(f"-dict={dictionary}")
    command += [str(corpus), str(HERE / "corpus" / harness)]
    started = time.monotonic()
    log = work / f"{harness}.log"
    with log.open("w") as out:
        done = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                              timeout=seconds + 300, check=False)
    outcome = parse(harness, log.read_text(errors="replace"), done.returncode)
    outcome.seconds = time.monotonic() - started
    if done.returncode and not outcome.crashes:
        outcome.crashes = [f"(exit {done.returncode} without a crash file: see {log})"]
    return outcome


def table(outcomes: list[Outcome]) -> str:
    lines = [f"{'harness':<16} {'executions':>12} {'cov':>7} {'ft':>7} {'crashes':>8} {'seconds':>8}"]
    for o in outcomes:
        lines.append(f"{o.harness:<16} {o.executions:>12} {o.cov:>7} {o.ft:>7} {len(o.crashes or []):>8} "
                     f"{o.seconds:>8.0f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "60")),
                        help="how long each harness runs (FUZZ_SECONDS, default 60)")
    parser.add_argument("--work", type=Path, default=ROOT / ".fuzz", help="work folder (default .fuzz/)")
    parser.add_argument("harness", nargs="*", help=f"only these (default: all of {', '.join(HARNESSES)})")
    args = parser.parse_args(argv)
    unknown = set(args.harness) - set(HARNESSES)
    if unknown:
        parser.error(f"no harness {', '.join(sorted(unknown))} (known: {', '.join(HARNESSES)})")
    outcomes = []
    for harness in args.harness or HARNESSES:
        print(f"fuzzing {harness} for {args.seconds} s ...", flush=True)
        outcomes.append(run(harness, args.seconds, args.work))
    print()
    print(table(outcomes))
    crashed = [(o.harness, crash) for o in outcomes for crash in o.crashes or []]
    for harness, crash in crashed:
        print(f"CRASH in {harness}: {crash} (log: {args.work / (harness + '.log')})")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
