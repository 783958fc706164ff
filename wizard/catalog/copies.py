"""Each worker's copies of the catalog apps that setups use, each kept under the app's updated_at.

Every step request needs its setup's app (its signature, its boxes). Reading the whole row with the setup
cost more than the rest of that statement (two JSON columns and twenty fields to convert). So the setup's
statement reads only the app's updated_at, and a copy read at that updated_at is the row itself: every
change, through the admin or the loader, saves the row and so moves updated_at. Copies are shared by the
worker's threads, which only read them.
"""

from wizard import db

from .models import Platform

_copies: dict[int, tuple[object, Platform | None]] = {}


def platform(pk: int, updated_at) -> Platform | None:
    """The app ``pk`` as it was at ``updated_at`` (as the database returned it); None if it is gone."""
    held = _copies.get(pk)
    if held is not None and held[0] == updated_at:
        return held[1]
    found = db.get(Platform, pk)
    _copies[pk] = (updated_at, found)
    return found
