"""Workflows: what combines the areas — each one a few steps over intake, reporting, mail and mailbox.

- :mod:`~tracker.workflows.pull` — `tracker pull`: every source (the inbox folder, the mailbox), and
  the rejection notice for each sheet that is not accepted;
- :mod:`~tracker.workflows.mailbox_source` — the mailbox source: each attachment through the intake,
  the verdict back to the sender, the message moved;
- :mod:`~tracker.workflows.sending` — the weekly report, the review pack and the reminders: build the
  report or the template (reporting, intake), then hand plain data to the outbox (mail);
- :mod:`~tracker.workflows.notices` — the verdicts sent back: rejection notices and receipts;
- :mod:`~tracker.workflows.sample` and :mod:`~tracker.workflows.demo` — the sample sheets and `tracker demo`.

The areas never import each other, nor this package; the front doors (``tracker/cli``, ``tracker/web``,
``jobs/``) call these functions. Workflows import core and areas, never a front door
(tests/test_architecture.py holds the rule table).
"""
