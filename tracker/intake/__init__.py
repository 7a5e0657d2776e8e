"""Intake: reading district workbooks safely, checking them cell by cell, storing accepted figures.

- ``reader`` / ``safety`` / ``_worker``: untrusted bytes → :class:`grid.WorkbookGrid`, in a limited worker process;
- ``parser``: the district report sheet (docs/sheet-format.md) → figures and findings (pure); ``history``: the warnings
  that compare a sheet with the district's earlier figures (pure); every finding is worded by the catalogue
  (:mod:`tracker.messages`) and is a :class:`tracker.findings.Finding`;
- ``ingest``: one verdict per file, stored in one transaction (``ingest_bytes``, ``ingest_many``,
  ``format_result``); ``rejection``: what a rejected file leaves in quarantine; ``files``: where bytes are kept;
- ``inbox``: the inbox folder as a source of ``tracker pull`` (running the sources is :mod:`tracker.workflows.pull`'s);
- ``table``: the table reader the sheet parser and the targets workbook share (labels, header row, columns by
  header text, cell problems; a workbook is a column spec and a row loop);
- ``template``: the district's upload workbook; ``targets_workbook``: the targets workbook (template, import).
"""
