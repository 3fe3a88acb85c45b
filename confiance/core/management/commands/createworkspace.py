"""`confiance createworkspace NAME --owner EMAIL`: a workspace and its owner, from the terminal."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from confiance.core.models import User
from confiance.core.services import user_create, workspace_create


class Command(BaseCommand):
    help = "Create a workspace with its owner (created too if the address is new)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name")
        parser.add_argument("--owner", required=True, help="The owner's e-mail address.")
        parser.add_argument("--slug", default="")
        parser.add_argument("--full-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["owner"].strip().lower()
        owner = User.objects.filter(email=email).first()
        if owner is None:
            password = getpass.getpass(f"Password for {email}: ")
            if not password:
                raise CommandError("A password is required for a new owner.")
            owner = user_create(email=email, password=password, full_name=options["full_name"])
        try:
            workspace = workspace_create(name=options["name"], owner=owner, slug=options["slug"])
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Workspace '{workspace.name}' ({workspace.slug}) created.")
        )
