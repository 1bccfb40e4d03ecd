"""Parley: a LiveKit agent worker that runs a realtime model or a cascade, chosen per room."""
