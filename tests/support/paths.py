"""The URLs of CONTRACT §1 for each path family."""

from __future__ import annotations

from dataclasses import dataclass

V1_PREFIX = "/agentassist/api/v1/public/{bot}/campaign"
V2_PREFIX = "/campaign/api/v2/public/{bot}/campaign"


@dataclass(frozen=True)
class Paths:
    family: str
    bot: str

    @property
    def prefix(self) -> str:
        return (V1_PREFIX if self.family == "v1" else V2_PREFIX).format(bot=self.bot)

    @property
    def create(self) -> str:
        return f"{self.prefix}/contactList/createContactList"

    @property
    def get_all(self) -> str:
        return f"{self.prefix}/contactList/getAllListDetails"

    def list(self, list_id: str) -> str:
        return f"{self.prefix}/contactList/{list_id}"
