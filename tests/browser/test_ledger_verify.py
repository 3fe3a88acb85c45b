"""A client's browser checks the engagement's ledger itself, and says so when history changed."""

from __future__ import annotations

import base64
import secrets

import pytest

from confiance.ledger.merkle import canonical_json, consistency_proof, root_hash
from confiance.ledger.models import LedgerNode
from tests.browser.conftest import shot
from tests.conftest import PASSWORD, World
from tests.ledger.test_api import log_entries

pytestmark = pytest.mark.django_db(transaction=True)


def open_consumption(page, world: World) -> None:  # type: ignore[no-untyped-def]
    page.goto(page.base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(world.user("client_contact").email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Engagements").wait_for()
    page.goto(
        f"{page.base}/w/{world.workspace.slug}/engagements/{world.engagement.pk}/consumption/"
    )


def ledger_state(page, state: str) -> str:  # type: ignore[no-untyped-def]
    section = page.locator(f'[data-ledger-verify][data-state="{state}"]')
    section.wait_for()
    return section.locator("[data-ledger-status]").inner_text()


def test_client_browser_verifies_the_ledger_then_sees_history_rewritten(page, world: World) -> None:
    log_entries(world, 3)
    open_consumption(page, world)
    status = ledger_state(page, "first")
    assert status.startswith("First visit: checkpoint of 3 entries recorded in this browser")
    details = page.locator("[data-ledger-details]").inner_text()
    assert "Checkpoint signature verified with the key confiance.ledger/" in details
    shot(page, "ledger-first-visit")

    log_entries(world, 2, note="Afternoon")
    page.reload()
    status = ledger_state(page, "verified")
    assert status.startswith(
        "Verified: 5 entries; nothing recorded earlier was changed since your last visit ("
    )
    shot(page, "ledger-verified")

    page.get_by_label("Language").select_option("fr")
    status = ledger_state(page, "verified")
    assert status.startswith("Vérifié\u00a0: 5 entrées\u00a0; rien de ce qui était enregistré")

    # Someone rewrites history: the stored hash of the last entry the client saw is replaced,
    # and the log goes on from there (new entries, a new signed checkpoint over the new tree).
    LedgerNode.objects.filter(engagement=world.engagement, level=0, index=4).update(
        hash=secrets.token_bytes(32)
    )
    log_entries(world, 1, note="Evening")
    page.reload()
    ledger_state(page, "failed")
    alert = page.get_by_role("alert")
    assert "Attention\u00a0: le registre de cette mission a été modifié" in alert.inner_text()
    page.get_by_label("Langue").select_option("en")
    ledger_state(page, "failed")
    alert = page.get_by_role("alert")
    text = alert.inner_text()
    assert "Warning: the ledger of this engagement was altered" in text
    assert "The history changed since your last visit: the 5 entries seen" in text
    assert "Contact Provider" in text
    # The alert opens the page, above everything else.
    assert page.locator("#main > *").first.get_attribute("role") == "alert"
    shot(page, "ledger-history-changed")

    # The failure is not forgotten: the kept checkpoint was not replaced by the new one.
    page.reload()
    ledger_state(page, "failed")


def test_browser_consistency_verifier_agrees_with_the_python_one(page, world: World) -> None:
    log_entries(world, 1)
    open_consumption(page, world)
    ledger_state(page, "first")
    leaves = [canonical_json({"n": i}) for i in range(33)]
    cases = []
    for new in range(1, 34):
        for old in range(0, new + 1):
            proof = consistency_proof(leaves[:new], old)
            good = [base64.b64encode(p).decode() for p in proof]
            old_root = base64.b64encode(root_hash(leaves[:old])).decode()
            new_root = base64.b64encode(root_hash(leaves[:new])).decode()
            cases.append([old, new, old_root, new_root, good, True])
            if proof:
                bad = list(good)
                raw = bytearray(proof[-1])
                raw[0] ^= 1
                bad[-1] = base64.b64encode(bytes(raw)).decode()
                cases.append([old, new, old_root, new_root, bad, False])
            if old:
                # The same proof cannot vouch for a different old tree.
                other = base64.b64encode(root_hash(leaves[1 : old + 1])).decode()
                cases.append([old, new, other, new_root, good, False])
    results = page.evaluate(
        """async (cases) => {
          const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const out = [];
          for (const [oldSize, newSize, oldRoot, newRoot, proof] of cases) {
            out.push(await window.confianceLedger.verifyConsistency(
              oldSize, newSize, bytes(oldRoot), bytes(newRoot), proof.map(bytes)));
          }
          return out;
        }""",
        cases,
    )
    wrong = [case[:2] for case, result in zip(cases, results, strict=True) if result != case[5]]
    assert not wrong, f"JS and Python disagree on (old, new) = {wrong[:10]}"
    assert len(cases) > 1000


def test_client_browser_follows_an_announced_key_change_and_refuses_a_silent_one(
    page, world: World
) -> None:
    from confiance.ledger import services
    from confiance.ledger.checkpoint import generate_signing_key
    from confiance.ledger.models import WorkspaceKey

    log_entries(world, 2)
    open_consumption(page, world)
    ledger_state(page, "first")

    # The owner replaces the key: every log announces it, signed by the key the browser pinned.
    services.workspace_key_rotate(
        workspace=world.workspace, actor=world.owner.user, reason="Yearly key change"
    )
    log_entries(world, 1, note="After the change")
    page.reload()
    ledger_state(page, "warning")
    details = page.locator("[data-ledger-details]").inner_text()
    assert "The key signing this ledger changed (" in details
    assert "signed by the key this browser pinned. Reason given: Yearly key change" in details
    page.reload()
    ledger_state(page, "verified")  # the new key is pinned now

    # Someone with the database swaps the key without an announcement.
    current = services.workspace_key_get_or_create(workspace=world.workspace)
    WorkspaceKey.objects.filter(pk=current.pk).update(retired_at=current.created_at)
    private, vkey = generate_signing_key(current.name)
    WorkspaceKey.objects.create(
        workspace=world.workspace,
        name=current.name,
        verifier_key=vkey,
        encrypted_private_key=services._fernet().encrypt(private),
    )
    log_entries(world, 1, note="Silent swap")
    page.reload()
    ledger_state(page, "failed")
    assert "is not the one this browser pinned" in page.get_by_role("alert").inner_text()
