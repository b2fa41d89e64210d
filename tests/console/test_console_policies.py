"""The console's issue 6 views in a real browser: the review queue on the connection page (and its
count on the connections list), end users' Inactive badge, pins and the active filter, the sync
policies card (preview, then save with the preview's id; typed errors in place) and "Explain a
user". ADMIN keys act; TECHNICIAN keys see the same and every change control disabled.

Screenshots go where test_console_flow.py puts them (ENTRASYNC_SCREENSHOTS, or pytest's tmp).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from models import (
    AccountMode,
    EndUser,
    InactiveReason,
    ReviewItem,
    ReviewKind,
    ReviewResolution,
    ReviewStatus,
    Site,
    SyncRun,
    TenantConnection,
    UserPin,
    UserSource,
)
from services.wizard import ImportSettings, configure_import
from tests.console.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ConsoleServer,
    connected_site,
    require_browser,
)
from tests.factories import Tenant, admin_caller, make_account, make_site, make_user

REPO = Path(__file__).parents[2]
TIMEOUT_MS = 20_000


def _shots(tmp_path: Path) -> Path:
    wanted = os.environ.get("ENTRASYNC_SCREENSHOTS")
    shots = REPO / wanted if wanted else tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    return shots


async def _configured(server: ConsoleServer, tenant: Tenant, site: Site) -> TenantConnection:
    """A CONNECTED SITE connection with a saved import configuration."""
    conn = await connected_site(server, tenant, site)
    result: TenantConnection = await configure_import(
        server.rt, await admin_caller(tenant), conn.id, ImportSettings()
    )
    return result


class Browser:
    """Pages signed in with a key; collects page errors for the final assertion."""

    def __init__(self, browser: Any, base: str) -> None:
        self.browser = browser
        self.base = base
        self.problems: list[str] = []

    async def page(self, key: str) -> Any:
        from playwright.async_api import expect

        context = await self.browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC"
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.problems.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )
        await page.goto(f"{self.base}/console/")
        await page.get_by_label("API key").fill(key)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Tenant connections")).to_be_visible()
        return page


@asynccontextmanager
async def _browser(server: ConsoleServer) -> AsyncIterator[Browser]:
    require_browser()
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        b = Browser(browser, server.url)
        try:
            yield b
        finally:
            await browser.close()
        assert not b.problems, b.problems


async def _open_connection(page: Any) -> None:
    from playwright.async_api import expect

    await page.get_by_role("link", name="Open").click()
    await expect(page.get_by_role("heading", name="Contoso", exact=True)).to_be_visible()


async def test_console_review_queue_is_listed_counted_and_resolved_by_an_admin_only(
    console_server: ConsoleServer, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    shots = _shots(tmp_path)
    tenant = await make_account(name="Contoso IT")
    hq = await make_site(tenant.account, "HQ")
    branch = await make_site(tenant.account, "Branch")
    conn = await _configured(console_server, tenant, hq)
    await TenantConnection.filter(id=conn.id).update(review_conflicts=True)
    pat_hq = await make_user(hq, email="pat@contoso.example", first_name="Pat", last_name="Head")
    pat_branch = await make_user(
        branch, email="pat@contoso.example", first_name="Pat", last_name="Branch"
    )
    sam = await make_user(branch, email="sam@contoso.example", first_name="Sam", last_name="Moved")
    several = await ReviewItem.create(
        account_id=tenant.account.id,
        connection_id=conn.id,
        kind=ReviewKind.SEVERAL_PRODUCT_MATCHES,
        entra_object_id="obj-pat",
        email="pat@contoso.example",
        display_name="Pat Entra",
        candidate_ids=[pat_hq.id, pat_branch.id],
        routed_site_id=hq.id,
    )
    disagrees = await ReviewItem.create(
        account_id=tenant.account.id,
        connection_id=conn.id,
        kind=ReviewKind.SITE_DISAGREES,
        entra_object_id="obj-sam",
        email="sam@contoso.example",
        display_name="Sam Entra",
        candidate_ids=[sam.id],
        routed_site_id=hq.id,
    )

    async with _browser(console_server) as b:
        # A TECHNICIAN sees the count, the cases in plain words, and no enabled action.
        tech = await b.page(tenant.tech_key)
        await expect(tech.get_by_text("2 waiting for review")).to_be_visible()
        await _open_connection(tech)
        card = tech.get_by_role("region", name="Needs review")
        items = card.get_by_role("listitem").filter(has=tech.get_by_role("heading"))
        await expect(items).to_have_count(2)
        await expect(card).to_contain_text("2 waiting")
        await expect(items.first).to_contain_text("Pat Entra · Several matching users")
        await expect(items.first).to_contain_text("Pat Head · pat@contoso.example · HQ")
        await expect(items.first).to_contain_text("Pat Branch · pat@contoso.example · Branch")
        for name in ("Link to pat@contoso.example in HQ", "Create new in HQ", "Ignore"):
            await expect(items.first.get_by_role("button", name=name)).to_be_disabled()
        await expect(
            card.get_by_text("An ADMIN key can link, create or ignore.").first
        ).to_be_visible()

        # An ADMIN links the first case to the HQ user, and creates a new user for the second.
        page = await b.page(tenant.admin_key)
        await expect(page.get_by_text("2 waiting for review")).to_be_visible()
        await _open_connection(page)
        card = page.get_by_role("region", name="Needs review")
        items = card.get_by_role("listitem").filter(has=page.get_by_role("heading"))
        await expect(items).to_have_count(2)
        await expect(items.nth(1)).to_contain_text("In another site than routing picks")
        await expect(items.nth(1)).to_contain_text("Routed to site")
        await card.scroll_into_view_if_needed()
        await page.mouse.move(1, 1)
        await card.screenshot(path=str(shots / "17-needs-review.png"), animations="disabled")
        await items.first.get_by_role("button", name="Link to pat@contoso.example in HQ").click()
        await expect(card.get_by_role("status")).to_contain_text(
            "Linked pat@contoso.example to the user in HQ"
        )
        await expect(items).to_have_count(1)
        await expect(card).to_contain_text("1 waiting")
        await expect(items.first.get_by_role("heading")).to_be_focused()
        await items.first.get_by_role("button", name="Create new in HQ").click()
        await expect(card.get_by_role("status")).to_contain_text(
            "The next sync creates a new user for sam@contoso.example in HQ"
        )
        await expect(card.get_by_text("Nothing waits for review.")).to_be_visible()
        await several.refresh_from_db()
        await disagrees.refresh_from_db()
        assert several.status is ReviewStatus.RESOLVED
        assert several.resolution is ReviewResolution.LINK
        assert several.resolved_end_user_id == pat_hq.id
        assert disagrees.resolution is ReviewResolution.CREATE
        await pat_hq.refresh_from_db()
        assert pat_hq.entra_object_id == "obj-pat"
        # Back on the list, nothing waits any more.
        await page.get_by_role("link", name="Connections").first.click()
        await expect(page.get_by_role("heading", name="Tenant connections")).to_be_visible()
        await expect(page.get_by_text("waiting for review")).to_have_count(0)


async def test_console_end_users_show_inactive_and_pins_and_an_admin_changes_them(
    console_server: ConsoleServer, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    shots = _shots(tmp_path)
    tenant = await make_account(name="Contoso IT")
    hq = await make_site(tenant.account, "HQ")
    gone = await make_user(
        hq,
        email="gone@contoso.example",
        first_name="Gone",
        last_name="Away",
        source=UserSource.ENTRA,
        active=False,
        inactive_reason=InactiveReason.DISABLED,
    )
    ada = await make_user(hq, email="ada@contoso.example", first_name="Ada", last_name="Here")
    await make_user(
        hq,
        email="pinned@contoso.example",
        first_name="Pinned",
        last_name="Person",
        pin=UserPin.EXCLUDE,
    )

    async with _browser(console_server) as b:
        tech = await b.page(tenant.tech_key)
        await tech.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
        table = tech.get_by_role("table", name="Users")
        gone_row = table.get_by_role("row").filter(has_text="gone@contoso.example")
        await expect(gone_row).to_contain_text("Inactive")
        await expect(gone_row).to_contain_text("Its account is disabled in Entra ID.")
        await expect(table.get_by_role("row").filter(has_text="pinned@")).to_contain_text(
            "Pinned: excluded from sync"
        )
        await expect(tech.get_by_label("Pin for Ada Here")).to_be_disabled()
        await expect(tech.get_by_role("button", name="Mark inactive: Ada Here")).to_be_disabled()

        page = await b.page(tenant.admin_key)
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
        table = page.get_by_role("table", name="Users")
        await expect(table.get_by_role("row")).to_have_count(4)
        # The status filter: inactive only, then active only.
        await page.get_by_label("Status").select_option(label="Inactive only")
        await page.get_by_role("button", name="Show").click()
        await expect(table.get_by_role("row")).to_have_count(2)
        await expect(table.get_by_role("row").nth(1)).to_contain_text("gone@contoso.example")
        await page.get_by_label("Status").select_option(label="Active only")
        await page.get_by_role("button", name="Show").click()
        await expect(table.get_by_role("row")).to_have_count(3)
        await expect(table).not_to_contain_text("gone@contoso.example")
        # Pin Ada to stay active, then mark her inactive and active again.
        await page.get_by_label("Pin for Ada Here").select_option(label="Keep active")
        await expect(page.get_by_role("status")).to_contain_text("Ada Here: pinned to stay active")
        ada_row = table.get_by_role("row").filter(has_text="ada@contoso.example")
        await expect(ada_row).to_contain_text("Pinned: keep active")
        await ada.refresh_from_db()
        assert ada.pin is UserPin.KEEP_ACTIVE
        await page.get_by_role("button", name="Mark inactive: Ada Here").click()
        await expect(page.get_by_role("status")).to_contain_text("Ada Here is marked inactive")
        await expect(page.get_by_role("button", name="Mark active: Ada Here")).to_be_focused()
        await expect(ada_row).to_contain_text("It was marked inactive in the product.")
        await ada.refresh_from_db()
        assert not ada.active and ada.inactive_reason is InactiveReason.MANUAL
        await page.get_by_label("Status").select_option(label="Active and inactive")
        await page.get_by_role("button", name="Show").click()
        await expect(table.get_by_role("row")).to_have_count(4)
        await page.mouse.move(1, 1)
        await page.screenshot(
            path=str(shots / "19-users-inactive-and-pins.png"),
            full_page=True,
            animations="disabled",
        )
        await page.get_by_role("button", name="Mark active: Ada Here").click()
        await expect(page.get_by_role("status")).to_contain_text("Ada Here is active again.")
        await page.get_by_label("Pin for Ada Here").select_option(label="No pin")
        await expect(page.get_by_role("status")).to_contain_text("Ada Here: pin removed")
        await ada.refresh_from_db()
        assert ada.active and ada.inactive_reason is None and ada.pin is None
        await gone.refresh_from_db()
        assert not gone.active


async def test_console_sync_policies_are_previewed_then_saved_with_the_preview(
    console_server: ConsoleServer, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    shots = _shots(tmp_path)
    tenant = await make_account(name="Contoso IT")
    hq = await make_site(tenant.account, "HQ")
    conn = await _configured(console_server, tenant, hq)

    async with _browser(console_server) as b:
        tech = await b.page(tenant.tech_key)
        await _open_connection(tech)
        card = tech.get_by_role("region", name="Sync policies")
        await expect(card).to_contain_text("Leave them as they are (default)")
        await expect(tech.get_by_role("region", name="Needs review")).to_contain_text(
            "Review is off for this connection"
        )
        await expect(card).to_contain_text("Phone: take Entra's value, but a blank never erases")
        await expect(card.get_by_role("button", name="Edit sync policies")).to_be_disabled()

        page = await b.page(tenant.admin_key)
        await _open_connection(page)
        card = page.get_by_role("region", name="Sync policies")
        await card.get_by_role("button", name="Edit sync policies").click()
        form = card.get_by_role("form", name="Edit sync policies")
        await form.get_by_label("Enabled accounts only").check()
        await form.get_by_label("Leave out names matching").fill("svc-*\nroom-*")
        await form.get_by_label("Rule for Department").select_option(
            label="Always take Entra's value"
        )
        # Saving filters without a preview: the API's typed error, in place.
        await form.get_by_role("button", name="Save these policies").click()
        await expect(form.get_by_role("alert")).to_contain_text("preview")
        # Preview: a dry run, followed to its end, with its counts and change log.
        await form.get_by_role("button", name="Preview these policies").click()
        await expect(form.get_by_text("Preview finished: nothing was written.")).to_be_visible()
        await expect(form).to_contain_text("Would create")
        await expect(form).to_contain_text("Would mark inactive: 0")
        log = form.get_by_role("link", name="Open the preview's change log")
        await expect(log).to_have_attribute("href", re.compile(r"^#/runs/"))
        runs = page.get_by_role("table", name="Runs, latest first")
        await expect(runs.get_by_role("row").nth(1)).to_contain_text("Preview")
        preview = await SyncRun.filter(connection_id=conn.id).order_by("-id").first()
        assert preview is not None and preview.dry_run and preview.proposed_policies
        await page.mouse.move(1, 1)
        await page.screenshot(
            path=str(shots / "18-sync-policies.png"), full_page=True, animations="disabled"
        )
        await form.get_by_role("button", name="Save these policies").click()
        await expect(card.get_by_role("status")).to_contain_text("Sync policies saved.")
        await expect(card).to_contain_text("svc-*, room-*")
        await expect(card).to_contain_text("Department: always take Entra's value")
        saved = await TenantConnection.get(id=conn.id)
        assert saved.filter_enabled_only
        assert list(saved.exclusion_patterns) == ["svc-*", "room-*"]
        assert saved.field_rules.get("department") == "OVERWRITE"

        # Lifecycle and review need no preview.
        await card.get_by_role("button", name="Edit sync policies").click()
        await expect(card.get_by_role("status")).to_have_count(0)
        form = card.get_by_role("form", name="Edit sync policies")
        await form.get_by_label(
            "Users disabled, deleted or out of scope in Entra ID"
        ).select_option("MARK_INACTIVE")
        await form.get_by_label("Send ambiguous matches to review").check()
        await form.get_by_role("button", name="Save these policies").click()
        await expect(card.get_by_role("status")).to_contain_text("Sync policies saved.")
        await expect(card).to_contain_text("Mark them inactive")
        saved = await TenantConnection.get(id=conn.id)
        assert saved.lifecycle_policy == "MARK_INACTIVE" and saved.review_conflicts
        review = page.get_by_role("region", name="Needs review")
        await expect(review).to_contain_text("Cases the sync did not decide on its own")
        await expect(review).to_contain_text("Nothing waits for review.")


async def test_console_explains_a_user_in_plain_words_to_any_role(
    console_server: ConsoleServer, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    shots = _shots(tmp_path)
    tenant = await make_account(name="Northwind MSP", mode=AccountMode.MSP)
    hq = await make_site(tenant.account, "HQ")
    await _configured(console_server, tenant, hq)
    members = sorted(
        (u for u in console_server.tenant.users.values() if u.get("userType") == "Member"),
        key=lambda u: str(u["userPrincipalName"]),
    )
    known, fresh = members[0], members[1]
    await make_user(
        hq,
        email=str(known["userPrincipalName"]),
        first_name=str(known["givenName"]),
        last_name=str(known["surname"]),
        job_title="Old title",
    )

    async with _browser(console_server) as b:
        for key in (tenant.tech_key, tenant.admin_key):
            page = await b.page(key)
            await _open_connection(page)
            card = page.get_by_role("region", name="Explain a user")
            email = card.get_by_label("Email or user principal name")
            await email.fill(str(fresh["userPrincipalName"]))
            await card.get_by_role("button", name="Explain").click()
            explained = card.locator("dl.explanation")
            await expect(explained).to_contain_text("Let in: a member")
            await expect(explained).to_contain_text("Every contact of this connection goes to HQ.")
            await expect(explained).to_contain_text("No contact has this email yet.")
            await expect(explained).to_contain_text("Would create it in HQ.")

            await email.fill(str(known["userPrincipalName"]))
            await card.get_by_role("button", name="Explain").click()
            await expect(explained).to_contain_text("By email.")
            await expect(explained).to_contain_text("Would update it.")
            await expect(explained).to_contain_text("Old title")
            if key == tenant.admin_key:
                await card.scroll_into_view_if_needed()
                await page.mouse.move(1, 1)
                await card.screenshot(
                    path=str(shots / "20-explain-a-user.png"), animations="disabled"
                )

            await email.fill("nobody@contoso.example")
            await card.get_by_role("button", name="Explain").click()
            await expect(card.get_by_role("alert")).to_be_visible()
            await expect(explained).to_have_count(0)
    assert await EndUser.filter(account_id=tenant.account.id).count() == 1  # nothing written
