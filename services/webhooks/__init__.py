"""Outbound webhooks: signed event deliveries to an account's receivers, retried and logged.

The lead's entry points: `notify` (queue an event, never raises), `run_dispatcher` (the loop
that sends), `dispatch_due` (one pass, for tests and workers).
"""

from services.webhooks.dispatcher import (
    build_body,
    configure,
    dispatch_due,
    notify,
    policy_of,
    prune_deliveries,
    run_dispatcher,
)
from services.webhooks.encryption import rotate_secret_encryption
from services.webhooks.events import (
    connection_data,
    global_id,
    notify_connection_status,
    notify_run_finished,
    run_data,
)
from services.webhooks.policy import WebhookPolicy
from services.webhooks.registry import (
    MAX_WEBHOOKS_PER_ACCOUNT,
    SUBSCRIBABLE,
    WebhookPatch,
    create_webhook,
    delete_webhook,
    get_webhook,
    list_deliveries,
    list_webhooks,
    rotate_secret,
    send_test,
    update_webhook,
)
from services.webhooks.signing import sign, verify

__all__ = [
    "MAX_WEBHOOKS_PER_ACCOUNT",
    "SUBSCRIBABLE",
    "WebhookPatch",
    "WebhookPolicy",
    "build_body",
    "configure",
    "connection_data",
    "create_webhook",
    "delete_webhook",
    "dispatch_due",
    "get_webhook",
    "global_id",
    "list_deliveries",
    "list_webhooks",
    "notify",
    "notify_connection_status",
    "notify_run_finished",
    "policy_of",
    "prune_deliveries",
    "rotate_secret",
    "rotate_secret_encryption",
    "run_data",
    "run_dispatcher",
    "send_test",
    "sign",
    "update_webhook",
    "verify",
]
