"""Asana's batch API, `POST /batch` (specs/asana_oas.yaml, tag "Batch API", BatchRequestAction).

- Up to 10 actions; none, or more than 10, is a 400 for the whole request.
- Each action is `{relative_path, method, data, options}`: for a GET, `data` holds the query
  parameters and `options` the paging (`limit`, `offset`) and output (`fields`) options;
  query parameters inside `relative_path` are "not accepted".
- The reply is 200 with one `{status_code, headers, body}` per action, in order, even when
  actions fail; an action's error is in its own body.
- Rate limits: "a batch request counts against both the standard rate limiter and the
  concurrent request limiter as though you had made a separate HTTP request for every
  individual action … If any of the actions … would exceed any of the enforced limits,
  the entire request will fail with a 429." Emulated: the POST itself was counted once
  by the shared pipeline; the other n-1 actions are counted here, and each action is
  logged (outcome "batched") so tests can count what a batch did.
- Only GET actions are emulated (the source only reads through it); writes answer 400 for
  that action. Uploading attachments is refused by the real API too.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from sandbox.http import HTTPError, LogEntry, Request, Response

MAX_ACTIONS = 10


class AsanaBatch:
    """Mixed into AsanaEmulator (needs `match`, `limits`, `log`, the route handlers)."""

    def _batch(self, request: Request) -> Any:
        body = request.json()
        actions = (body.get("data") or {}).get("actions") if isinstance(body, dict) else None
        if not isinstance(actions, list) or not actions:
            raise HTTPError(400, "actions: Missing input")
        if len(actions) > MAX_ACTIONS:
            raise HTTPError(400, f"actions: You may only specify up to {MAX_ACTIONS} actions")
        if not self._charge_actions(len(actions) - 1):
            return self.too_many_requests(request, self.window_retry_after(), "window")  # type: ignore[attr-defined]
        return {"data": [self._action(request, a) for a in actions]}

    def _charge_actions(self, extra: int) -> bool:
        """Count `extra` more requests in the standard window; False when that would exceed it."""
        limits = self.limits  # type: ignore[attr-defined]
        if limits.requests_per_window is None or extra <= 0:
            return True
        now = time.monotonic()
        with self._inflight_lock:  # type: ignore[attr-defined]
            window = self._window  # type: ignore[attr-defined]
            window.extend([now] * extra)  # rejected requests count too, as on the real service
            return len(window) <= limits.requests_per_window

    def _action(self, parent: Request, action: Any) -> dict[str, Any]:
        if not isinstance(action, dict) or not action.get("relative_path"):
            return _result(400, {"errors": [{"message": "relative_path: Missing input"}]})
        method = str(action.get("method") or "").upper()
        path = str(action["relative_path"])
        if method != "GET" or "?" in path:
            return _result(400, {"errors": [{"message": "action not supported by the sandbox"}]})
        query = {k: [str(v)] for k, v in (action.get("data") or {}).items()}
        options = action.get("options") or {}
        for key in ("limit", "offset"):
            if options.get(key) is not None:
                query[key] = [str(options[key])]
        if options.get("fields"):
            query["opt_fields"] = [",".join(options["fields"])]
        full_path = self.api_prefix + path  # type: ignore[attr-defined]
        sub = Request("GET", full_path, query, parent.headers, b"", token=parent.token)
        found = self.match("GET", full_path)  # type: ignore[attr-defined]
        if found is None:
            response = self.not_found_route(sub)  # type: ignore[attr-defined]
        else:
            sub.route, sub.params = found[0].template, found[1]
            try:
                result = found[0].handler(sub)
                response = result if isinstance(result, Response) else Response(200, result)
            except HTTPError as e:
                response = self.error(e.status, e.message, **e.extra)  # type: ignore[attr-defined]
        self.log.add(  # type: ignore[attr-defined]
            LogEntry(
                at=time.monotonic(),
                service="asana",
                method="GET",
                route=sub.route or "?",
                path=full_path,
                status=response.status,
                outcome="batched",
                token=parent.token,
                query=urlencode({k: v[0] for k, v in query.items()}),
            )
        )
        return _result(response.status, response.body)


def _result(status: int, body: Any) -> dict[str, Any]:
    return {"status_code": status, "headers": {}, "body": body}
