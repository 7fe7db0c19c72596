"""Errors of the ML layer that a page or the CLI can show to a user as they are."""

from __future__ import annotations


class TrainingDataError(ValueError):
    """The data cannot be trained on (or read) as given; the message says what is wrong and what to fix."""
