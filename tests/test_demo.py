"""`make demo` end to end (on the test database, the simulator on a free port): it completes and its
figures match the simulator's seed, and running it twice gives the same figures."""
from demo_summary import assert_demo_summary


def test_demo_runs_end_to_end_twice(run_cli):
    for _ in range(2):
        code, out, err = run_cli("demo", "--port", "0")
        assert code == 0, err + out[-2000:]
        assert_demo_summary(out)
        assert "push feed: batch of 20 answered 202, a tampered copy 401" in out
