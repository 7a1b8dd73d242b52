"""A web process keeps its database connection between requests (CONN_MAX_AGE). When PostgreSQL
drops it (a restart, a failover, an idle timeout), the next request must reconnect, not answer
500: CONN_HEALTH_CHECKS tests a reused connection before the request's first query.

The requests go through Django's real WSGI handler in this thread, as gunicorn calls it, because
the test client switches off the connection handling around each request."""

from __future__ import annotations

import io
import os

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from health.services_keys import create_api_key

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (DATABASE_URL)",
)


def wsgi_get(path, headers):
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
    }
    status = []
    body = WSGIHandler()(environ, lambda code, _headers: status.append(code))
    body.close()  # as the server does: request_finished, which keeps or closes the connection
    return int(status[0].split()[0])


def terminate(backend_pid):
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("select pg_terminate_backend(%s)", [backend_pid])


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_is_replaced_before_the_next_request():
    assert connection.settings_dict["CONN_MAX_AGE"] > 0  # connections are kept: the risky case
    key = create_api_key(name="product", actor=None).key
    headers = {"Authorization": f"Bearer {key}"}
    # The API's health endpoint looks the key up, so each request queries the database.
    assert wsgi_get("/api/v1/accounts/nobody/health", headers) == 404
    kept = connection.connection
    assert kept is not None and not kept.closed  # kept for the next request
    terminate(kept.info.backend_pid)

    assert wsgi_get("/api/v1/accounts/nobody/health", headers) == 404
    assert connection.connection is not kept
