"""The Stripe stand-in, driven through the real ``stripe`` library: the wire format, idempotency keys, errors, the
hosted page, and webhook delivery signed and retried as Stripe does."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import stripe as stripe_lib

from localrunner.bus import wait_until
from localrunner.stripe_standin import DEV_SECRET_KEY, DEV_WEBHOOK_SECRET, StripeStandIn

pytestmark = pytest.mark.clock  # scripts/test runs it again with the clock a year ahead

PARAMS = {"mode": "payment", "success_url": "http://shop.localhost/ok?session={CHECKOUT_SESSION_ID}",
          "cancel_url": "http://shop.localhost/back", "metadata": {"orderId": "order_1"},
          "line_items": [{"quantity": 2, "price_data": {"currency": "usd", "unit_amount": 1250,
                                                        "product_data": {"name": "VIP"}}}]}


class Receiver:
    """A webhook endpoint that fails its first ``failures`` deliveries, then verifies and keeps each event."""

    def __init__(self, failures=0):
        self.failures, self.received, self.signatures = failures, [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.signatures.append(self.headers["Stripe-Signature"])
                if receiver.failures > 0:
                    receiver.failures -= 1
                    status = 500
                else:
                    event = stripe_lib.Webhook.construct_event(body, self.headers["Stripe-Signature"],
                                                               DEV_WEBHOOK_SECRET)
                    receiver.received.append(event.to_dict())
                    status = 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver(failures=2)
    yield r
    r.stop()


@pytest.fixture
def standin(receiver):
    s = StripeStandIn(webhook_url=receiver.url, retry_seconds=(0.05, 0.1, 0.2)).start()
    yield s
    s.stop()


@pytest.fixture
def client(standin):
    return stripe_lib.StripeClient(DEV_SECRET_KEY, base_addresses={"api": standin.url}, max_network_retries=0)


def test_sessions_round_trip_through_the_real_library(client):
    session = client.v1.checkout.sessions.create(params={**PARAMS, "expires_at": int(time.time()) + 1800})

    assert session.status == "open" and session.amount_total == 2500 and session.metadata.to_dict() == {
        "orderId": "order_1"}
    again = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert again.line_items.data[0].quantity == 2 and again.line_items.data[0].price.unit_amount == 1250
    assert client.v1.checkout.sessions.expire(session.id).status == "expired"
    with pytest.raises(stripe_lib.InvalidRequestError) as refused:
        client.v1.checkout.sessions.expire(session.id)
    assert refused.value.http_status == 400
    with pytest.raises(stripe_lib.InvalidRequestError) as missing:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_idempotency_keys_replay_the_first_answer_and_refuse_other_parameters(client):
    first = client.v1.checkout.sessions.create(params=PARAMS, options={"idempotency_key": "k-1"})
    second = client.v1.checkout.sessions.create(params=PARAMS, options={"idempotency_key": "k-1"})

    assert first.id == second.id
    with pytest.raises(stripe_lib.IdempotencyError):
        client.v1.checkout.sessions.create(params={**PARAMS, "metadata": {"orderId": "order_2"}},
                                           options={"idempotency_key": "k-1"})


def test_wrong_keys_and_injected_failures(standin, client):
    with pytest.raises(stripe_lib.AuthenticationError):
        stripe_lib.StripeClient("sk_test_wrong", base_addresses={"api": standin.url}).v1.checkout.sessions.create(
            params=PARAMS)
    standin.fail_creates = 1
    with pytest.raises(stripe_lib.APIError):
        client.v1.checkout.sessions.create(params=PARAMS, options={"idempotency_key": "k-2"})
    assert client.v1.checkout.sessions.create(params=PARAMS, options={"idempotency_key": "k-2"}).status == "open"


def test_paying_on_the_hosted_page_redirects_and_delivers_a_signed_webhook_with_retries(standin, client, receiver):
    session = client.v1.checkout.sessions.create(params=PARAMS)

    page = httpx.get(session.url)
    paid = httpx.post(f"{session.url}/pay")

    assert page.status_code == 200 and "25.00 USD" in page.text
    assert paid.status_code == 303 and paid.headers["location"] == f"http://shop.localhost/ok?session={session.id}"
    assert httpx.post(f"{session.url}/pay").status_code == 400  # no second payment
    assert wait_until(lambda: receiver.received, timeout=5)
    event = receiver.received[0]
    assert event["type"] == "checkout.session.completed" and event["data"]["object"]["payment_status"] == "paid"
    attempts = [d for d in standin.deliveries if d["event"] == event["id"]]
    assert [(d["attempt"], d["status"]) for d in attempts] == [(1, 500), (2, 500), (3, 200)]
    refund = client.v1.refunds.create(params={"payment_intent": event["data"]["object"]["payment_intent"]},
                                      options={"idempotency_key": "r-1"})
    assert refund.amount == 2500 and refund.status == "succeeded"
    with pytest.raises(stripe_lib.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": event["data"]["object"]["payment_intent"]})


def test_sessions_expire_at_their_time_with_a_webhook(standin, client, receiver):
    receiver.failures = 0
    session = client.v1.checkout.sessions.create(params={**PARAMS, "expires_at": int(time.time())})

    assert wait_until(lambda: any(e["type"] == "checkout.session.expired" for e in receiver.received), timeout=5)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert json.loads(json.dumps(standin.sessions[session.id]))["status"] == "expired"
