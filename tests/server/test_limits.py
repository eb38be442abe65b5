"""The connection cap fitted to the open-file limit, and the limit raised where allowed."""

from __future__ import annotations

import logging
import resource
import subprocess
import sys

import pytest

from contactlists.server import limits
from contactlists.server.limits import RESERVED_FILE_DESCRIPTORS, plan


def bounds_for(max_connections: int, open_file_limit: int) -> limits.ConnectionBounds:
    return plan(
        header_timeout=10,
        keepalive_timeout=5,
        max_connections=max_connections,
        open_file_limit=open_file_limit,
    )


@pytest.mark.parametrize(
    ("open_file_limit", "backlog"),
    [(1024, 128), (4096, 512), (20000, 2048), (1048576, 2048), (256, 64)],
)
def test_the_default_cap_leaves_room_for_the_reserve_and_one_accept_burst(
    open_file_limit: int, backlog: int
) -> None:
    bounds = bounds_for(0, open_file_limit)
    assert bounds.backlog == backlog
    spare = open_file_limit - RESERVED_FILE_DESCRIPTORS - backlog
    expected = min(max(spare, limits.MIN_CONNECTIONS), limits.DEFAULT_MAX_CONNECTIONS)
    assert bounds.max_connections == expected
    assert bounds.open_file_limit == open_file_limit


def test_the_default_cap_has_a_ceiling_that_a_setting_may_pass() -> None:
    assert bounds_for(0, 1048576).max_connections == limits.DEFAULT_MAX_CONNECTIONS
    assert bounds_for(0, 4096).max_connections == 4096 - RESERVED_FILE_DESCRIPTORS - 512
    assert bounds_for(50_000, 1048576).max_connections == 50_000


def test_a_cap_below_the_fitted_one_is_kept(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "contactlists.server"):
        bounds = bounds_for(50, 20000)
    assert bounds.max_connections == 50
    assert not caplog.records


def test_a_cap_the_open_file_limit_cannot_hold_is_lowered_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, "contactlists.server"):
        bounds = bounds_for(5000, 1024)
    assert bounds.max_connections == 1024 - RESERVED_FILE_DESCRIPTORS - 128
    assert [record.getMessage() for record in caplog.records] == [
        "CONTACTLISTS_MAX_CONNECTIONS=5000 is more than the open-file limit (1024) allows; "
        "using 640"
    ]


RAISE = """
import resource
from contactlists.server.limits import raise_open_file_limit
print(raise_open_file_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def test_the_soft_limit_is_raised_to_the_hard_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 512:
        pytest.skip(f"the hard open-file limit ({hard}) leaves nothing to raise")

    def lower_soft_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    result = subprocess.run(
        [sys.executable, "-c", RAISE],
        preexec_fn=lower_soft_limit,
        capture_output=True,
        text=True,
        check=True,
    )
    reported, actual = (int(word) for word in result.stdout.split())
    assert reported == actual
    if hard == resource.RLIM_INFINITY:  # as far as the kernel allows
        assert actual in (limits.UNLIMITED_TARGET, limits.FALLBACK_TARGET)
    else:
        assert actual == hard
