"""The lamps' patterns by name, and what each says: the one list the feedback, the live page and the kiosk share.

:mod:`station.feedback` plays these patterns on the lamps and the buzzer
(:meth:`~station.feedback.Feedback.state` reports the one showing by its
name here); the dashboard's live page says them in a clinician's words, and
the kiosk in a participant's, with a symbol so colour is never the only sign.
A rep that just ended shows ``good_rep``, ``fault_rep`` or, for a rounded
back, ``rounded_back_rep``: one word for each state, whichever side says it.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["LAMP_PATTERNS", "LampWords", "clinician_words", "participant_words"]


class LampWords(NamedTuple):
    """What a lamp pattern says: to a clinician (live page), to a participant (kiosk), and its symbol."""

    clinician: str
    participant: str
    symbol: str


#: Every pattern the lamps show, in the order the station goes through them.
LAMP_PATTERNS = {
    "getting_ready": LampWords("Getting ready", "Getting ready", "…"),
    "ready": LampWords("Ready", "Ready", "●"),
    "patient_detected": LampWords("Patient at the wall", "We see you", "●"),
    "paused": LampWords("Paused", "Paused", "❚❚"),
    "good_rep": LampWords("Good rep", "Good rep", "✓"),
    "fault_rep": LampWords("Rep with a fault", "See the tip", "!"),
    "rounded_back_rep": LampWords("Rep with a rounded back", "Keep your back long", "!"),
    "set_complete": LampWords("Set complete", "Set complete", "★"),
    "trouble": LampWords("Trouble", "Please wait", "!"),
}


def clinician_words() -> dict:
    """``{pattern: words}`` for the dashboard's live page."""
    return {name: words.clinician for name, words in LAMP_PATTERNS.items()}


def participant_words() -> dict:
    """``{pattern: (words, symbol)}`` for the kiosk."""
    return {name: (words.participant, words.symbol) for name, words in LAMP_PATTERNS.items()}
