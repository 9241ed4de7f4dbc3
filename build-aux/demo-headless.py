#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demo, headless: what build-aux/demo.sh starts, driven end to end and
# then stopped, so the demo cannot rot (build-aux/test.sh runs it).
# A real signetd on loopback (a technician, a vault secret, the acme-wifi
# profile, the devsim factory's CA), a simulated device (signet-devsim on
# a pseudo-terminal, provisioned with the service's trust document over
# pinned TLS), and the product's own client: signetctl signs in with a code
# from oathtool, attests the device, applies the profile (its secret sealed
# by the service, never seen here) and commits it; the device's state is
# checked with `signet-devsim status`; signetctl signs out, which uploads
# the session log, and the service says it verifies.
#
#   demo-headless.py SIGNETD SIGNET_DEVSIM SIGNETCTL
import json
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(TOP, "tests", "server"))
sys.path.insert(0, os.path.join(TOP, "tests", "devsim"))
import signetd_harness as h  # noqa: E402
from devsim_harness import Devsim, Factory  # noqa: E402

PSK = "demo-site-passphrase"
PROFILE = os.path.join(TOP, "build-aux", "demo-profile.json")


def check(ok, what, detail=""):
    if not ok:
        raise SystemExit("demo: %s\n%s" % (what, detail))


def main():
    signetd, devsim, signetctl = sys.argv[1:4]
    server = h.Server(signetd)
    factory = Factory(devsim, os.path.join(TOP, "data", "models"))
    tmp = tempfile.mkdtemp(prefix="signet-demo-")
    os.chmod(tmp, 0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=tmp, SIGNETCTL_SOCKET=os.path.join(tmp, "agent.socket"),
               SIGNET_STATE_DIR=os.path.join(tmp, "state"), LC_ALL="C.UTF-8")
    dev = None
    signed_in = False

    def ctl(*args, stdin=None):
        r = subprocess.run([signetctl, "--json"] + list(args), input=stdin, capture_output=True,
                           text=True, env=env, timeout=120,
                           stdin=None if stdin is not None else subprocess.DEVNULL)
        try:
            out = json.loads(r.stdout) if r.stdout.strip() else {}
        except ValueError:
            out = {}
        return r, out

    try:
        secret = server.add_user("demo-tech")
        server.add_user("demo-sup", role="supervisor")
        r = server.cli("secret", "set", "site-a/wifi-psk", stdin=PSK + "\n")
        check(r.returncode == 0, "signetd secret set failed", r.stderr)
        r = server.cli("profile", "add", PROFILE)
        check(r.returncode == 0, "signetd profile add failed", r.stderr)
        r = server.cli("ca", "add", os.path.join(factory.ca_dir, "ca-cert.pem"))
        check(r.returncode == 0, "signetd ca add failed", r.stderr)
        server.start()
        print("demo: signetd up at %s" % server.url)
        env["SIGNET_SERVICE_URL"] = server.url
        env["SIGNET_SERVICE_CA"] = os.path.join(server.data, "tls-cert.pem")

        state = os.path.join(factory.tmp, "gw1.state")
        r = factory.cli("provision", "--state", state, "--model-file", factory.model("acme-gw1"),
                        "--serial", "DEMO-0001", "--ca-dir", factory.ca_dir,
                        "--trust-url", server.url, "--trust-ca", env["SIGNET_SERVICE_CA"])
        check(r.returncode == 0, "provisioning the device failed", r.stderr)
        dev = Devsim(devsim, state)
        device = "serial:" + dev.pty
        print("demo: device DEMO-0001 (acme-gw1) on %s" % dev.pty)

        code = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True,
                              text=True, check=True).stdout.strip()
        r, out = ctl("login", "--user", "demo-tech", "--password-stdin", "--otp", code,
                     stdin=h.PASSWORD + "\n")
        check(r.returncode == 0, "signetctl login failed", r.stderr + r.stdout)
        signed_in = True
        print("demo: signed in as demo-tech with a code from oathtool")

        r, out = ctl("attest", device)
        check(r.returncode == 0, "signetctl attest failed", r.stderr + r.stdout)
        print("demo: DEMO-0001 attested: %s" % json.dumps(out, sort_keys=True)[:160])

        r, out = ctl("apply", device, "--profile", "acme-wifi", "--set", "wifi.ssid=demo-site",
                     "--set", "wifi.channel=6", "--set", "wifi.band=5g", "--commit")
        check(r.returncode == 0, "signetctl apply --commit failed", r.stderr + r.stdout)
        print("demo: signed apply and commit: %s" % json.dumps(out, sort_keys=True)[:240])

        st = json.loads(factory.cli("status", "--state", state, "--json").stdout)
        check(st["committed_version"] == 2 and st["pending_version"] == 0,
              "the device is not at version 2", st)
        print("demo: the device runs configuration version 2 (digest %s...)"
              % st["config_digest"][:16])

        r, out = ctl("status")
        session_id = out.get("session")
        r, out = ctl("logout")
        check(r.returncode == 0, "signetctl logout failed", r.stderr + r.stdout)
        signed_in = False
        print("demo: signed out; the session log was uploaded")

        # a supervisor asks the service, which verified it with K_0
        resp, key = server.login("demo-sup")
        check(resp.status == 200, "the supervisor could not sign in", resp)
        token = resp.json["token"]
        path = "/v1/logs/%s" % session_id
        got = server.request("GET", path, headers={
            "Authorization": "PoP " + token,
            "Signet-PoP": h.make_pop(key, token, "GET", path)})
        check(got.status == 200 and got.headers.get("Signet-Log-Verdict") == "verified",
              "the service does not hold a verified log of session %s" % session_id,
              (got.status, dict(got.headers)))
        print("demo: the service holds the session log (%d bytes), verdict: verified"
              % len(got.body))
        check(dev.stop() == 0, "the device did not exit cleanly")
        dev = None
        print("demo: ok")
    finally:
        if signed_in:
            ctl("logout")
        if dev is not None:
            dev.stop()
        factory.cleanup()
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
