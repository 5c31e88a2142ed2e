"""The one read-through client: ids URL-escaped, the caller's token only over TLS or to loopback, failures a 503."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from runtime.config import Config
from runtime.contract import HttpRequest
from runtime.errors import Unavailable
from runtime.readthrough import GroupClient

CALLER = HttpRequest("GET", "/x", {"authorization": "Bearer secret-token"}, {}, b"")


@pytest.fixture
def server():
    """A group's query function on loopback that records what it was asked and answers by path."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append({"path": self.path, "host": self.headers.get("Host"),
                         "authorization": self.headers.get("Authorization")})
            status = 404 if "missing" in self.path else 500 if "broken" in self.path else 200
            body = b'{"id": "found"}' if status == 200 else b"{}"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()


def test_ids_are_escaped_into_one_path_segment(server):
    url, seen = server
    client = GroupClient("users", url, host_header="users.localhost")

    assert client.get("/{}", "a/../b?x=1#y") == {"id": "found"}

    assert seen == [{"path": "/a%2F..%2Fb%3Fx%3D1%23y", "host": "users.localhost", "authorization": None}]


def test_the_callers_token_goes_to_loopback_and_tls_only(server):
    url, seen = server
    GroupClient("events", url).get("/{}", "e1", caller=CALLER)

    assert seen[0]["authorization"] == "Bearer secret-token"
    assert GroupClient("events", "https://events.example.org").may_forward_tokens
    assert not GroupClient("events", "http://events.example.org").may_forward_tokens
    assert not GroupClient("events", "http://10.0.0.7:8080").may_forward_tokens


def test_missing_is_none_and_failures_are_unavailable(server, closed_port):
    url, _ = server
    client = GroupClient("events", url)

    assert client.get("/{}", "missing") is None
    with pytest.raises(Unavailable):
        client.get("/{}", "broken")
    with pytest.raises(Unavailable):
        GroupClient("events", f"http://127.0.0.1:{closed_port}").get("/{}", "x")


def test_where_a_group_answers_comes_from_configuration():
    configured = GroupClient.from_config(Config({"EVENTS_URL": "http://127.0.0.1:9", "EVENTS_HOST": "events.localhost"}),
                                         "events")
    default = GroupClient.from_config(Config({"PUBLIC_HOST": "eventonight.example"}), "users")

    assert (configured.base_url, configured.host_header) == ("http://127.0.0.1:9", "events.localhost")
    assert (default.base_url, default.host_header) == ("https://users.eventonight.example", None)
