"""The group-class kiosk at ``/kiosk``: the station's own screen, or a TV, shown to the class.

``views`` is the blueprint and its limited access, ``view`` what the screen
shows (worked out from the live events, with the coaching cues of
:mod:`station.cues`), ``settings`` the roster and switches a clinician sets,
and ``speech`` the spoken cues through the station's voice for a web app
that speaks by itself (``KIOSK_SPEECH``; inside ``wallhinge run`` the
station speaks them, :mod:`station.voice`).
"""

from web.kiosk.views import COOKIE, bp, init_app

__all__ = ["COOKIE", "bp", "init_app"]
