"""Fixtures: a fresh SQLite file and a real server on 127.0.0.1 for each test that needs one."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.browser_support import chromium, host_site, knowledge, tab  # noqa: F401 (browser fixtures)
from tests.fakes.llm import RunningFakeLLM, start_fake_llm
from tests.support import Api, LiveServer, make_settings, start_server

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with settings overrides; each gets its own data dir under tmp_path."""
    started: list[LiveServer] = []

    def start(**overrides) -> LiveServer:
        data_dir = tmp_path / f"data{len(started)}"
        live = start_server(make_settings(data_dir, **overrides))
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture
def server(server_factory) -> LiveServer:
    return server_factory()


@pytest.fixture
def client_factory(server: LiveServer) -> Iterator[Callable[[], Api]]:
    clients: list[Api] = []

    def make() -> Api:
        client = Api(server.url)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(client_factory) -> Api:
    return client_factory()


@pytest.fixture
def owner(api: Api) -> Api:
    """A client logged in as the instance owner, admin of workspace 'Acme'."""
    api.setup_owner()
    return api


@pytest.fixture(scope="session", autouse=True)
def built_widget() -> None:
    """The minified widget, built from widget/ as ./scripts/serve does, before any server starts."""
    from modelpilot.widget.build import write_build

    write_build()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[RunningFakeLLM]:
    """An OpenAI-compatible server on 127.0.0.1 (see tests/fakes/llm.py for its magic words);
    use `fake_llm.url` as a provider's api_base."""
    running = start_fake_llm()
    yield running
    running.stop()
