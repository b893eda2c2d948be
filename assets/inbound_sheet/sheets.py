"""The Google Sheets resource the inbound check reads the operations team's sheet through."""
from __future__ import annotations

import os

from dagster import EnvVar

from marketsync.resources.google_sheets import SHEETS_URL, GoogleSheetsResource


def sheets_resource() -> GoogleSheetsResource:
    """Production: a service account's key JSON in GOOGLE_SHEETS_SERVICE_ACCOUNT_JSON (read by Dagster at
    run time, never shown in the UI). The sandbox: MARKETSYNC_SHEETS_URL and MARKETSYNC_SHEETS_TOKEN."""
    base_url = os.environ.get("MARKETSYNC_SHEETS_URL") or SHEETS_URL
    if os.environ.get("GOOGLE_SHEETS_SERVICE_ACCOUNT_JSON"):
        return GoogleSheetsResource(service_account_json=EnvVar("GOOGLE_SHEETS_SERVICE_ACCOUNT_JSON"),
                                    base_url=base_url)
    token = EnvVar("MARKETSYNC_SHEETS_TOKEN") if os.environ.get("MARKETSYNC_SHEETS_TOKEN") else None
    return GoogleSheetsResource(bearer_token=token, base_url=base_url)
