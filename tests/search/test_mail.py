"""Digests e-mailed through a local SMTP server (aiosmtpd) the tests start; failures are one line."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from index.errors import ConfigError
from index.settings import EmailSettings, settings_from_mapping
from search.mail import MailError, mail_digest


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _authenticator(_server, _session, _envelope, mechanism, data) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"lab", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port,
                            authenticator=_authenticator, auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _digest(tmp_path: Path) -> Path:
    path = tmp_path / "2026-12-04.md"
    path.write_text("# ketlit digest 2026-12-04\n\n## depression: 2 new\n\n- **Esketamine.** "
                    "[PMID 1](https://pubmed.ncbi.nlm.nih.gov/1/)\n\n## ocd: 0 new\n",
                    encoding="utf-8")
    return path


def test_digest_is_mailed_to_every_recipient(smtp, tmp_path: Path) -> None:
    inbox, port = smtp
    email = EmailSettings(smtp_host="127.0.0.1", smtp_port=port, sender="ketlit@lab.org",
                          to=("a@lab.org", "b@lab.org"), starttls=False)
    mail_digest(email, _digest(tmp_path))
    assert len(inbox.messages) == 1
    rcpt, msg = inbox.messages[0]
    assert rcpt == ["a@lab.org", "b@lab.org"]
    assert msg["Subject"] == "ketlit digest 2026-12-04 (depression: 2 new; ocd: 0 new)"
    assert msg["From"] == "ketlit@lab.org"
    assert "[PMID 1](https://pubmed.ncbi.nlm.nih.gov/1/)" in msg.get_payload(decode=True).decode()


def test_login_takes_the_password_from_the_named_variable(smtp, tmp_path: Path,
                                                           monkeypatch) -> None:
    inbox, port = smtp
    email = EmailSettings(smtp_host="127.0.0.1", smtp_port=port, sender="k@lab.org",
                          to=("a@lab.org",), starttls=False, username="lab",
                          password_env="KETLIT_TEST_SMTP_PW")
    with pytest.raises(MailError, match="KETLIT_TEST_SMTP_PW .* is not set"):
        mail_digest(email, _digest(tmp_path))
    monkeypatch.setenv("KETLIT_TEST_SMTP_PW", "wrong")
    with pytest.raises(MailError, match="refused the login of 'lab'"):
        mail_digest(email, _digest(tmp_path))
    monkeypatch.setenv("KETLIT_TEST_SMTP_PW", "s3cret")
    mail_digest(email, _digest(tmp_path))
    assert len(inbox.messages) == 1


def test_failures_are_one_line_naming_the_server(smtp, tmp_path: Path) -> None:
    _inbox, port = smtp
    tls = EmailSettings(smtp_host="127.0.0.1", smtp_port=port, sender="k@lab.org",
                        to=("a@lab.org",), starttls=True)
    with pytest.raises(MailError, match=rf"127\.0\.0\.1:{port} does not offer STARTTLS"):
        mail_digest(tls, _digest(tmp_path))
    dead = EmailSettings(smtp_host="127.0.0.1", smtp_port=_free_port(), sender="k@lab.org",
                         to=("a@lab.org",), starttls=False)
    with pytest.raises(MailError, match="cannot reach 127.0.0.1"):
        mail_digest(dead, _digest(tmp_path))


def test_email_config_is_declared_with_defaults_and_checked(tmp_path: Path) -> None:
    assert not settings_from_mapping({}, tmp_path).email.enabled
    s = settings_from_mapping({"email": {"smtp_host": "mail.lab.org", "from": "k@lab.org",
                                         "to": "a@lab.org"}}, tmp_path).email
    assert s.enabled and s.to == ("a@lab.org",) and s.smtp_port == 587 and s.starttls
    for bad, msg in [({"smtp_host": "m", "from": "k@lab.org"}, "email.to"),
                     ({"smtp_host": "m", "to": ["a@lab.org"]}, "email.from"),
                     ({"to": ["nobody"]}, "email.to"), ({"port": 25}, "unknown"),
                     ({"smtp_port": 0}, "email.smtp_port"), ({"starttls": "yes"}, "email.starttls")]:
        with pytest.raises(ConfigError, match=msg):
            settings_from_mapping({"email": bad}, tmp_path)


def test_after_a_run_the_cli_mails_and_a_failure_only_warns(smtp, tmp_path: Path,
                                                            capsys) -> None:
    from search.cli import _mail_digest

    inbox, port = smtp
    cfg = {"email": {"smtp_host": "127.0.0.1", "smtp_port": port, "from": "k@lab.org",
                     "to": ["a@lab.org"], "starttls": False}}
    assert _mail_digest(settings_from_mapping(cfg, tmp_path), _digest(tmp_path)) is True
    assert len(inbox.messages) == 1
    assert _mail_digest(settings_from_mapping({}, tmp_path), _digest(tmp_path)) is False
    cfg["email"]["starttls"] = True
    assert _mail_digest(settings_from_mapping(cfg, tmp_path), _digest(tmp_path)) is False
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "digest not e-mailed" in err and "STARTTLS" in err
