"""Log lines are JSON with the ids of their context: a request's id reaches the job it created."""

from __future__ import annotations

import json
import logging

from engine import jobs, logs
from engine.runtime import ENGINE_QUEUE, RUN_TASK_JOB
from worker.jobs import execute


def test_the_request_id_is_echoed_or_made(client):
    given = client.get("/healthz", headers={"X-Request-ID": "proxy-req-0001"})
    assert given.headers["X-Request-ID"] == "proxy-req-0001"
    insane = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert (
        insane.headers["X-Request-ID"] != "<script>" and len(insane.headers["X-Request-ID"]) == 32
    )


def test_a_job_logs_as_json_with_its_id_and_the_request_that_created_it(system, capsys):
    logs.configure(json_lines=True)
    try:
        logs.bind(request_id="req-abcdef12", actor_id=7)
        with system.sessions() as s:
            job = jobs.enqueue(
                s,
                RUN_TASK_JOB,
                {"instance_id": 2_000_000, "task_id": "none"},
                queue=ENGINE_QUEUE,
                now=system.services.now(),
            )
            s.commit()
            job_id = job.id
        logs.clear()
        assert (
            execute(system, job_id)[0] == "pending"
        )  # no such instance: the attempt fails and is retried
        lines = [
            json.loads(line)
            for line in capsys.readouterr().err.splitlines()
            if line.startswith("{")
        ]
        failed = [line for line in lines if line.get("event", "").startswith(f"job {job_id}")]
        assert (
            failed and failed[0]["job_id"] == job_id and failed[0]["request_id"] == "req-abcdef12"
        )
        assert failed[0]["actor_id"] == 7 and failed[0]["level"] == "error"
    finally:
        logs.clear()
        logging.getLogger().handlers.clear()
