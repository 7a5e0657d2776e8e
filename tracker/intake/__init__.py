"""Intake: reading district workbooks safely, checking them cell by cell, storing accepted figures."""
