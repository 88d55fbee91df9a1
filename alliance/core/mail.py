"""The email backend used when no mail server is configured (EMAIL_HOST unset): the demo and development.

Why not Django's console backend: it prints every message, To: header included, into the log, and
Alliance emails go to clients (check-in links) — a client's address must never reach a log file, which
is kept longer and read by more people than the clinical record. This backend logs one line per message,
"email kept in the outbox directory …: subject=…, recipients=N" (subjects never carry a name or
clinical content by design), and writes the full message, for whoever runs the demo or develops, to `DATA_DIR/outbox/` as an .eml file
readable only by the server's user (mode 0600, the directory 0700): the same place as the database,
with the same protection.

With EMAIL_HOST set, settings use Django's SMTP backend instead and nothing is written to disk.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

logger = logging.getLogger("alliance.mail")


def outbox_dir() -> Path:
    return Path(settings.DATA_DIR) / "outbox"


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = outbox_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            recipients = message.recipients()
            if not recipients:
                continue
            name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
            # O_EXCL with 0600 from the start: the file is never readable by others, not even briefly.
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(message.message().as_bytes(linesep="\n"))
            except OSError:
                # A full disk (or a file-size limit) leaves a truncated .eml behind: remove it, so
                # the outbox's retry writes one whole message instead of a fragment and a message.
                path.unlink(missing_ok=True)
                raise
            logger.info(
                "email kept in the outbox directory (no mail server is set): subject=%s, recipients=%d",
                message.subject,
                len(recipients),
            )
            sent += 1
        return sent
