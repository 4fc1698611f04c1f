"""The batch writer belongs to the event loop its app's lifespan started it on. A request served on
another loop (a test client without lifespan beside one with it, a script) must still be stored,
not wait forever on a queue that loop never reads."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from tests.bench.bench_http import ANSWERS


@pytest.mark.timeout(60)
def test_a_response_sent_on_another_event_loop_is_stored(app, demo) -> None:  # type: ignore[no-untyped-def]
    from consult.app import writer

    with TestClient(app, base_url="http://testserver") as with_lifespan:  # the writer runs on its loop
        assert writer.task is not None and not writer.task.done()
        other_loop = TestClient(app, base_url="http://testserver")  # a new loop for each request
        body = {"client_uuid": str(uuid.uuid4()), "language": "sv", "answers": ANSWERS}
        sent = other_loop.post("/api/surveys/vasternorrland-2030/responses", json=body)
        assert sent.status_code == 201 and sent.json()["receipt"]
        again = with_lifespan.post("/api/surveys/vasternorrland-2030/responses", json=body)
        assert again.status_code == 200 and again.json()["receipt"] == sent.json()["receipt"]
