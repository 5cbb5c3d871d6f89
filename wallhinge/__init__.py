"""The station's entry points: the ``wallhinge`` command, the demo, and the station served with its dashboard.

Only this package puts the station (``station/``) and the web app (``web/``)
together: ``station/`` never imports ``web/``, and ``web/`` reads the store
and listens to the session's live events.
"""
