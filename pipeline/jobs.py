"""Independent jobs of one stage, and how a stage hands them to whoever runs them.

Decide and publish split their work into jobs that touch disjoint files (one commodity's decisions, one
recipient group's CSVs) and return small results. They do not choose how the jobs run: that is the flow's
business (`pipeline.flows.processes.run_forked` runs them in forked processes, one per core), and the layers
forbid a stage to import a flow. So a stage takes a `RunJobs` and defaults to `run_in_order`, which runs the
jobs one after the other in this process — what a test, one worker or an environment without `fork` gets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Job = tuple[str, Callable[[], Any]]
RunJobs = Callable[[Sequence[Job]], dict[str, Any]]


def run_in_order(jobs: Sequence[Job]) -> dict[str, Any]:
    """Every job's result by name, the jobs run one after the other here; the first failure is raised."""
    return {name: job() for name, job in jobs}
