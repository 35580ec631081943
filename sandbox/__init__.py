"""Local emulators of Asana, Trello and ONLYOFFICE DocSpace, served over real HTTP.

    with Sandbox() as sb:               # three servers on 127.0.0.1, ephemeral ports
        sb.asana.base_url, sb.asana.token
        sb.asana.emulator.add_project(...)   # arrange
        sb.docspace.emulator.rooms()         # inspect
        sb.docspace.emulator.log.count("POST")

Each service is an :class:`~sandbox.http.Emulator` (state, routes, faults, limits,
request log) behind an :class:`~sandbox.http.EmulatorServer`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.http import Emulator, EmulatorServer, FaultRule, Faults, HTTPError, Limits, RequestLog

ASANA_TOKEN = "sandbox-asana-pat"
TRELLO_KEY = "sandbox-trello-key"
TRELLO_TOKEN = "sandbox-trello-token"
DOCSPACE_API_KEY = "sk-sandbox-docspace"


@dataclass
class Service:
    """A running emulator: where it listens and how to authenticate."""

    server: EmulatorServer
    credentials: dict[str, str]

    @property
    def emulator(self) -> Emulator:
        return self.server.emulator

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def root_url(self) -> str:
        return self.server.root_url

    @property
    def log(self) -> RequestLog:
        return self.emulator.log

    @property
    def faults(self) -> Faults:
        return self.emulator.faults

    @property
    def token(self) -> str:
        return next(iter(self.credentials.values()))


class Sandbox:
    """All three emulators, started together; a context manager."""

    def __init__(self, seed: int = 0) -> None:
        from sandbox.asana import AsanaEmulator
        from sandbox.docspace import DocSpaceEmulator
        from sandbox.trello import TrelloEmulator

        self.asana = Service(
            EmulatorServer(AsanaEmulator(seed=seed, token=ASANA_TOKEN)),
            {"access_token": ASANA_TOKEN},
        )
        self.trello = Service(
            EmulatorServer(TrelloEmulator(seed=seed, api_key=TRELLO_KEY, token=TRELLO_TOKEN)),
            {"token": TRELLO_TOKEN, "api_key": TRELLO_KEY},
        )
        self.docspace = Service(
            EmulatorServer(DocSpaceEmulator(seed=seed, api_key=DOCSPACE_API_KEY)),
            {"api_key": DOCSPACE_API_KEY},
        )

    @property
    def services(self) -> list[Service]:
        return [self.asana, self.trello, self.docspace]

    def start(self) -> Sandbox:
        for s in self.services:
            s.server.start()
        return self

    def stop(self) -> None:
        for s in self.services:
            s.server.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """dlt configuration (environment variables) that points every pipeline here."""
        return {
            "SOURCES__ASANA__ACCESS_TOKEN": ASANA_TOKEN,
            "SOURCES__ASANA__BASE_URL": self.asana.base_url,
            "SOURCES__TRELLO__API_KEY": TRELLO_KEY,
            "SOURCES__TRELLO__TOKEN": TRELLO_TOKEN,
            "SOURCES__TRELLO__BASE_URL": self.trello.base_url,
            "DESTINATION__DOCSPACE__BASE_URL": self.docspace.root_url,
            "DESTINATION__DOCSPACE__API_KEY": DOCSPACE_API_KEY,
        }


__all__ = [
    "ASANA_TOKEN",
    "DOCSPACE_API_KEY",
    "TRELLO_KEY",
    "TRELLO_TOKEN",
    "Emulator",
    "EmulatorServer",
    "FaultRule",
    "Faults",
    "HTTPError",
    "Limits",
    "RequestLog",
    "Sandbox",
    "Service",
]
