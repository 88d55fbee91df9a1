"""Re-encrypt every encrypted field with the newest key in FIELD_ENCRYPTION_KEYS.

Rotation: generate a key, put it first in FIELD_ENCRYPTION_KEYS (keep the old keys after it), restart,
run this command, then remove the old keys. Rows are rewritten in batches inside transactions; running it
twice is harmless.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from alliance.accounts.audit import log_event
from alliance.core import crypto
from alliance.core.fields import encrypted_fields

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = encrypted_fields(model)
            if not fields:
                continue
            table = model._meta.db_table
            quoted = ", ".join(connection.ops.quote_name(f) for f in fields)
            pk = connection.ops.quote_name(model._meta.pk.column)
            rewritten = 0
            with connection.cursor() as cursor:
                # Read the raw tokens: the model would hand back plaintext, and we need to know which
                # rows still use an old key.
                cursor.execute(f"SELECT {pk}, {quoted} FROM {connection.ops.quote_name(table)}")  # noqa: S608
                rows = cursor.fetchall()
            stale = [
                row[0]
                for row in rows
                if any(value and crypto.needs_rotation(value) for value in row[1:])
            ]
            for start in range(0, len(stale), BATCH):
                with transaction.atomic():
                    batch = list(model._default_manager.filter(pk__in=stale[start : start + BATCH]))
                    model._default_manager.bulk_update(batch, fields)
                    rewritten += len(batch)
            total += rewritten
            self.stdout.write(f"{model._meta.label}: {rewritten} of {len(rows)} rows re-encrypted")
        log_event("security.encryption_keys.rotated", data={"rows": total})
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows now use the newest key."))
