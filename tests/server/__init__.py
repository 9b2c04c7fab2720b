"""Tests of ``screening serve``: the app through httpx's ASGI transport, and a real uvicorn for end-to-end."""
