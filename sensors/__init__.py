"""Sensors and the jobs and schedules they launch: what the daemon evaluates every few seconds to start
runs (registry.py lists the sensors, jobs.py the jobs, schedules.py the schedules).

This layer sits above the assets and below `pipelines/`: a module here imports assets and resources,
never `pipelines`."""
