"""The web portal: districts upload their sheet and see the verdict; the cluster head sees the dashboard.

:func:`tracker.web.app.create_app` builds the FastAPI application; `tracker web` serves it with uvicorn
(:mod:`tracker.web.server`). The pages: :mod:`tracker.web.district` and :mod:`tracker.web.head`, over the
shared :class:`tracker.web.portal.Portal`.
"""
