"""contactlists: contact lists for contact-center campaigns, wire-compatible with Kore.ai."""

__version__ = "0.1.0"
