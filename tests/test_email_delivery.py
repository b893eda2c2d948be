"""Digital keys delivered to the buyer by e-mail (issue 13 item 5), through a real SMTP server on loopback
(aiosmtpd): once, in the buyer's language or the store's own template; a temporary refusal stays queued
and is retried; a permanent one dead-letters with its reason; STARTTLS with a verified certificate and a
login from the vault; `marketsync test-connection STORE email`; and no key anywhere in clear but in the
message itself."""
from __future__ import annotations

import base64
import datetime
import json
import logging
import secrets
import ssl
from urllib.parse import quote, quote_plus

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from order_rows import add_order, add_product, add_store
from smtp_receiver import Recorder, free_port
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.digital.keys import assign_pool_key, import_keys
from marketsync.assets.email.outbound import OPERATION, enqueue_key_delivery, message_id
from marketsync.assets.outbound_runner import drain

STORE = "shop"
FROM = "keys@shop.example"
LOGIN = {"username": "shop-mailer", "password": "Pa$$w0rd+/smtp-" + secrets.token_hex(4)}


def _self_signed(tmp_path):
    """A self-signed certificate for 127.0.0.1: (cert file, key file)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "smtp-cert.pem", tmp_path / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def tls_server(tmp_path):
    """An SMTP server that requires STARTTLS (a self-signed certificate) and a login: (recorder, port,
    CA file)."""
    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login.decode(), auth_data.password.decode()) == (LOGIN["username"], LOGIN["password"])
        return AuthResult(success=ok, handled=False)

    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=authenticator, auth_require_tls=True,
                            auth_exclude_mechanism=["LOGIN"])
    controller.start()
    try:
        yield recorder, controller.port, str(cert_file)
    finally:
        controller.stop()


def _digital(conn, store_id: int, sku: str, title: str) -> int:
    product_id = add_product(conn, store_id, sku, title=title)
    conn.execute(text("INSERT INTO ops.digital_products (product_id, store_id, sources) "
                      "VALUES (:p, :s, 'pool_only')"), {"p": product_id, "s": store_id})
    return product_id


def _keys(prefix: str, n: int) -> list[str]:
    # Characters that URL-, JSON- and base64-encode differently, so every form is looked for.
    return [f"{prefix}+{i}/{secrets.token_hex(5)}=&%key" for i in range(n)]


@pytest.fixture
def shop(warehouse, vault, tmp_path):
    """Store 'shop' with two pool products (GAME-A with download links, GAME-B), their keys loaded, and a
    factory for orders of them whose units have their keys."""
    codes = {"GAME-A": _keys("AAAA", 6), "GAME-B": _keys("BBBB", 6)}
    links = {code: f"https://dl.example/{secrets.token_hex(6)}" for code in codes["GAME-A"]}
    keys_file = tmp_path / "keys.csv"
    keys_file.write_text("sku,code,links\n" + "".join(
        f'{sku},"{code}",{links.get(code, "")}\n' for sku, cs in codes.items() for code in cs))
    with warehouse.begin() as conn:
        store = add_store(conn, STORE)
        products = {"GAME-A": _digital(conn, store[0], "GAME-A", "Space Game"),
                    "GAME-B": _digital(conn, store[0], "GAME-B", "Farm Game")}
        assert import_keys(conn, vault, STORE, keys_file).imported == 12

    def order(locale: str | None, *skus: str, buyer: str = "buyer@example.org", name: str = "Jo Buyer") -> int:
        with warehouse.begin() as conn:
            order_id, items = add_order(conn, store, *({"sku": sku} for sku in skus))
            conn.execute(text("UPDATE core.orders SET customer_email = :e, customer_name = :n, customer_locale = :l "
                              "WHERE order_id = :o"), {"e": buyer, "n": name, "l": locale, "o": order_id})
            for item, sku in zip(items, skus, strict=True):
                assert assign_pool_key(conn, store[0], products[sku], item, 1) is not None
        return order_id

    return {"store": store, "products": products, "codes": codes, "links": links, "order": order}


def _email_account(warehouse, endpoint: str, **settings):
    with warehouse.begin() as conn:
        return upsert_account(conn, STORE, "email", endpoint,
                              {"from_address": FROM, "from_name": "Shop", "security": "none",
                               "timeout_seconds": 5, **settings})


def _enqueue(warehouse, order_id: int, language: str | None = None, resend: bool = False):
    with warehouse.begin() as conn:
        return enqueue_key_delivery(conn, order_id, language, resend=resend)


def _delivered_keys(conn, vault, order_id: int) -> list[tuple[str, object, str]]:
    from marketsync.assets.digital.keys import load_key

    rows = conn.execute(text("""SELECT k.digital_key_id, k.delivered_at, k.delivered_via FROM ops.digital_keys k
                                JOIN core.order_items i USING (order_item_id) WHERE i.order_id = :o
                                ORDER BY k.digital_key_id"""), {"o": order_id}).all()
    return [(load_key(conn, vault, r.digital_key_id).code, r.delivered_at, r.delivered_via) for r in rows]


def _make_due(warehouse) -> None:
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.outbound_queue SET next_attempt_at = now() WHERE status = 'pending'"))


def _item(warehouse, outbound_id: int):
    with warehouse.begin() as conn:
        return conn.execute(text("SELECT * FROM ops.outbound_queue WHERE outbound_id = :i"),
                            {"i": outbound_id}).mappings().one()


def test_keys_go_out_once_in_the_buyers_language_and_the_stores_template(warehouse, vault, shop, receiver):
    recorder, endpoint = receiver
    _email_account(warehouse, endpoint, templates={
        "fr": {"subject": "Boutique: vos codes ($order_number)",
               "body": "Chère cliente, cher client $customer_name,\n\n$keys\n\n-- La boutique $store\n"}})
    orders = {"de": shop["order"]("de-LU", "GAME-A", "GAME-B"),
              "fr": shop["order"]("fr_FR", "GAME-B", name="Camille"),
              "en": shop["order"](None, "GAME-A")}
    queued = {lang: _enqueue(warehouse, order_id) for lang, order_id in orders.items()}
    assert {lang: item.payload["language"] for lang, item in queued.items()} == {"de": "de", "fr": "fr", "en": "en"}
    assert all(item.created and item.operation == OPERATION for item in queued.values())

    result = drain(warehouse, vault, store=STORE, channel="email")
    assert result[f"{STORE}/email"]["succeeded"] == 3, result
    assert len(recorder.messages) == 3
    by_order = {m["Subject"]: m for m in recorder.messages}
    with warehouse.begin() as conn:
        numbers = dict(conn.execute(text("SELECT order_id, order_number FROM core.orders")).all())
        delivered = {lang: _delivered_keys(conn, vault, order_id) for lang, order_id in orders.items()}

    de = by_order[f"Ihre Schlüssel zur Bestellung {numbers[orders['de']]}"]
    fr = by_order[f"Boutique: vos codes ({numbers[orders['fr']]})"]
    en = by_order[f"Your keys for order {numbers[orders['en']]}"]
    assert de["Content-Language"] == "de" and "Schlüssel: " in de.get_content()
    assert "Vielen Dank" in de.get_content() or "vielen Dank" in de.get_content()
    assert fr.get_content().startswith("Chère cliente, cher client Camille") and "La boutique shop" in fr.get_content()
    assert "Clé: " in fr.get_content()
    assert "Here are your keys" in en.get_content() and "Space Game" in en.get_content()
    for lang, message in (("de", de), ("fr", fr), ("en", en)):
        body = message.get_content()
        for code, delivered_at, via in delivered[lang]:
            assert code in body  # the key in clear, only here
            assert delivered_at is not None and via == "email"
            if code in shop["links"]:
                assert shop["links"][code] in body
        assert message["To"] == ("Camille <buyer@example.org>" if lang == "fr" else "Jo Buyer <buyer@example.org>")
        assert message["From"] == f"Shop <{FROM}>"
        assert message["Message-ID"] == message_id(queued[lang].idempotency_key, FROM)
    assert recorder.envelopes[0] == (FROM, ["buyer@example.org"])

    # Once: draining again or queueing the same delivery again sends nothing more.
    again = _enqueue(warehouse, orders["de"])
    assert not again.created and again.outbound_id == queued["de"].outbound_id and again.status == "succeeded"
    drain(warehouse, vault, store=STORE, channel="email")
    assert len(recorder.messages) == 3

    # An explicit re-send is a new delivery (its own Message-ID) of the same keys; the first time stays.
    resend = _enqueue(warehouse, orders["de"], resend=True)
    assert resend.created and resend.payload["resend"] is True
    assert _enqueue(warehouse, orders["de"], resend=True).outbound_id == resend.outbound_id  # still waiting: one
    drain(warehouse, vault, store=STORE, channel="email")
    assert len(recorder.messages) == 4
    resent = recorder.messages[-1]
    assert resent["Message-ID"] != de["Message-ID"]
    assert all(code in resent.get_content() for code, _, _ in delivered["de"])
    with warehouse.begin() as conn:
        assert [d for _, d, _ in _delivered_keys(conn, vault, orders["de"])] == [d for _, d, _ in delivered["de"]]


def test_a_temporary_refusal_stays_queued_and_is_delivered_once_on_retry(warehouse, vault, shop, receiver):
    recorder, endpoint = receiver
    _email_account(warehouse, endpoint)
    order_id = shop["order"]("en", "GAME-A")
    item = _enqueue(warehouse, order_id)
    recorder.replies = ["451 4.3.0 Mailbox busy, try again later"]

    result = drain(warehouse, vault, store=STORE, channel="email")
    assert result[f"{STORE}/email"]["failed"] == 1 and not recorder.messages
    row = _item(warehouse, item.outbound_id)
    assert row["status"] == "pending" and row["attempts"] == 1 and "451" in row["last_error"]
    with warehouse.begin() as conn:
        assert all(d is None for _, d, _ in _delivered_keys(conn, vault, order_id))

    _make_due(warehouse)
    result = drain(warehouse, vault, store=STORE, channel="email")
    assert result[f"{STORE}/email"]["succeeded"] == 1
    _make_due(warehouse)
    drain(warehouse, vault, store=STORE, channel="email")
    assert len(recorder.messages) == 1
    row = _item(warehouse, item.outbound_id)
    assert row["status"] == "succeeded" and row["attempts"] == 2
    with warehouse.begin() as conn:
        ((code, delivered_at, via),) = _delivered_keys(conn, vault, order_id)
    assert code in recorder.messages[0].get_content() and delivered_at is not None and via == "email"


def test_a_permanent_refusal_dead_letters_with_its_reason(warehouse, vault, shop, receiver):
    recorder, endpoint = receiver
    _email_account(warehouse, endpoint)
    order_id = shop["order"]("de", "GAME-B")
    item = _enqueue(warehouse, order_id)
    recorder.always = "550 5.1.1 Mailbox unavailable"

    result = drain(warehouse, vault, store=STORE, channel="email")
    assert result[f"{STORE}/email"]["dead"] == 1
    row = _item(warehouse, item.outbound_id)
    assert row["status"] == "dead" and row["attempts"] == 1
    assert "SMTP server 127.0.0.1" in row["last_error"] and "550 5.1.1 Mailbox unavailable" in row["last_error"]
    with warehouse.begin() as conn:
        assert all(d is None for _, d, _ in _delivered_keys(conn, vault, order_id))


def test_an_unreachable_server_is_retried_and_a_store_without_account_is_told(warehouse, vault, shop):
    order_id = shop["order"]("en", "GAME-A")
    with warehouse.begin() as conn, pytest.raises(Exception, match="no e-mail account"):
        enqueue_key_delivery(conn, order_id, "en")
    _email_account(warehouse, f"smtp://127.0.0.1:{free_port()}")
    item = _enqueue(warehouse, order_id)
    drain(warehouse, vault, store=STORE, channel="email")
    row = _item(warehouse, item.outbound_id)
    assert row["status"] == "pending" and row["last_error"].endswith("is unreachable: it refused the connection")


def _forms(secret: str) -> set[str]:
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    for encoder in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encoder(raw).decode()
        forms |= {encoded, encoded.rstrip("=")}
    return forms


def test_no_key_in_the_queue_the_sync_log_alerts_or_logs(warehouse, vault, shop, receiver, caplog):
    caplog.set_level(logging.DEBUG, logger="marketsync")
    recorder, endpoint = receiver
    _email_account(warehouse, endpoint)
    delivered_order = shop["order"]("fr", "GAME-A", "GAME-B")
    failing_order = shop["order"]("de", "GAME-A")
    dead_order = shop["order"]("en", "GAME-B")
    for order_id in (delivered_order, failing_order, dead_order):
        _enqueue(warehouse, order_id)
    recorder.replies = []
    drain(warehouse, vault, store=STORE, channel="email")  # all three delivered
    for order_id in (failing_order, dead_order):
        _enqueue(warehouse, order_id, resend=True)
    recorder.replies = ["451 4.7.1 Greylisted"]
    drain(warehouse, vault, store=STORE, channel="email")
    recorder.always = "554 5.7.1 Message rejected"
    _make_due(warehouse)
    drain(warehouse, vault, store=STORE, channel="email")
    with warehouse.begin() as conn:
        statuses = sorted(conn.execute(text("SELECT status FROM ops.outbound_queue")).scalars())
        sent_keys = [code for o in (delivered_order, failing_order, dead_order)
                     for code, _, _ in _delivered_keys(conn, vault, o)]
    # The first re-send met the greylisting, then the refusal; the second went out.
    assert statuses == ["dead", "succeeded", "succeeded", "succeeded", "succeeded"] and len(recorder.messages) == 4
    assert all(any(code in m.get_content() for m in recorder.messages) for code in sent_keys)

    forms = set().union(*(_forms(code) for code in sent_keys), *(_forms(link) for link in shop["links"].values()))
    captured = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert not [form for form in forms if form in captured]
    with warehouse.engine.connect() as conn:
        columns = conn.execute(text(
            """SELECT table_schema, table_name, column_name FROM information_schema.columns
               WHERE table_schema IN ('raw', 'core', 'ops')
                 AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')""")).all()
        assert {("ops", "outbound_queue", "payload"), ("ops", "sync_log", "errors"),
                ("ops", "alerts", "message")} <= {tuple(c) for c in columns}
        params = {f"f{i}": form for i, form in enumerate(sorted(forms))}
        for schema, table, column in columns:
            tests = " OR ".join(f'strpos("{column}"::text, :{p}) > 0' for p in params)
            hits = conn.execute(text(f'SELECT count(*) FROM "{schema}"."{table}" WHERE {tests}'),  # noqa: S608 - names from the catalog, secrets bound
                                params).scalar_one()
            assert hits == 0, f"{schema}.{table}.{column} holds a key"


def test_starttls_with_a_verified_certificate_and_a_login_from_the_vault(run_cli, warehouse, vault, shop,
                                                                          tls_server):
    recorder, port, ca_file = tls_server
    endpoint = f"smtp://127.0.0.1:{port}"
    code, out, err = run_cli("account", "add", STORE, "email", "--endpoint", endpoint, "--set", f"from_address={FROM}",
                             "--set", "security=starttls", "--set", f"ca_file={ca_file}", "--set", "timeout_seconds=5")
    assert code == 0, out + err
    code, out, err = run_cli("credentials", "set", STORE, "email", stdin=json.dumps(LOGIN))
    assert code == 0, out + err

    code, out, err = run_cli("test-connection", STORE, "email")
    assert code == 0, out + err
    assert f"ok: {STORE}/email answered in" in out and endpoint in out

    order_id = shop["order"]("en", "GAME-A")
    _enqueue(warehouse, order_id)
    drain(warehouse, vault, store=STORE, channel="email")
    assert len(recorder.messages) == 1
    with warehouse.begin() as conn:
        ((key, delivered_at, _),) = _delivered_keys(conn, vault, order_id)
    assert key in recorder.messages[0].get_content() and delivered_at is not None

    # A wrong password, or a certificate we do not trust: refused, worded, without the password.
    wrong = LOGIN["password"] + "-wrong"
    run_cli("credentials", "set", STORE, "email", stdin=json.dumps({**LOGIN, "password": wrong}))
    code, out, err = run_cli("test-connection", STORE, "email")
    assert code != 0 and "refused the login" in out + err and "535" in out + err
    assert not [form for form in _forms(wrong) if form in out + err]
    run_cli("account", "add", STORE, "email", "--set", "ca_file=")
    code, out, err = run_cli("test-connection", STORE, "email")
    assert code != 0 and "certificate does not verify" in out + err


def test_a_server_without_starttls_is_refused_not_used_in_plain_text(run_cli, warehouse, shop, receiver):
    _, endpoint = receiver
    _email_account(warehouse, endpoint, security="starttls")
    code, out, err = run_cli("test-connection", STORE, "email")
    assert code != 0 and "does not offer STARTTLS" in out + err


def test_digital_resend_through_the_cli_sends_what_was_bought_again(run_cli, warehouse, vault, shop, receiver):
    recorder, endpoint = receiver
    _email_account(warehouse, endpoint)
    order_id = shop["order"]("en", "GAME-B")
    _enqueue(warehouse, order_id)
    drain(warehouse, vault, store=STORE, channel="email")
    with warehouse.begin() as conn:
        number = conn.execute(text("SELECT order_number FROM core.orders WHERE order_id = :o"),
                              {"o": order_id}).scalar_one()
        keys_before = conn.execute(text("SELECT count(*) FROM ops.digital_keys WHERE order_item_id IS NOT NULL "
                                        "AND delivered_at IS NOT NULL")).scalar_one()
    code, out, err = run_cli("digital", "resend", number, "--store", STORE)
    assert code == 0 and "queued" in out, err
    drain(warehouse, vault, store=STORE, channel="email")
    assert len(recorder.messages) == 2 and recorder.messages[0].get_content() == recorder.messages[1].get_content()
    assert recorder.messages[0]["Message-ID"] != recorder.messages[1]["Message-ID"]
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM ops.digital_keys WHERE order_item_id IS NOT NULL "
                                 "AND delivered_at IS NOT NULL")).scalar_one() == keys_before
    assert all(key not in out + err for key in shop["codes"]["GAME-B"])
