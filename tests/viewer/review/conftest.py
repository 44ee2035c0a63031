"""Fixtures for the review tests: a fresh store and a series with stored AI findings."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_fixtures import add_screened_series

from viewer.review.store import Store


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "nodulelens.db"


@pytest.fixture
def store(store_path: Path):
    with Store(store_path) as s:
        yield s


@pytest.fixture
def screened(store: Store) -> str:
    return add_screened_series(store)
