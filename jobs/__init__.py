"""The scheduled jobs of a cluster (docs/schedule.md).

- :mod:`jobs.tasks` — the jobs (pull, weekly-report, reminders, review-pack, outbox): ``execute()``,
  ``run_scheduled()`` (what APScheduler calls) and ``run_cycle()`` (the demo's weekly cycle).
- :mod:`jobs.periods` — which week / half-year a run covers, and when the cluster year makes it skip.
- :mod:`jobs.scheduler` — APScheduler built from the config, its job store in the project database.
- :mod:`jobs.lock` — one scheduler per cluster and database; one run of a job at a time.
- :mod:`jobs.runs` — the ``JobRun`` record of every run.
"""
