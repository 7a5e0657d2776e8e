"""Official documents in the state's administrative format (Nghị định 30/2020/NĐ-CP, Appendix I).

- :mod:`tracker.documents.official` — the document model (plain data: a report ``BÁO CÁO`` or minutes
  ``BIÊN BẢN``, its sections, lists, marked places ``[...]``, tables and annexes) and
  :func:`~tracker.documents.official.write_official`, the one writer of the .docx layout
  (docs/outputs.md §10).

Callers build the model from their own data and pass ``settings.documents`` (docs/config.md §15); nothing
here reads the database or the clock.
"""
