"""The per-user event log and the typed catalogue of websocket frames (a platform module).

`types` names every frame of the /ws/ contract; `publish` writes per-user events in the
caller's transaction and delivers them after commit. Apps build catalogue objects and
publish them here; `realtime` owns the sockets that carry them.
"""
