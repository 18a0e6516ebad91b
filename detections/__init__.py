"""The recognition pipeline, tracks, detections, snapshots, the live cache and the WebSocket."""
