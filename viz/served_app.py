"""The app `roundtrip viz` serves: viz/app.py's page on a locked-down server.

Solara imports this file at start-up, inside the server process, before the first request:
the moment to remove /resourcez and confine the CDN proxy to the local asset cache
(`viz.serve.lock_down`).
"""

from viz.app import Page  # noqa: F401  (solara serves the module's Page)
from viz.serve import lock_down

lock_down()
