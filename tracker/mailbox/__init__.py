"""The mailbox: districts e-mail sheets to an IMAP mailbox (docs/portal-and-mailbox.md §8).

``message`` reads an e-mail (pure), ``senders`` is the rule of who may send a district's sheet (pure),
``imap`` opens the connection and does the folder's steps (fetch, move), ``reply`` writes the receipt
with the accepted figures. Running each sheet through the intake and sending the verdict is the
mailbox source's, a workflow: :mod:`tracker.workflows.mailbox_source`.
"""
