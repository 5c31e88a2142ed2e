"""The Stripe stand-in with a data directory (``scripts/run`` gives it ``.data/stripe``): what was created before a
restart is there after it (sessions, line items, payments, idempotency keys), and a webhook still owed at the
restart is delivered after it. Driven through the real ``stripe`` library over loopback HTTP."""
import httpx
import pytest
import stripe as stripe_lib
from test_ticketing_standin import PARAMS, Receiver

from localrunner.bus import wait_until
from localrunner.datadir import DataDirInUse
from localrunner.stripe_standin import DEV_SECRET_KEY, StripeStandIn


def client_of(standin):
    return stripe_lib.StripeClient(DEV_SECRET_KEY, base_addresses={"api": standin.url}, max_network_retries=0)


@pytest.fixture
def receiver():
    r = Receiver(failures=0)
    yield r
    r.stop()


def test_sessions_payments_and_owed_webhooks_survive_a_restart(tmp_path, receiver):
    first = StripeStandIn(webhook_url=receiver.url, state_dir=tmp_path).start()
    first.pause_webhooks()  # the payment's webhook is still owed when the stand-in stops
    created = client_of(first).v1.checkout.sessions.create(params=PARAMS, options={"idempotency_key": "order-1"})
    paid = client_of(first).v1.checkout.sessions.create(params=PARAMS)
    first.pay(paid.id)
    first.stop()

    second = StripeStandIn(webhook_url=receiver.url, state_dir=tmp_path).start()  # on another port
    try:
        client = client_of(second)
        again = client.v1.checkout.sessions.retrieve(created.id, params={"expand": ["line_items"]})
        assert again.status == "open" and again.amount_total == 2500 and again.line_items.data[0].quantity == 2
        assert again.url == f"{second.url}/c/pay/{created.id}" and httpx.get(again.url).status_code == 200
        replayed = client.v1.checkout.sessions.create(params=PARAMS, options={"idempotency_key": "order-1"})
        assert replayed.id == created.id
        assert wait_until(lambda: any(e["data"]["object"]["id"] == paid.id for e in receiver.received), timeout=10)
        intent = client.v1.checkout.sessions.retrieve(paid.id).payment_intent
        assert client.v1.refunds.create(params={"payment_intent": intent}).amount == 2500
    finally:
        second.stop()


def test_one_stand_in_per_data_dir(tmp_path):
    first = StripeStandIn(state_dir=tmp_path).start()
    try:
        with pytest.raises(DataDirInUse, match="in use by another Stripe stand-in"):
            StripeStandIn(state_dir=tmp_path).start()
    finally:
        first.stop()


def test_without_a_data_dir_nothing_is_kept():
    first = StripeStandIn().start()
    session = client_of(first).v1.checkout.sessions.create(params=PARAMS)
    first.stop()
    second = StripeStandIn().start()
    try:
        with pytest.raises(stripe_lib.InvalidRequestError):
            client_of(second).v1.checkout.sessions.retrieve(session.id)
    finally:
        second.stop()
