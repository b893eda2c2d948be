"""Coverage-guided fuzzing harnesses (atheris): see README "Fuzzing" and tests/fuzz/run.py."""
