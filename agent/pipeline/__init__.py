"""Pipelines: what turns a room config's `pipeline` into livekit-agents components."""
