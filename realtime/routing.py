"""Websocket routes. The /ws/ consumer is built by the real-time layer."""

websocket_urlpatterns: list = []
