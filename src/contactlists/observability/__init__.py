"""What an operator sees of a running service: Prometheus metrics and structured logs.

- :mod:`.metrics`: the collectors (one registry per app) and the ``/metrics`` route;
- :mod:`.logs`: JSON or text log lines, carrying the request id and the caller;
- :mod:`.middleware`: one ASGI middleware that times every request, counts it by route
  template and writes its access-log line.
"""
