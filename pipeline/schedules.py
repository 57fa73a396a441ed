"""The weekly refresh. Stopped until a user starts it in the UI (or `dagster schedule start`)."""

import dagster as dg

from pipeline.jobs import refresh_job

weekly_refresh = dg.ScheduleDefinition(
    name="weekly_refresh",
    job=refresh_job,
    cron_schedule="0 3 * * 1",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Mondays 03:00 UTC: fetch every live source, then publish a release.",
)
