"""A real SMTP server on 127.0.0.1 for the digest tests (aiosmtpd, from PyPI or Debian).

    python3 smtp_server.py --port-file F --dir D [--mode ok|reject|fail-once]
                           [--starttls CERT KEY] [--auth USER:PASS]

Writes the port it listens on to F once it accepts connections, and every message it accepts
to D as N.eml with N.json beside it (envelope sender and recipients, the AUTH login, whether
the session was under TLS, and the message as a mail client reads it: subject, Message-ID,
content type, the decoded text and HTML parts). --mode reject answers every DATA with 554; fail-once answers the
first with 451 and accepts the rest. --starttls offers STARTTLS with that certificate and
requires it before MAIL; --auth requires AUTH (PLAIN or LOGIN) with these credentials.
Runs until killed.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, out, mode):
        self.out, self.mode, self.count, self.refused = out, mode, 0, 0

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "reject":
            return "554 5.7.1 Message rejected by the test server"
        if self.mode == "fail-once" and self.refused == 0:
            self.refused += 1
            return "451 4.3.0 Try again later"
        self.count += 1
        base = os.path.join(self.out, str(self.count))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
        meta = {
            "subject": str(msg["Subject"]),
            "message_id": str(msg["Message-ID"]),
            "content_type": msg.get_content_type(),
            "header_from": str(msg["From"]),
            "header_to": str(msg["To"]),
            "text": plain.get_content() if plain is not None else None,
            "html": html.get_content() if html is not None else None,
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "auth": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
            "tls": session.ssl is not None,
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Message accepted"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--mode", default="ok", choices=["ok", "reject", "fail-once"])
    ap.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--auth")
    a = ap.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    kwargs = {}
    if a.starttls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*a.starttls)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok, auth_data=auth_data if ok else None)

        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=bool(a.starttls))
    controller = Controller(Handler(a.dir, a.mode), hostname="127.0.0.1", port=port,
                            server_hostname="smtp.test", **kwargs)
    controller.start()
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
