"""The process-level HTTP serving of ``contactlists serve``: uvicorn, within bounds.

- :mod:`.limits`: the open-file limit, raised where allowed, and the connection cap fitted
  to it;
- :mod:`.protocol`: uvicorn's h11 protocol with a header timeout and the cap;
- :mod:`.logflood`: the lines asyncio and uvicorn write about broken connections, bounded;
- :mod:`.runner`: uvicorn's server with all of it.
"""
