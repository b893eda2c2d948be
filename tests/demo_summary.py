"""What a good `marketsync demo` summary looks like, shared by the tests that run the demo (in the
checkout and from an installed wheel), so a new demo check is counted in one place."""

# One line per check the demo prints under "== Summary"; a check that goes missing fails as surely as
# one that prints BAD.
DEMO_CHECKS = 23


def assert_demo_summary(stdout: str) -> str:
    """Assert the demo printed its summary with every check ok; return the summary for further asserts."""
    assert "== Summary" in stdout, stdout[-2000:]
    summary = stdout[stdout.index("== Summary"):]
    assert "BAD" not in summary, summary
    assert summary.count(" ok ") == DEMO_CHECKS, summary
    return summary
