"""Record checks, reason codes, quarantine and the Great Expectations suites."""
