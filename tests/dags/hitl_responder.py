"""Answer one Human-in-the-loop request the way the Airflow UI does, for `airflow dags test` runs in the tests.

`airflow dags test` parks a HITL task in `awaiting_input` and waits for a response recorded "from outside" (the
Required Actions page or the HITL REST API of an api-server on the same metadata DB). Starting an api-server with
authentication for a test is heavy, so this script performs what that endpoint does
(`api_fastapi/core_api/routes/public/hitl.py::update_hitl_detail`): write the chosen option, the time and the user
onto the task's HITL detail and hand the response to `handle_event_submit`, which resumes the task. It runs in its
own process with the test's AIRFLOW_HOME, polling until the request appears.

Usage: python hitl_responder.py DAG_ID TASK_ID OPTION [TIMEOUT_SECONDS [USER]]  (USER: who answers, as the UI
would record the signed-in user; default test-approver)
"""

from __future__ import annotations

import sys
import time


def respond(dag_id: str, task_id: str, option: str, timeout: float, user: str = "test-approver") -> None:
    from airflow._shared.timezones import timezone
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TriggerEvent
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with create_session() as session:
            ti = session.scalars(select(TaskInstance).where(
                TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id,
                TaskInstance.state == TaskInstanceState.AWAITING_INPUT)).first()
            detail = session.scalars(select(HITLDetail).where(HITLDetail.ti_id == ti.id)).first() if ti else None
            if ti is not None and detail is not None:
                print(f"answering {dag_id}.{task_id} with {option!r}; request body:\n{detail.body}", flush=True)
                detail.responded_by = {"id": user, "name": user}
                detail.responded_at = timezone.utcnow()
                detail.chosen_options = [option]
                detail.params_input = {}
                session.add(detail)
                handle_event_submit(TriggerEvent(detail.as_resume_event_payload()), task_instance=ti,
                                    session=session)
                return
        time.sleep(1)
    raise SystemExit(f"no HITL request for {dag_id}.{task_id} within {timeout} s")


if __name__ == "__main__":
    respond(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 600,
            *sys.argv[5:6])
