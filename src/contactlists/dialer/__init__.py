"""Who may be called now (CONTRACT §9): a campaign's contacts handed to dialers, and outcomes."""
