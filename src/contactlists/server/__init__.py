"""Serving HTTP: uvicorn with bounds of our own on connections, headers and its error log.

uvicorn closes an idle keep-alive connection, but not one that never finishes its request's
headers, and it accepts connections until the process runs out of file descriptors; asyncio then
logs an error line for every connection it cannot serve. :mod:`.protocol` bounds the first two,
:mod:`.flood` the third, and :func:`run` puts them together for ``contactlists serve``.
"""

from contactlists.server.run import run

__all__ = ["run"]
