"""The web console: a small client-side app, served as static files, that calls the public API.

Only its sign-in (``POST /console/token``) runs on the server: it turns an app's client id and
secret into a short-lived token, once; every other request the console makes is an ordinary
API request with that token in the ``auth`` header.
"""
