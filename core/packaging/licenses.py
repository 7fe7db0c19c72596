"""Moved to core/licenses.py (licences are used by sources, market and packaging alike).

Only croissant.py and datapackage.py still import this name; drop it when they import core.licenses.
"""

from core.licenses import is_valid_license, license_ids, license_url

__all__ = ["is_valid_license", "license_ids", "license_url"]
