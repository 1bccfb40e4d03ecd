"""What Parley measures about each room, without changing the flow (observers only)."""
