"""The REST API (issue 17): FastAPI over the same core functions and permissions as the pages.

Kept free of imports here so the Account page can use `core.api.keys` without loading FastAPI.
"""
