"""Participants played over HTTP (requests) or in process (Starlette's TestClient), as a
browser without JavaScript would: open the start link, submit forms, reload wait pages."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

WAIT_PAGE_HEADER = "oTree-Wait-Page"


@dataclass
class Participant:
    client: Any  # requests.Session or starlette.testclient.TestClient
    base_url: str
    code: str
    response: Any = None
    statuses: list[int] = field(default_factory=list)

    def _record(self, response: Any) -> Any:
        self.statuses.extend(r.status_code for r in [*response.history, response])
        self.response = response
        return response

    def start(self) -> Participant:
        self._record(self.client.get(f"{self.base_url}/InitializeParticipant/{self.code}", timeout=60))
        return self

    @property
    def page(self) -> str:
        html = self.response.text
        if self.response.headers.get(WAIT_PAGE_HEADER):
            return "wait"
        if 'id="id_advice"' in html:
            return "Choice"
        if 'id="results"' in html:
            return "Results"
        return "unknown"

    def choose(self, choice: str, advice: str) -> Any:
        assert self.page == "Choice", self.response.text[:500]
        return self._record(self.client.post(self.response.url, data=dict(choice=choice, advice=advice), timeout=60))

    def reload(self) -> Any:
        return self._record(self.client.get(self.response.url, timeout=60))

    def wait_for(self, page: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.page != page:
            if time.monotonic() > deadline:
                raise AssertionError(f"participant {self.code} stuck on {self.page}, not {page}")
            time.sleep(0.05)
            self.reload()

    @property
    def server_errors(self) -> list[int]:
        return [s for s in self.statuses if s >= 500]
