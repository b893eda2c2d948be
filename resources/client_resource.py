"""`ApiClientResource`: the Dagster resource every API client's resource is (eBay, Amazon, JTL-FFN,
CodesWholesale, Letzshop), with the bounds each client keeps (resources.http_limits) as configuration."""
from __future__ import annotations

from dagster import ConfigurableResource

from marketsync.resources.http_limits import (
    DEFAULT_MAX_ANSWER_MIB,
    DEFAULT_MAX_PAGES,
    DEFAULT_PAGING_DEADLINE_SECONDS,
    Limits,
)


class ApiClientResource(ConfigurableResource):
    """An API client's resource: `limits()` are the bounds of the sessions it opens."""

    max_answer_mib: float = DEFAULT_MAX_ANSWER_MIB  # an answer larger than this is refused while it streams
    max_pages: int = DEFAULT_MAX_PAGES  # per paging sequence
    paging_deadline_seconds: float = DEFAULT_PAGING_DEADLINE_SECONDS  # per paging sequence

    def limits(self) -> Limits:
        """The bounds of one session: answer size, pages and time per paging sequence."""
        return Limits(self.max_answer_mib, self.max_pages, self.paging_deadline_seconds)
