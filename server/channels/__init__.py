"""Real time: the event log, the per-session hub, and the WebSocket and long-poll transports."""
