"""The web console in a real browser (headless Debian Chromium, driven by Playwright), through the
whole first-import flow against the simulated tenant: sign in with a key, connect the account
(clicking Accept on the consent page), W1-W5, preview (R7), import with live progress (R2), the
users list with the Entra mark, the change log (R8), a schedule (R4) and disconnect (C7).

Each step is saved as a screenshot: under pytest's temporary folder by default, and into the
README's docs/screenshots/ when asked (so that a plain `make test` leaves the tree as it is):

    ENTRASYNC_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/console
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx

from models import AccountMode, EndUser, UserSource
from tests.console.conftest import CHROMIUM, CHROMIUM_ARGS, ConsoleServer, require_browser
from tests.factories import make_account, make_site, make_user

REPO = Path(__file__).parents[2]
TIMEOUT_MS = 15_000


def _paris_user(server: ConsoleServer) -> dict[str, Any]:
    """A member of the simulated tenant in the Paris office, with a job title."""
    users = sorted(server.tenant.users.values(), key=lambda u: str(u["userPrincipalName"]))
    return next(
        u
        for u in users
        if u.get("officeLocation") == "Paris"
        and u.get("userType") == "Member"
        and u.get("jobTitle")
    )


async def test_console_first_import_flow(console_server: ConsoleServer, tmp_path: Path) -> None:
    require_browser()
    from playwright.async_api import Page, async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    wanted = os.environ.get("ENTRASYNC_SCREENSHOTS")
    shots = REPO / wanted if wanted else tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)

    # An IT department with one site already (Paris) and a person typed in by hand who is also in
    # Entra with another job title: the preview must show one update besides the creations.
    tenant = await make_account(name="Contoso IT", mode=AccountMode.IT_DEPARTMENT)
    paris = await make_site(tenant.account, "Paris")
    known = _paris_user(console_server)
    await make_user(
        paris,
        email=str(known["userPrincipalName"]).upper(),
        first_name=str(known["givenName"]),
        last_name=str(known["surname"]),
        job_title="Old title",
    )
    await make_user(paris, email="walk-in@contoso-it.example", first_name="Walk", last_name="In")
    key = tenant.admin_key
    base = console_server.url

    # The console's security headers (no inline scripts, nothing third-party).
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{base}/console/")
    csp = r.headers["content-security-policy"]
    assert (
        "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    )
    assert "connect-src 'self' ws: wss:" in csp

    problems: list[str] = []
    urls: list[str] = []

    async def shot(page: Page, name: str, *, full: bool = False) -> None:
        await page.mouse.move(1, 1)  # no hover effect in the picture
        await page.screenshot(
            path=str(shots / name), full_page=full, animations="disabled", caret="hide"
        )

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="UTC"
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on("request", lambda req: urls.append(req.url))
        page = await context.new_page()
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda msg: (
                problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
            ),
        )
        try:
            # 1. Sign in with the API key (a wrong one first: the error shows in place).
            await page.goto(f"{base}/console")
            assert page.url == f"{base}/console/"
            key_box = page.get_by_label("API key")
            await key_box.fill("es_not_a_real_key")
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.get_by_role("alert")).to_contain_text("API key was not accepted")
            await key_box.fill(key)
            await shot(page, "01-sign-in.png")
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.get_by_role("heading", name="Tenant connections")).to_be_visible()
            await expect(page.get_by_role("banner")).to_contain_text("Contoso IT")
            # The words follow the account's mode (IT department: sites and users).
            nav = page.get_by_role("navigation", name="Main")
            await expect(nav.get_by_role("link", name="Sites")).to_be_visible()
            await expect(nav.get_by_role("link", name="Users")).to_be_visible()

            # 2. Connect the whole account.
            await expect(page.get_by_label("The whole account")).to_be_checked()
            await shot(page, "02-connect.png")
            await page.get_by_role("button", name="Continue to Microsoft sign-in").click()
            sign_in = page.get_by_role("link", name="Open Microsoft sign-in")
            await expect(sign_in).to_be_visible()

            # 3. Microsoft's (the simulator's) consent page opens in a new tab: Accept like a person.
            async with context.expect_page() as popup_info:
                await sign_in.click()
            popup = await popup_info.value
            await popup.wait_for_load_state()
            await expect(popup.get_by_role("heading", name="Permissions requested")).to_be_visible()
            await shot(popup, "03-microsoft-consent.png")
            await popup.get_by_role("button", name="Accept").click()
            await expect(popup.get_by_role("heading", name="Connected")).to_be_visible()
            await popup.close()

            # 4. The console sees the connection CONNECTED (it polls; the button checks at once).
            await page.get_by_role("button", name="I've signed in").click()
            await expect(page.get_by_text("Connected to Contoso.")).to_be_visible()
            await shot(page, "04-connected.png")
            await page.get_by_role("link", name="Set up the import").click()

            # 5. W1: sort by office.
            await expect(
                page.get_by_role("heading", name="How should users be sorted into sites?")
            ).to_be_visible()
            await page.get_by_label("Office").check()
            await shot(page, "05-sort-by-office.png")
            await page.get_by_role("button", name="Next").click()

            # 6. W2/W3: the tenant's offices with user counts; Paris goes to the existing site by
            # default, the rest to new sites; "Undefined" holds the users with no office.
            await expect(
                page.get_by_role("heading", name="Which site does each office go to?")
            ).to_be_visible()
            table = page.get_by_role("table")
            await expect(table.get_by_role("row", name=re.compile("^Undefined"))).to_be_visible()
            await expect(page.get_by_label("Site for Paris", exact=True)).to_have_value(
                await paris_id(page)
            )
            await page.get_by_label("Site for Oslo", exact=True).select_option("new")
            # A new site named like an existing one is caught in place, the row keeps its text.
            await page.get_by_label("Name of the new site for Oslo").fill("paris")
            await page.get_by_role("button", name="Next").click()
            await expect(page.get_by_text("A site named “Paris” already exists")).to_be_visible()
            await expect(page.get_by_label("Name of the new site for Oslo")).to_have_value("paris")
            await page.get_by_label("Name of the new site for Oslo").fill("Oslo office")
            await page.get_by_role("button", name="New site for each unmapped value").click()
            await expect(page.get_by_label("Name of the new site for Undefined")).to_have_value(
                "No office"
            )
            await page.get_by_label("Name of the new site for Undefined").fill("Unassigned")
            await shot(page, "06-map-offices-to-sites.png", full=True)
            await page.get_by_role("button", name="Next").click()

            # 7. W4: search and pick groups (up to 999, said on screen), then keep every user.
            await expect(
                page.get_by_role("heading", name="Which groups should be imported?")
            ).to_be_visible()
            await page.get_by_label("Only members of the groups I pick").check()
            await page.get_by_label("Search the tenant's groups").fill("Office")
            await expect(page.get_by_role("checkbox", name=re.compile("^Sales"))).to_have_count(0)
            await page.get_by_label("Office - Paris").check()
            await page.get_by_label("Office - London").check()
            await expect(
                page.get_by_text("2 groups selected — you can select up to 999.")
            ).to_be_visible()
            await shot(page, "07-groups.png", full=True)
            await page.get_by_label(re.compile("^All users")).check()
            await page.get_by_role("button", name="Next").click()

            # 8. W5: members and guests, with their counts.
            await expect(
                page.get_by_role("heading", name="Members, guests, or both?")
            ).to_be_visible()
            await expect(page.get_by_label(re.compile(r"^Guests \(\d+\)"))).to_be_visible()
            await page.get_by_label(re.compile("^Guests")).check()
            await shot(page, "08-user-types.png")
            await page.get_by_role("button", name="Next").click()

            # Meanwhile someone adds a site named Tokyo: saving is refused with the API's typed
            # error, shown in place; going back, every choice is still there.
            await make_site(tenant.account, "Tokyo")
            await page.get_by_role("button", name="Save and preview").click()
            await expect(page.get_by_role("alert")).to_contain_text(
                "A site named 'Tokyo' already exists"
            )
            await page.get_by_role("button", name="2. Map to sites").click()
            await expect(page.get_by_label("Name of the new site for Oslo")).to_have_value(
                "Oslo office"
            )
            await expect(page.get_by_label("Name of the new site for Undefined")).to_have_value(
                "Unassigned"
            )
            await page.get_by_label("Site for Tokyo", exact=True).select_option(label="Tokyo")
            await page.get_by_role("button", name="Next").click()
            await expect(
                page.get_by_role("heading", name="Which groups should be imported?")
            ).to_be_visible()
            await page.get_by_role("button", name="Next").click()
            await expect(page.get_by_label(re.compile("^Guests"))).to_be_checked()
            await page.get_by_role("button", name="Next").click()

            # 9. Preview (dry run): creations, the update of the hand-typed user, and skips.
            await page.get_by_role("button", name="Save and preview").click()
            await expect(page.get_by_text("Preview ready")).to_be_visible()
            creations = page.get_by_role("table", name="Would create")
            await expect(creations.get_by_role("row").nth(1)).to_contain_text("Would create")
            await expect(creations).to_contain_text("Into Oslo office")
            assert await EndUser.filter(source=UserSource.ENTRA).count() == 0  # nothing written
            await shot(page, "09-preview.png", full=True)
            await page.get_by_role("button", name=re.compile(r"^Would update \(1\)")).click()
            updates = page.get_by_role("table", name=re.compile("^Would update"))
            await expect(updates).to_contain_text(str(known["jobTitle"]))
            await expect(updates).to_contain_text("Old title")
            await page.get_by_role("button", name=re.compile(r"^Would skip")).click()

            # 10. Import for real: the progress bar (fed by syncProgress) reaches 100%.
            await page.get_by_role("button", name="Import now").click()
            bar = page.get_by_role("progressbar")
            await expect(bar).to_have_attribute("aria-valuenow", "100")
            await expect(page.get_by_text("Finished — 100%")).to_be_visible()
            await expect(
                page.get_by_text(re.compile(r"Import finished: \d+ users created, 1 updated"))
            ).to_be_visible()
            created = await EndUser.filter(source=UserSource.ENTRA).count()
            assert created > 50
            await shot(page, "10-import-done.png", full=True)

            # 11. Users: the imported ones carry the Entra mark; search and paging work.
            await page.get_by_role("link", name="See the imported users").click()
            await expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
            users = page.get_by_role("table", name="Users")
            await expect(
                users.get_by_title("Imported from Microsoft Entra ID").first
            ).to_be_visible()
            await expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Page 1")
            await page.get_by_role("button", name="Next →").click()
            await expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Page 2")
            await page.get_by_label("Source").select_option("")
            await page.get_by_label("Name or email").fill("walk")
            await page.get_by_role("button", name="Show").click()
            await expect(users.get_by_role("row")).to_have_count(2)
            await expect(users).to_contain_text("Manual")
            await page.get_by_label("Name or email").fill("")
            await page.get_by_label("Site", exact=True).select_option(label="Paris")
            await page.get_by_role("button", name="Show").click()
            await expect(users).to_contain_text("Walk In")
            await expect(
                users.get_by_title("Imported from Microsoft Entra ID").first
            ).to_be_visible()
            await shot(page, "11-users.png", full=True)

            # Sites list (with search).
            await nav.get_by_role("link", name="Sites").click()
            await expect(page.get_by_role("heading", name="Sites", exact=True)).to_be_visible()
            await expect(page.get_by_role("table", name="Sites")).to_contain_text("Oslo office")
            await shot(page, "12-sites.png", full=True)

            # 12. The connection: schedule, runs, and the change log of the import with filters.
            await nav.get_by_role("link", name="Connections").click()
            await page.get_by_role("link", name="Open").click()
            await expect(page.get_by_role("heading", name="Contoso", exact=True)).to_be_visible()
            await page.get_by_label("Sync automatically").select_option(label="Every hour")
            await page.get_by_role("button", name="Save schedule").click()
            await expect(page.get_by_text("Saved: every hour.")).to_be_visible()
            runs = page.get_by_role("table", name="Runs, latest first")
            await expect(runs.get_by_role("row")).to_have_count(3)
            await shot(page, "13-connection.png", full=True)
            await runs.get_by_role("row").nth(1).get_by_role("link", name="Change log").click()
            await expect(page.get_by_role("heading", name="Sync run")).to_be_visible()
            await page.get_by_label("What happened").select_option("SKIP")
            await page.get_by_role("button", name="Show").click()
            log = page.get_by_role("table", name="Change log")
            await expect(log.get_by_role("row").nth(1)).to_contain_text("Skipped")
            await page.get_by_label("What happened").select_option("UPDATE")
            await page.get_by_role("button", name="Show").click()
            await expect(log.get_by_role("row")).to_have_count(2)
            await expect(log).to_contain_text("Old title")
            await page.get_by_label("What happened").select_option("")
            await page.get_by_role("button", name="Show").click()
            await expect(log.get_by_role("row").nth(1)).to_be_visible()
            await shot(page, "14-change-log.png")

            # 13. Disconnect, confirmed in a dialog (Cancel first: nothing happens).
            await page.get_by_role("link", name="Contoso").click()
            await page.get_by_role("button", name="Disconnect").click()
            dialog = page.get_by_role("dialog", name="Disconnect Contoso?")
            await expect(dialog).to_be_visible()
            await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
            await dialog.get_by_role("button", name="Cancel").click()
            await expect(dialog).to_have_count(0)
            await page.get_by_role("button", name="Disconnect").click()
            await shot(page, "15-disconnect.png")
            await page.get_by_role("dialog").get_by_role("button", name="Disconnect").click()
            await expect(
                page.get_by_text("Disconnected. The stored sign-in is deleted")
            ).to_be_visible()
            await expect(page.get_by_role("button", name="Sign in again")).to_be_visible()
            assert await EndUser.filter(source=UserSource.ENTRA).count() == created  # C7

            # Sign out forgets the key.
            await page.get_by_role("button", name="Sign out").click()
            await expect(page.get_by_label("API key")).to_be_visible()
            assert await page.evaluate("Object.keys(sessionStorage).length") == 0
        finally:
            await browser.close()

    # The wrong key at sign-in is the one refused request the browser may log.
    problems = [p for p in problems if "status of 401" not in p]
    assert not problems, problems
    assert not [u for u in urls if key in u], "the API key must never be in a URL"


async def paris_id(page: Any) -> str:
    """The option value the mapping select uses for the existing Paris site."""
    value: str = (
        await page.get_by_label("Site for Paris", exact=True)
        .locator("option", has_text=re.compile("^Paris$"))
        .get_attribute("value")
    )
    return value


async def test_console_words_follow_msp_mode_and_a_read_only_key(
    console_server: ConsoleServer,
) -> None:
    """MSP accounts see customers and contacts; a TECHNICIAN key may look but not change."""
    require_browser()
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    tenant = await make_account(name="Northwind MSP", mode=AccountMode.MSP)
    acme = await make_site(tenant.account, "Acme Corp")
    await make_user(acme, email="ceo@acme.example", first_name="Ada", last_name="Acme")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await page.goto(f"{console_server.url}/console/")
            await page.get_by_label("API key").fill(tenant.tech_key)
            await page.get_by_role("button", name="Sign in").click()
            nav = page.get_by_role("navigation", name="Main")
            await expect(nav.get_by_role("link", name="Customers")).to_be_visible()
            await expect(nav.get_by_role("link", name="Contacts")).to_be_visible()
            await expect(page.get_by_text("This key may only read")).to_be_visible()
            await expect(page.get_by_label("One customer")).to_be_visible()
            await expect(
                page.get_by_role("button", name="Continue to Microsoft sign-in")
            ).to_be_disabled()
            await nav.get_by_role("link", name="Contacts").click()
            await expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
            await expect(page.get_by_role("table", name="Contacts")).to_contain_text(
                "ceo@acme.example"
            )
            await expect(page.get_by_label("Customer", exact=True)).to_be_visible()
            # A reload keeps the session (the key is in sessionStorage, never in the URL).
            await page.reload()
            await expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
            assert tenant.tech_key not in page.url
        finally:
            await browser.close()
