"""Test tooling for camera streams: synthetic videos, a real RTSP server, MJPEG and silent servers.

The stream layer must be tested against what production meets (an RTSP camera that drops
off the network, an HTTP camera, a host that never answers), not against mocks of OpenCV.
Everything here is built at test time from package-shipped images, so the suite runs from a
clone plus the Debian packages in ``.ci/system-packages``. The lead's pipeline tests reuse
the same helpers.
"""
