"""What a campaign's own Kore.ai settings say about dialing it (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contactlists.dialer import windows
from contactlists.dialer.schedule import Schedule
from contactlists.models.campaigns import Campaign


@dataclass(frozen=True)
class Strategy:
    """The campaign's attempt rules, order, calling hours and schedule."""

    max_attempts: int
    retry: timedelta
    lifo: bool
    calling_hours: dict[str, Any]
    schedule: Schedule | None

    @property
    def zone(self) -> str:
        return str(self.calling_hours["timezone"])

    def open(self, now: datetime) -> bool:
        """Whether the campaign dials at ``now``: inside its calling hours and its schedule."""
        if not windows.campaign_open(self.calling_hours, now):
            return False
        return self.schedule is None or self.schedule.open(now)

    @classmethod
    def of(cls, campaign: Campaign) -> Strategy:
        strategy = campaign.document.get("dialingStrategy", {})
        calling_hours = dict(strategy["callingHours"])
        # SMS campaigns carry no attempt rules: one message per contact.
        return cls(
            max_attempts=int(strategy.get("maxAttemptsPerRecord", 1)),
            retry=timedelta(minutes=int(strategy.get("defaultRetryPeriod", 60))),
            lifo=strategy.get("dialingOrder") == "LIFO",
            calling_hours=calling_hours,
            schedule=Schedule.of(
                campaign.document.get("schedule", {}), windows.zone(calling_hours["timezone"])
            ),
        )
