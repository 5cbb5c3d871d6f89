"""A gpiozero mock pin that remembers the notes played on it, for the feedback and session tests."""

from gpiozero.pins.mock import MockPWMPin


class ToneRecordingPin(MockPWMPin):
    """A PWM mock pin that records every frequency set on it: ``frequencies`` (None = silence), ``notes``."""

    def __init__(self, factory, info):
        self.frequencies = []
        super().__init__(factory, info)

    def _set_frequency(self, value):
        super()._set_frequency(value)
        self.frequencies.append(value)

    @property
    def notes(self) -> list[float]:
        """The frequencies played (Hz), silences left out."""
        return [value for value in self.frequencies if value is not None]
