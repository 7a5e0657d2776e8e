"""The IMAP connection against a real server (pymap) on loopback: the three security modes, the password
sources, and every way of not getting in reported as one clear error of the mailbox source."""

from __future__ import annotations

import pytest

from tests.imap_server import free_port, imap_server
from tracker.config import Mailbox
from tracker.mailbox.imap import CA_FILE_ENV, KEYRING_SERVICE, MailboxUnavailable, ensure_folder, open_mailbox


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    with imap_server(tmp_path_factory.mktemp("imap-tls"), tls=True) as server:
        yield server


@pytest.fixture(scope="module")
def plain_server():
    with imap_server() as server:
        yield server


def _cfg(server, **kw) -> Mailbox:
    values = dict(host=server.host, port=server.port, security="none", user=server.user, password=server.password)
    values.update(kw)
    return Mailbox(**values)


def test_plain_connection_logs_in_and_selects_the_folder(plain_server):
    plain_server.append(b"From: a@example.org\r\nSubject: x\r\n\r\nhi\r\n")
    with open_mailbox(_cfg(plain_server)) as box:
        assert box.folder.get() == "INBOX"
        assert len(box.uids("ALL")) >= 1


def test_starttls_and_implicit_tls_verify_the_certificate(tls_server, monkeypatch):
    monkeypatch.setenv(CA_FILE_ENV, str(tls_server.cafile))
    with open_mailbox(_cfg(tls_server, security="starttls")) as box:
        assert box.client.sock.version().startswith("TLS")
    with open_mailbox(_cfg(tls_server, security="ssl", port=tls_server.ssl_port)) as box:
        assert box.client.sock.version().startswith("TLS")


def test_an_untrusted_certificate_is_refused(tls_server, monkeypatch):
    monkeypatch.delenv(CA_FILE_ENV, raising=False)
    with pytest.raises(MailboxUnavailable) as caught, open_mailbox(
            _cfg(tls_server, security="ssl", port=tls_server.ssl_port)):
        pass
    assert "chứng chỉ" in caught.value.vi and "certificate" in caught.value.en


def test_a_wrong_password_is_a_clear_error_of_the_mailbox(plain_server):
    with pytest.raises(MailboxUnavailable) as caught, open_mailbox(_cfg(plain_server, password="wrong")):
        pass
    assert "Đăng nhập hộp thư" in caught.value.vi and "Login to the mailbox" in caught.value.en
    assert caught.value.exit_code == 1


def test_an_unreachable_mailbox_is_a_clear_error_quickly():
    cfg = Mailbox(host="127.0.0.1", port=free_port(), security="none", user="u", password="p")
    with pytest.raises(MailboxUnavailable) as caught, open_mailbox(cfg, timeout=3):
        pass
    assert "Không kết nối được hộp thư" in caught.value.vi and "refused" in caught.value.en


def test_a_missing_folder_names_the_key(plain_server):
    with pytest.raises(MailboxUnavailable) as caught, open_mailbox(_cfg(plain_server, folder="Không có")):
        pass
    assert "mailbox.folder" in caught.value.en


def test_without_a_password_nothing_prompts_and_the_error_says_where_to_put_it(plain_server, monkeypatch):
    import keyring
    from keyring.backends.fail import Keyring as NoKeyring

    monkeypatch.setattr(keyring.core, "_keyring_backend", NoKeyring())
    with pytest.raises(MailboxUnavailable) as caught, open_mailbox(_cfg(plain_server, password=None)):
        pass
    assert "TRACKER_IMAP_PASSWORD" in caught.value.vi and KEYRING_SERVICE in caught.value.en


def test_the_password_can_come_from_the_system_keyring(plain_server, monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1
        store: dict = {}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    monkeypatch.setattr(keyring.core, "_keyring_backend", MemoryKeyring())
    keyring.set_password(KEYRING_SERVICE, plain_server.user, plain_server.password)
    with open_mailbox(_cfg(plain_server, password=None)) as box:
        assert box.login_result[0] == "OK"


def test_the_processed_folder_is_created_when_missing(plain_server):
    with open_mailbox(_cfg(plain_server)) as box:
        ensure_folder(box, "Đã xử lý")
        ensure_folder(box, "Đã xử lý")  # twice is fine
    assert "Đã xử lý" in [name for name in _decoded_folders(plain_server)]


def _decoded_folders(server):
    from imap_tools.imap_utf7 import utf7_decode

    return [utf7_decode(name.encode()) for name in server.folders()]
