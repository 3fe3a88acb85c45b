"""Erasing a person from a workspace: their identifying data replaced everywhere, every ledger
still verifying.

The workspace's rows that point at the person (found by the model graph, as the personal-data
download finds them, so a capability added later is covered without a hand-kept list) are
moved to a new, inactive pseudonymous account ("Erased person"); their e-mail address and full
name are replaced by that pseudonym in every text and JSON field of the workspace (notices, the
audit log's details, internal texts) and in the API's remembered answers. In the ledgers,
personal fields are salted commitments: the openings that name the person are dropped
(`ledger_erase_person`), so every leaf, root, checkpoint and cosignature is unchanged and every
bundle still verifies, the erased fields being listed as "erased".

The account itself is anonymised too when the person belongs to no other workspace; otherwise
it stays theirs in the other workspaces, with nothing of this one left attached to it.
What cannot be found is free text naming the person otherwise than by their full name or
e-mail address (a nickname in a note): the owner is told so on the page.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import AuditEvent, Membership, Role, User

ERASED_DOMAIN = "erased.invalid"
TEXT_FIELDS = (models.CharField, models.TextField)


@dataclass(frozen=True)
class ErasureReport:
    pseudonym_id: int
    rows_moved: int
    texts_replaced: int
    openings_erased: int
    account_anonymised: bool


def is_erased(user: User) -> bool:
    return user.email.endswith("@" + ERASED_DOMAIN)


def erasable_people(*, fetched_by: Membership) -> list[User]:
    """People the owner may erase: current members other than owners, and former members."""
    if not access.can_erase_people(fetched_by):
        return []
    workspace_id = fetched_by.workspace_id
    current = User.objects.filter(memberships__workspace_id=workspace_id).exclude(
        memberships__workspace_id=workspace_id, memberships__role=Role.OWNER
    )
    removed_emails = [
        str(data.get("email", ""))
        for data in AuditEvent.objects.filter(
            workspace_id=workspace_id, verb="membership.remove"
        ).values_list("data", flat=True)
    ]
    former = User.objects.filter(email__in=removed_emails).exclude(
        memberships__workspace_id=workspace_id
    )
    people = {u.pk: u for u in [*current, *former] if not is_erased(u)}
    return sorted(people.values(), key=lambda u: (u.get_full_name().lower(), u.pk))


def _workspace_models(*, texts: bool = False) -> list[type[models.Model]]:
    """Models holding workspace rows; for text rewriting, never the ledger's (a leaf or an
    opening rewritten would no longer verify: openings naming the person are dropped instead)."""
    return [
        model
        for model in django_apps.get_models()
        if model.__module__.startswith("confiance.")
        and "workspace" in {f.name for f in model._meta.concrete_fields}
        and not (texts and model._meta.app_label == "ledger")
    ]


def _replace(value: str, terms: list[str], pseudonym: str) -> str:
    lowered = value.lower()
    for term in terms:
        start = lowered.find(term.lower())
        while start != -1:
            value = value[:start] + pseudonym + value[start + len(term) :]
            lowered = value.lower()
            start = lowered.find(term.lower(), start + len(pseudonym))
    return value


def _json_replace(value: object, terms: list[str], pseudonym: str) -> object:
    if isinstance(value, str):
        return _replace(value, terms, pseudonym)
    if isinstance(value, list):
        return [_json_replace(v, terms, pseudonym) for v in value]
    if isinstance(value, dict):
        return {k: _json_replace(v, terms, pseudonym) for k, v in value.items()}
    return value


def _scrub_texts(workspace_id: int, terms: list[str], pseudonym: str) -> int:
    """Replace the terms in every text and JSON field of the workspace's rows."""
    replaced = 0
    for model in _workspace_models(texts=True):
        for field in model._meta.concrete_fields:
            if isinstance(field, models.JSONField):
                # JSON is stored with non-ASCII characters escaped: look for both spellings.
                spellings = {t for term in terms for t in (term, json.dumps(term)[1:-1])}
                lookup = f"{field.attname}__icontains"
                matched: Q = Q()
                for spelling in spellings:
                    matched |= Q(**{lookup: spelling})
                rows = model._base_manager.filter(matched, workspace_id=workspace_id)
            elif isinstance(field, TEXT_FIELDS) and not field.choices:
                matched = Q()
                for term in terms:
                    matched |= Q(**{f"{field.attname}__icontains": term})
                rows = model._base_manager.filter(matched, workspace_id=workspace_id)
            else:
                continue
            for pk, value in rows.values_list("pk", field.attname):
                if isinstance(field, models.JSONField):
                    new: object = _json_replace(value, terms, pseudonym)
                elif isinstance(field, models.EmailField):
                    # An address may be unique within its parent (one participant per address
                    # and opportunity): each row gets its own placeholder, still an address.
                    new = f"erased-{pk}@erased.invalid"
                else:
                    new = _replace(str(value), terms, pseudonym)[: field.max_length or None]
                if new != value:
                    # The audit log refuses updates through its manager: erasure is the one
                    # rewrite it allows, done with the plain queryset on this row only.
                    models.QuerySet(model).filter(pk=pk).update(**{field.attname: new})
                    replaced += 1
    return replaced


def _move_rows(workspace_id: int, user: User, pseudonym: User) -> int:
    """Point every row of the workspace that points at `user` to `pseudonym`."""
    moved = 0
    for model in _workspace_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is User:
                moved += (
                    models.QuerySet(model)
                    .filter(workspace_id=workspace_id, **{field.name: user})
                    .update(**{field.name: pseudonym})
                )
        for m2m in model._meta.many_to_many:
            if m2m.related_model is not User:
                continue
            through: Any = m2m.remote_field.through  # type: ignore[attr-defined]
            own = m2m.m2m_field_name()
            other = m2m.m2m_reverse_field_name()
            in_workspace = model._base_manager.filter(workspace_id=workspace_id).values("pk")
            moved += through.objects.filter(**{f"{own}__in": in_workspace, other: user}).update(
                **{other: pseudonym}
            )
    return moved


@transaction.atomic
def person_erase(*, by: Membership, user_id: int) -> ErasureReport:
    """The owner erases a person from the workspace (see the module's docstring)."""
    from confiance.api.models import IdempotentRequest
    from confiance.ledger.models import LedgerOpening
    from confiance.ledger.services import ledger_erase_person

    if not access.can_erase_people(by):
        raise PermissionDenied
    user = next((u for u in erasable_people(fetched_by=by) if u.pk == user_id), None)
    if user is None:
        if Membership.objects.filter(
            workspace_id=by.workspace_id, user_id=user_id, role=Role.OWNER
        ).exists():
            raise ValidationError(_("An owner cannot be erased: make them a member first."))
        raise User.DoesNotExist
    workspace = by.workspace
    terms = [t for t in (user.email, user.full_name.strip()) if t]
    label = _("Erased person")
    pseudonym = User.objects.create_user(
        email=f"erased-{secrets.token_hex(6)}@{ERASED_DOMAIN}", password=None, full_name=label
    )
    pseudonym.is_active = False
    pseudonym.save(update_fields=["is_active"])
    # The ledgers first: the openings are found by the person's data, still in place.
    openings = ledger_erase_person(workspace=workspace, email=user.email, names=terms[1:])
    # Personal fields are where people are named; an internal text (a note) that names them
    # loses its opening too, so no audience keeps the name, and the field is listed as erased.
    named = Q()
    for term in terms:
        named |= Q(value__icontains=term) | Q(value__icontains=json.dumps(term)[1:-1])
    openings += LedgerOpening.objects.filter(named, workspace_id=by.workspace_id).delete()[0]
    Membership.objects.filter(workspace_id=by.workspace_id, user=user).delete()
    moved = _move_rows(by.workspace_id, user, pseudonym)
    texts = _scrub_texts(by.workspace_id, terms, label)
    # Answers the API remembers for retries may quote the person: forget those of this workspace.
    remembered = IdempotentRequest.objects.filter(workspace_id=by.workspace_id)
    quoting = [
        pk
        for pk, body in remembered.values_list("pk", "body")
        if any(t.lower().encode() in bytes(body).lower() for t in terms)
    ]
    IdempotentRequest.objects.filter(pk__in=quoting).delete()
    anonymised = not Membership.objects.filter(user=user).exists()
    if anonymised:
        user.email = f"erased-{secrets.token_hex(6)}@{ERASED_DOMAIN}"
        user.full_name = label
        user.is_active = False
        user.totp_secret = ""
        user.totp_enabled_at = None
        user.set_unusable_password()
        user.save()
    audit_record(
        verb="person.erase",
        actor=by.user,
        workspace=workspace,
        target=pseudonym,
        data={"rows": moved, "texts": texts, "openings": openings, "account": anonymised},
    )
    return ErasureReport(
        pseudonym_id=pseudonym.pk,
        rows_moved=moved,
        texts_replaced=texts,
        openings_erased=openings,
        account_anonymised=anonymised,
    )
