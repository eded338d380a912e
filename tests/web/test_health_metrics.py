"""``/healthz`` and ``/metrics`` on one process (the multiprocess case is an integration test)."""

from __future__ import annotations

from engine.db import Base
from tests.conftest import make_settings
from web import create_app
from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit
from workflow.system import build_system


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_metrics_are_not_public(client):
    assert client.get("/metrics").status_code == 404  # no token configured


def test_metrics_show_request_latency_and_the_open_work_of_a_unit(system, tmp_path):
    settings = make_settings(tmp_path, operations={"metrics_token": "scrape-secret-0123456789"})
    metered = build_system(settings, system.services.now)
    Base.metadata.create_all(metered.db)
    with metered.sessions() as s:
        metered.deploy_shipped(s)
        s.commit()
    people = make_people(metered)
    life = Lifecycle(metered)
    code, serials, seals = new_subscriber(metered)
    submit(life, people, code, serials, seals, [1206])
    client = create_app(system=metered, config={"TESTING": True}).test_client()
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    client.get("/healthz")
    text = client.get(
        "/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"}
    ).get_data(as_text=True)
    assert (
        'saygac_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}'
        in text
    )
    assert 'saygac_open_work_items{role="operator",sla="within",unit="1"} 1.0' in text
    assert 'saygac_process_instances{state="waiting",version="1"} 1.0' in text
    metered.db.dispose()
