"""A broken progress callback costs one warning line, with its traceback only in debug logging."""

from __future__ import annotations

import logging

import pytest

from provider_store import ProviderConfig, ProviderStore
from provider_store.discovery.run_report import ProgressEvent
from provider_store.resolution.manager import ProviderManager


def broken(event: ProgressEvent) -> None:
    raise RuntimeError("display broke")


def test_debug_logging_adds_the_traceback(
    store: ProviderStore, stored_provider: ProviderConfig, caplog: pytest.LogCaptureFixture
) -> None:
    manager = ProviderManager(store=store)
    with caplog.at_level(logging.DEBUG, logger="provider_store"):
        report = manager.discover(progress=broken)
    manager.close()
    assert report.ok
    failures = [r for r in caplog.records if "progress callback failed" in r.getMessage()]
    assert failures and all(r.exc_info for r in failures)
