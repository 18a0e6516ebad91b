"""Cameras, their encrypted credentials, status and heartbeats, and the stream supervisor."""
