"""The console with runs the mass-change guard paused (AWAITING_APPROVAL), in a real browser: the
connection page stops following and shows what the guard found, a link to what the run would
change, and for ADMIN keys "Apply the changes" (approveSyncRun, then the run to its end) and
"Discard the run" (rejectSyncRun); a TECHNICIAN key sees the panel without them. The change log
knows the lifecycle actions (INACTIVE, ACTIVE, REVIEW).

Screenshots go where test_console_flow.py puts them (ENTRASYNC_SCREENSHOTS, or pytest's tmp).
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

from models import ChangeAction, ChangeLogEntry, EndUser, RunStatus, SyncRun, TenantConnection
from services.sync.delta import request_full_round
from services.sync.guard import reject_run
from services.sync.runs import SyncRunner, start_sync
from services.wizard import ImportSettings, configure_import
from tests.console.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ConsoleServer,
    connected_site,
    require_browser,
)
from tests.factories import Tenant, admin_caller, make_account, make_site

REPO = Path(__file__).parents[2]
TIMEOUT_MS = 15_000
GUARD_TEXT = "The mass-change guard stopped this sync before it wrote anything."


async def _imported_then_guests_only(server: ConsoleServer, tenant: Tenant) -> TenantConnection:
    """A connection that imported members and guests into one site, then was set to import guests
    only: its next sync would skip every imported member, more than half of the imported users."""
    site = await make_site(tenant.account, "Head office")
    conn = await connected_site(server, tenant, site)
    caller = await admin_caller(tenant)
    settings = ImportSettings(user_types=("MEMBER", "GUEST"))
    conn = await configure_import(server.rt, caller, conn.id, settings)
    first, created = await start_sync(server.rt, caller, conn)
    assert created
    runner = server.rt.extras["runner"]
    assert isinstance(runner, SyncRunner)
    await asyncio.wait_for(runner.wait(first.id), timeout=30)
    await first.refresh_from_db()
    assert first.status is RunStatus.SUCCEEDED, first.error_message
    assert first.guard_imported is None  # a first import is never checked
    linked = await EndUser.filter(account_id=tenant.account.id, entra_object_id__not_isnull=True)
    guests = [u for u in linked if u.user_type == "Guest"]
    assert len(linked) >= 20 and len(guests) < len(linked) / 2  # members are the majority
    guests_only = ImportSettings(user_types=("GUEST",))
    return await configure_import(server.rt, caller, conn.id, guests_only)


async def _paused_run(conn: TenantConnection) -> SyncRun:
    run = await SyncRun.get_or_none(connection_id=conn.id, status=RunStatus.AWAITING_APPROVAL)
    assert run is not None
    return run


async def test_console_paused_run_is_discarded_or_applied_by_an_admin_and_only_shown_to_a_technician(
    console_server: ConsoleServer, tmp_path: Path
) -> None:
    require_browser()
    from playwright.async_api import Page, async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    wanted = os.environ.get("ENTRASYNC_SCREENSHOTS")
    shots = REPO / wanted if wanted else tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    tenant = await make_account(name="Fabrikam IT")
    conn = await _imported_then_guests_only(console_server, tenant)
    caller = await admin_caller(tenant)
    base = console_server.url
    problems: list[str] = []

    async def open_page(context: Any, key: str) -> Page:
        page: Page = await context.new_page()
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda msg: (
                problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
            ),
        )
        await page.goto(f"{base}/console/")
        await page.get_by_label("API key").fill(key)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("link", name="Open").click()
        await expect(page.get_by_role("heading", name="Contoso", exact=True)).to_be_visible()
        return page

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            options: dict[str, Any] = {
                "viewport": {"width": 1280, "height": 800},
                "locale": "en-US",
                "timezone_id": "UTC",
            }
            admin_context = await browser.new_context(**options)
            admin_context.set_default_timeout(TIMEOUT_MS)
            page = await open_page(admin_context, tenant.admin_key)
            live = page.get_by_role("region", name="Current run")
            runs = page.get_by_role("table", name="Runs, latest first")

            # 1. Sync now: the guard pauses the run; the page stops following and says why.
            await page.get_by_role("button", name="Sync now").click()
            await expect(live.get_by_text(GUARD_TEXT)).to_be_visible()
            first = await _paused_run(conn)
            assert first.guard_imported and first.guard_affected
            share = round(100 * first.guard_affected / first.guard_imported)
            await expect(live).to_contain_text(
                f"It would change {first.guard_affected} of {first.guard_imported} imported users "
                f"({share}%), more than this connection's threshold of 50%."
            )
            await expect(
                live.get_by_role("heading", name="Sync waiting for approval")
            ).to_be_visible()
            await expect(live.get_by_text("Paused: waiting for an admin")).to_be_visible()
            await expect(live.get_by_role("progressbar")).to_have_class(re.compile("paused"))
            await expect(runs.get_by_role("row").nth(1)).to_contain_text("Waiting for approval")
            await expect(
                live.get_by_role("link", name="See what it would change")
            ).to_have_attribute("href", re.compile(r"^#/runs/"))
            await page.mouse.move(1, 1)
            await page.screenshot(path=str(shots / "16-paused-run.png"), full_page=True)

            # 2. Discard it: cancelled, nothing written; the connection is free again.
            await live.get_by_role("button", name="Discard the run").click()
            await expect(
                page.get_by_role("status").filter(has_text="Run discarded")
            ).to_be_visible()
            await expect(live).to_be_hidden()
            await expect(page.get_by_role("button", name="Sync now")).to_be_focused()
            await first.refresh_from_db()
            assert first.status is RunStatus.CANCELLED and first.approved_at is None
            await expect(runs.get_by_role("row").nth(1)).to_contain_text("Cancelled")

            # 3. Start again (paused again), then apply: the page follows the run to its end.
            await page.get_by_role("button", name="Sync now").click()
            await expect(live.get_by_text(GUARD_TEXT)).to_be_visible()
            second = await _paused_run(conn)
            assert second.id != first.id
            await live.get_by_role("button", name="Apply the changes").click()
            await expect(live.get_by_text("Sync finished.")).to_be_visible()
            await expect(live.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
            await second.refresh_from_db()
            assert second.status is RunStatus.SUCCEEDED and second.approved_at is not None
            assert second.skipped_filter >= first.guard_affected  # the members, left untouched
            await expect(runs.get_by_role("row").nth(1)).to_contain_text("Succeeded")
            await expect(runs.get_by_role("row")).to_have_count(4)  # + the first import

            # 4. Its change log knows the lifecycle actions (written here as the engine would).
            for action, reason, email in (
                (ChangeAction.INACTIVE, "DISABLED", "gone@contoso.example"),
                (ChangeAction.ACTIVE, "", "back@contoso.example"),
                (ChangeAction.REVIEW, "EMAIL_CONFLICT", "unsure@contoso.example"),
            ):
                await ChangeLogEntry.create(
                    run_id=second.id,
                    account_id=tenant.account.id,
                    action=action,
                    email=email,
                    display_name=email.split("@")[0].title(),
                    reason=reason,
                )
            await runs.get_by_role("row").nth(1).get_by_role("link", name="Change log").click()
            await expect(page.get_by_role("heading", name="Sync run")).to_be_visible()
            log = page.get_by_role("table", name="Change log")
            what = page.get_by_label("What happened")
            for value, label, details in (
                ("INACTIVE", "Marked inactive", "Its account is disabled in Entra ID."),
                ("ACTIVE", "Reactivated", "active again"),
                ("REVIEW", "Sent to review", "waits in the review queue"),
            ):
                await what.select_option(label=label)
                await page.get_by_role("button", name="Show").click()
                await expect(log.get_by_role("row")).to_have_count(2)
                await expect(log.get_by_role("row").nth(1)).to_contain_text(label)
                await expect(log.get_by_role("row").nth(1)).to_contain_text(details)
                assert await what.input_value() == value
            await what.select_option(label="Skipped")
            await page.get_by_role("button", name="Show").click()
            await expect(log.get_by_role("row").nth(1)).to_contain_text("Skipped")

            # 5. A third sync (a full round again) pauses too; a reload finds it and shows it
            # with its buttons.
            await request_full_round(conn.id)
            await page.get_by_role("link", name="Contoso").click()
            await page.get_by_role("button", name="Sync now").click()
            await expect(live.get_by_text(GUARD_TEXT)).to_be_visible()
            third = await _paused_run(conn)
            await page.reload()
            await expect(live.get_by_text(GUARD_TEXT)).to_be_visible()
            await expect(live.get_by_role("button", name="Apply the changes")).to_be_visible()
            # Sync now meanwhile names the paused run instead of starting another (R5).
            await page.get_by_role("button", name="Sync now").click()
            await expect(
                page.get_by_role("status").filter(has_text="waiting for approval")
            ).to_be_visible()

            # 6. A TECHNICIAN key sees the paused run, what it found, and no way to decide.
            tech_context = await browser.new_context(**options)
            tech_context.set_default_timeout(TIMEOUT_MS)
            tech = await open_page(tech_context, tenant.tech_key)
            tech_live = tech.get_by_role("region", name="Current run")
            await expect(tech_live.get_by_text(GUARD_TEXT)).to_be_visible()
            await expect(tech_live).to_contain_text(f"It would change {third.guard_affected} of")
            await expect(
                tech_live.get_by_text("An ADMIN key can apply the changes")
            ).to_be_visible()
            await expect(tech.get_by_role("button", name="Apply the changes")).to_have_count(0)
            await expect(tech.get_by_role("button", name="Discard the run")).to_have_count(0)
            await tech_live.get_by_role("link", name="See what it would change").click()
            await expect(tech.get_by_role("heading", name="Sync run")).to_be_visible()
            await expect(tech.get_by_text("Waiting for approval", exact=True)).to_be_visible()
            # Its change log is what it would do (the check's), kept for whoever decides.
            await expect(tech.locator("dl.tiles")).to_contain_text("Would update")
            await expect(tech.get_by_role("table", name="Change log")).to_be_visible()
            await tech_context.close()

            # 7. Discarded elsewhere meanwhile: the admin's click gets the typed error in the
            # page's message box, and the panel shows the run as it is now.
            await reject_run(console_server.rt, caller, third.id)
            await live.get_by_role("button", name="Apply the changes").click()
            await expect(page.get_by_role("alert")).to_contain_text(
                "The run is CANCELLED, not AWAITING_APPROVAL."
            )
            await expect(live.get_by_role("heading", name="Last sync")).to_be_visible()
            await expect(live.get_by_role("button", name="Apply the changes")).to_have_count(0)
            await third.refresh_from_db()
            assert third.status is RunStatus.CANCELLED and third.approved_at is None
        finally:
            await browser.close()
    assert not problems, problems
