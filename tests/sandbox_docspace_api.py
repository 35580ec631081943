"""A bare DocSpace HTTP client for the sandbox tests (real requests, no product code)."""

from __future__ import annotations

from typing import Any

import requests


class DocSpaceApi:
    """Talks to one DocSpace emulator over HTTP as a user of the API key would."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.emulator = service.emulator
        self.base = service.base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {service.credentials['api_key']}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=10, **kwargs)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        return self.call("POST", path, json=body or {})

    def put(self, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        return self.call("PUT", path, json=body or {})

    def delete(self, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        return self.call("DELETE", path, json=body or {})

    def ok(self, response: requests.Response) -> Any:
        """The `response` of a successful envelope."""
        assert response.status_code == 200, (response.status_code, response.text[:500])
        body = response.json()
        assert body["status"] == 0
        return body.get("response")

    def create_room(self, title: str, room_type: int | str = "EditingRoom", **extra: Any) -> dict:
        return self.ok(self.post("/files/rooms", {"title": title, "roomType": room_type, **extra}))

    def create_folder(self, parent_id: int, title: str) -> dict:
        return self.ok(self.post(f"/files/folder/{parent_id}", {"title": title}))

    def room_titles(self, **params: Any) -> list[str]:
        return [f["title"] for f in self.ok(self.get("/files/rooms", **params))["folders"]]
