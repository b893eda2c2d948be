"""E-mail: digital keys delivered to the buyer through the store's SMTP server (its e-mail account holds
the server as an smtp:// or smtps:// endpoint; its login, {"username", "password"}, lives in the vault).
Each delivery is an outbound write, so it is retried with backoff, dead-lettered when refused, and never
buys a key again."""
from marketsync.assets.channel_registry import Channel, Outbound, register

SMTP_POOL = "smtp"

CHANNEL = register(Channel(
    name="email",
    label="e-mail",
    account_defaults={
        "endpoint": "smtp://127.0.0.1:25",
        "settings": {
            # The sender of the buyers' e-mails; none by default: a store sets its own.
            "from_address": None,
            "from_name": None,
            # starttls (required, never a fall-back to plain text), tls (implicit; what smtps:// means)
            # or none (a local relay only).
            "security": "starttls",
            "timeout_seconds": 30,
            # A CA file to trust instead of the system's (a server with a private CA).
            "ca_file": None,
            # Per language ("de", "fr", "en"): {"subject": ..., "body": ...} replacing the shipped
            # template (assets/email/templates/); $store, $order_number, $customer_name and $keys.
            "templates": {},
        },
    },
    resource="marketsync.resources.smtp:SmtpResource",
    outbound=Outbound(open="marketsync.assets.email.outbound:open_outbound", pool=SMTP_POOL),
    # How a store's digital keys reach their buyers (assets/digital/fulfilment.py hands every order whose
    # units all have keys to it).
    key_delivery="marketsync.assets.email.outbound:enqueue_key_delivery",
    connection_test="marketsync.assets.email.connection:check_connection",
))
