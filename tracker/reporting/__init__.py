"""What the cluster head and the review meeting look at: the weekly report and the review pack.

Public entry points (each reads the database once, writes its files, returns their paths):

- :func:`tracker.reporting.weekly.build_weekly` → :class:`~tracker.reporting.weekly.WeeklyReport`
  (workbook, chart PNGs with Content-IDs, e-mail subject, HTML body and plain-text alternative);
- :func:`tracker.reporting.review.build_review` → :class:`~tracker.reporting.review.ReviewPack`
  (PDF, PPTX, PNGs, data workbook, draft report text as .md and .docx, a short e-mail).

Every number comes from :mod:`tracker.progress` (via :mod:`tracker.standing`); nothing here applies a
rule of its own. Modules: ``source`` (database → :class:`~tracker.reporting.data.ReportData`),
``charts`` (matplotlib figures), ``xlsx`` (workbooks), ``review_book`` (the review pack's sheet against
the same period last year), ``narrative`` (draft text), ``pdf``, ``slides``, ``wording`` (shared words and
names, the change against last year, a closed period's lines), ``palette`` (one colour per status),
``templates/`` (e-mails).
Heavy libraries are imported by the modules that draw or write, never by this package.
"""
