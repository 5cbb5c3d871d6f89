"""The group-class kiosk at ``/kiosk``: the station's own screen, or a TV, shown to the class.

``views`` is the blueprint and its limited access, ``view`` what the screen
shows (worked out from the live events), ``cues`` the coaching tips,
``settings`` the roster and switches a clinician sets, and ``speech`` the
spoken cues through the station's voice.
"""

from web.kiosk.views import COOKIE, bp, init_app

__all__ = ["COOKIE", "bp", "init_app"]
