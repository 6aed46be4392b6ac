"""E-mail each digest through the lab's SMTP server (config ``email``; off while unset).

The message is the digest's Markdown as plain text (it reads well as is, and every mail client
shows it), with the topics' counts in the subject. The password comes from the environment
variable ``email.password_env`` names, never from the config file. Any failure is a MailError
with one line naming the server and what to check; the digest file is written before, so nothing
is lost when mail is down.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from index.errors import KetlitError
from index.settings import EmailSettings


class MailError(KetlitError):
    """The digest could not be e-mailed (the harvest and the digest file stand)."""


def digest_message(email: EmailSettings, subject: str, text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = email.sender or ""
    msg["To"] = ", ".join(email.to)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=(email.sender or "ketlit@localhost").split("@")[-1])
    msg.set_content(text)
    return msg


def _password(email: EmailSettings) -> str | None:
    if not email.username:
        return None
    if not email.password_env:
        raise MailError("email.username is set but email.password_env is not: name the "
                        "environment variable that holds the SMTP password")
    value = os.environ.get(email.password_env)
    if value is None:
        raise MailError(f"email: the environment variable {email.password_env} (email.password_env)"
                        " is not set; export the SMTP password in it")
    return value


def send_message(email: EmailSettings, msg: EmailMessage) -> None:
    where = f"{email.smtp_host}:{email.smtp_port}"
    password = _password(email)
    try:
        with smtplib.SMTP(email.smtp_host or "", email.smtp_port,
                          timeout=email.timeout_s) as smtp:
            if email.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if email.username:
                smtp.login(email.username, password or "")
            refused = smtp.send_message(msg)
    except smtplib.SMTPNotSupportedError:
        raise MailError(f"email: {where} does not offer STARTTLS; set email.starttls: false if "
                        "that server is trusted (e.g. on this machine)") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"email: {where} refused the login of {email.username!r} "
                        f"({exc.smtp_code}); check email.username and the password in "
                        f"{email.password_env}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"email: {where} refused every recipient "
                        f"({', '.join(exc.recipients)}); check email.to") from None
    except smtplib.SMTPException as exc:
        raise MailError(f"email: {where} did not take the digest: {exc}") from None
    except TimeoutError:
        raise MailError(f"email: no answer from {where} within {email.timeout_s:g} s; "
                        "check email.smtp_host and smtp_port") from None
    except OSError as exc:
        raise MailError(f"email: cannot reach {where} ({exc.strerror or exc}); check "
                        "email.smtp_host and smtp_port") from None
    if refused:
        raise MailError(f"email: {where} refused {', '.join(refused)}; the others were sent")


def mail_digest(email: EmailSettings, path: Path) -> None:
    """Send the digest file at ``path`` to ``email.to``."""
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0].lstrip("# ") if text else "ketlit digest"
    counts = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    subject = first + (f" ({'; '.join(counts)})" if counts else "")
    if len(subject) > 200:
        subject = subject[:197] + "..."
    send_message(email, digest_message(email, subject, text))
