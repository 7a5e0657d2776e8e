"""The mailbox source of `tracker pull`: districts e-mail sheets to an IMAP mailbox (docs/portal-and-mailbox.md §8).

``message`` reads an e-mail (pure), ``senders`` is the rule of who may send a district's sheet (pure),
``imap`` opens the connection, ``source`` fetches new messages, runs each sheet through intake and moves
the message, ``reply`` sends the sender a receipt with the accepted figures.
"""
