"""The simulated `GET /users/{id}/mailboxSettings`: userPurpose, and Exchange's own errors."""

from __future__ import annotations

from simulator.testing import GraphCaller

ACCESS_DENIED = "Access is denied. Check credentials and try again."


def _shared_and_person(graph: GraphCaller) -> tuple[str, str]:
    tenant = graph.sim.tenant("contoso.example")
    shared = next(iter(tenant.mailboxes))
    person = next(u["id"] for u in list(tenant.users.values())[1:] if u["mail"])
    return shared, person


async def test_application_permission_reads_every_mailbox_purpose(graph: GraphCaller) -> None:
    tenant = graph.sim.tenant("contoso.example")
    token = graph.sim.state.issue_access_token(
        tenant, app_only=True, scopes=("User.Read.All", "MailboxSettings.Read")
    )
    shared, person = _shared_and_person(graph)
    tenant.set_mailbox_purpose(person, "room")
    for user_id, purpose in ((shared, "shared"), (person, "room")):
        reply = await graph.get(f"/users/{user_id}/mailboxSettings", token=token)
        assert reply.status == 200, reply.body
        assert reply.body["userPurpose"] == purpose
        assert reply.body["@odata.context"].endswith(f"users('{user_id}')/mailboxSettings")
    tenant.set_mailbox_purpose(person, None)
    back = await graph.get(f"/users/{person}/mailboxSettings", token=token)
    assert back.body["userPurpose"] == "user"
    no_mail = tenant.add_user(displayName="No Mailbox")
    missing = await graph.get(f"/users/{no_mail['id']}/mailboxSettings", token=token)
    assert missing.status == 404
    assert missing.body["error"]["code"] == "MailboxNotEnabledForRESTAPI"
    unknown = await graph.get(
        "/users/00000000-0000-0000-0000-000000000001/mailboxSettings", token=token
    )
    assert (unknown.status, unknown.body["error"]["code"]) == (404, "ErrorInvalidUser")


async def test_without_mailbox_settings_read_the_answer_is_access_denied(
    graph: GraphCaller,
) -> None:
    shared, _ = _shared_and_person(graph)
    # The default app-only token: User.Read.All and GroupMember.Read.All only.
    reply = await graph.get(f"/users/{shared}/mailboxSettings")
    assert reply.status == 403
    assert reply.body["error"]["code"] == "ErrorAccessDenied"
    assert reply.body["error"]["message"] == ACCESS_DENIED


async def test_delegated_permission_reads_only_the_signed_in_users_own_settings(
    graph: GraphCaller,
) -> None:
    tenant = graph.sim.tenant("contoso.example")
    token = graph.sim.state.issue_access_token(
        tenant, scopes=("User.Read", "User.Read.All", "MailboxSettings.Read")
    )
    own = await graph.get(f"/users/{tenant.admin_user_id}/mailboxSettings", token=token)
    assert own.status == 200 and own.body["userPurpose"] == "user"
    shared, _ = _shared_and_person(graph)
    other = await graph.get(f"/users/{shared}/mailboxSettings", token=token)
    assert (other.status, other.body["error"]["code"]) == (403, "ErrorAccessDenied")


async def test_mailbox_settings_are_answered_inside_a_batch(graph: GraphCaller) -> None:
    tenant = graph.sim.tenant("contoso.example")
    token = graph.sim.state.issue_access_token(
        tenant, app_only=True, scopes=("User.Read.All", "MailboxSettings.Read")
    )
    shared, person = _shared_and_person(graph)
    reply = await graph.request(
        "POST",
        "/$batch",
        token=token,
        json={
            "requests": [
                {"id": "1", "method": "GET", "url": f"/users/{shared}/mailboxSettings"},
                {"id": "2", "method": "GET", "url": f"/users/{person}/mailboxSettings"},
            ]
        },
    )
    assert reply.status == 200
    purposes = {r["id"]: r["body"]["userPurpose"] for r in reply.body["responses"]}
    assert purposes == {"1": "shared", "2": "user"}
