"""Wire shape of a list in the trash (an extension; pydantic only)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from contactlists.schemas import Timestamp

# The most lists one answer shows; the most recently deleted first.
TRASH_LIMIT = 200


class TrashedList(BaseModel):
    """A deleted list that can be restored until ``purgeAfter``."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str = Field(alias="_id")
    name: str
    listType: str
    totalRecordCount: int
    deletedAt: Timestamp
    purgeAfter: Timestamp
