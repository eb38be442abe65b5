"""Do-not-call lists (CONTRACT §8): which numbers the bot's DNC lists hold, unexpired."""
