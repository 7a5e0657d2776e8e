"""Mail: every e-mail goes through the outbox (built once, delivered exactly once).

Modules: ``compose`` (RFC 5322 bytes from plain data), ``outbox`` (the table: enqueue, claim, record),
``delivery`` (SMTP through yagmail, or .eml files; ``deliver_pending``), ``messages`` (plan → build →
enqueue → deliver a send, and the texts of reminders and rejection notices from plain data).

This area knows no report and no sheet: the workflows (:mod:`tracker.workflows.sending`,
:mod:`tracker.workflows.notices`) build the weekly report, the review pack or the template and hand
the bytes over.
"""
