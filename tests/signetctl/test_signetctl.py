# SPDX-License-Identifier: LGPL-2.1-or-later
#
# signetctl end to end (issue 5): a real signetd on loopback (TLS, a
# vault secret, a critical credential profile, the devsim factory's CA)
# and two signet-devsim simulators on ptys, provisioned with the
# service's trust document over pinned TLS. signetctl signs in with a
# code from oathtool, applies the profile -- its secret sealed by the
# service from the vault -- to both devices through its session agent,
# commits one and rolls the other back; `signet-devsim status` shows the
# expected state; the session log, uploaded at logout, verifies at the
# service (a supervisor's GET /v1/logs/{id}). Also: exit statuses (wrong
# code, not signed in, bad --set with nothing applied, unknown device,
# tampered and cut logs), log export, --json on success and failure,
# --help of every command, and the agent's socket modes. And: log verify
# --key-file of a log whose K_0 the test knows (signetctl-test-log writes
# it with core's writer) and of copies changed, cut, spliced or re-chained
# by a forger without the key, each named to the record; echo given back
# after Ctrl+C at the password prompt (a pty); step-up with a fresh and a
# reused code; attest and info without sign-in (in process); the idle
# timeout; `devices --watch --json` on a umockdev test bed.
#
#   test_signetctl.py SIGNETCTL SIGNETD SIGNET_DEVSIM MODELS_DIR TEST_LOG TEST_USB|-
import fcntl
import hashlib
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "devsim"))
sys.path.insert(0, os.path.join(HERE, "..", "server"))

from devsim_harness import Devsim, Factory, Tap, expected_digest, model_initial_config  # noqa
from signetd_harness import PASSWORD, Server, make_pop, totp  # noqa: E402

CTL, SIGNETD, DEVSIM, MODELS, TEST_LOG, TEST_USB = sys.argv[1:7]
PSK = "site-a-wpa2-passphrase"
WIFI = {"id": "acme-wifi", "version": 3, "model": "acme-gw1", "class": "credential",
        "critical": True, "description": "Site Wi-Fi credentials",
        "fields": [{"key": "wifi.ssid", "type": "string", "min": 1, "max": 32},
                   {"key": "wifi.psk", "type": "string", "min": 8, "max": 63, "secret": True,
                    "vault": "site-a/wifi-psk"},
                   {"key": "wifi.channel", "type": "int", "min": 1, "max": 13},
                   {"key": "wifi.band", "type": "enum", "values": ["2g4", "5g"]}]}
COMMANDS = ["login", "logout", "status", "step-up", "devices", "info", "attest", "profiles",
            "apply", "commit", "rollback", "log verify", "log export", "log upload"]

t = Tap()
tmp = tempfile.mkdtemp(prefix="signetctl-test-")
os.chmod(tmp, 0o700)
run_dir = os.path.join(tmp, "run")
os.mkdir(run_dir, 0o700)
state_dir = os.path.join(tmp, "state")
socket = os.path.join(run_dir, "signet", "agent.socket")
env = dict(os.environ, XDG_RUNTIME_DIR=run_dir, XDG_CONFIG_HOME=os.path.join(tmp, "config"),
           XDG_STATE_HOME=os.path.join(tmp, "xdg-state"), HOME=tmp, LC_ALL="C.UTF-8",
           SIGNETCTL_AGENT_LOG=os.path.join(tmp, "agent.log"))
for k in ("SIGNET_SERVICE_URL", "SIGNET_SERVICE_CA", "SIGNET_STATE_DIR", "SIGNETCTL_SOCKET"):
    env.pop(k, None)


def ctl(*args, stdin=None, timeout=60):
    return subprocess.run([CTL, "--state-dir", state_dir, "--socket", socket] + list(args),
                          input=stdin, capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=None if stdin is not None
                          else subprocess.DEVNULL)


def ctl_json(*args, **kw):
    r = ctl("--json", *args, **kw)
    try:
        obj = json.loads(r.stdout)
        one = isinstance(obj, dict) and r.stdout.count("\n") == 1
    except ValueError:
        obj, one = None, False
    return r, obj, one


def detail(r):
    return "rc %d\nstdout %s\nstderr %s" % (r.returncode, r.stdout[-1500:], r.stderr[-1500:])


def agent_log():
    try:
        return open(env["SIGNETCTL_AGENT_LOG"]).read()[-3000:]
    except OSError:
        return ""


def wait_gone(path, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and os.path.exists(path):
        time.sleep(0.05)
    return not os.path.exists(path)


def read_line(f, timeout):
    """One line of a pipe within timeout seconds, or None."""
    ready, _, _ = select.select([f], [], [], timeout)
    return f.readline() if ready else None


def log_verify_tests():
    """log verify --key-file: a log with a K_0 known here, and copies of it."""
    k0 = bytes(range(32))
    path = os.path.join(tmp, "k0.log")
    r = subprocess.run([TEST_LOG, path, k0.hex(), "10"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("signetctl-test-log: " + r.stderr)
    # INDEX SEQ OFFSET LENGTH TYPE: 0 session.start, seals at 4, 9 and 14
    rows = [line.split() for line in r.stdout.splitlines()]
    data = open(path, "rb").read()
    recs = [data[int(x[2]):int(x[2]) + int(x[3])] for x in rows]
    t.ok(len(recs) == 15 and [x[4] for x in rows if x[4] == "seal"] == ["seal"] * 3
         and b"".join(recs) == data, "signetctl-test-log: 15 records, 3 seals", r.stdout)
    hexkey = os.path.join(tmp, "k0.hex")
    open(hexkey, "w").write(k0.hex() + "\n")
    rawkey = os.path.join(tmp, "k0.raw")
    open(rawkey, "wb").write(k0)
    badkey = os.path.join(tmp, "bad.hex")
    open(badkey, "w").write(bytes(range(1, 33)).hex())

    def verify(name, blob, key=hexkey):
        copy = os.path.join(tmp, "copy-%s.log" % name)
        open(copy, "wb").write(blob)
        return ctl_json("log", "verify", copy, *(["--key-file", key] if key else []))

    def flip(rec, what=b"acme-wifi"):
        b = bytearray(rec)
        b[rec.index(what)] ^= 0x01
        return bytes(b)

    def rechain(rs):
        # prev_hash is a record's last 32 bytes: SHA-256 of the record before.
        out = [rs[0]]
        for x in rs[1:]:
            out.append(x[:-32] + hashlib.sha256(out[-1]).digest())
        return out

    for key, what in ((hexkey, "hex"), (rawkey, "raw")):
        r, obj, one = verify("intact-" + what, data, key)
        t.ok(r.returncode == 0 and one and obj["verdict"] == "verified"
             and obj["seals_checked"] is True and obj["last_sealed_seq"] == 14
             and obj["records"] == 15, "log verify --key-file (%s key): verified (0)" % what,
             detail(r))
    r = ctl("log", "verify", path, "--key-file", hexkey)
    t.ok(r.returncode == 0 and "verified" in r.stdout and "last sealed seq: 14" in r.stdout,
         "log verify --key-file (text): verified", detail(r))

    forged = rechain(recs[:5] + [flip(recs[5], b"GW1-70")] + recs[6:])
    cases = [
        ("one byte changed in record 5", recs[:5] + [flip(recs[5])] + recs[6:],
         "tampered", "chain-broken", 6, 6, 4),
        ("record 5 deleted", recs[:5] + recs[6:], "tampered", "seq-gap", 5, 6, 4),
        ("records 4 and 5 swapped", recs[:4] + [recs[5], recs[4]] + recs[6:],
         "tampered", "seq-gap", 4, 5, -1),
        ("record 5 duplicated", recs[:6] + [recs[5]] + recs[6:],
         "tampered", "seq-repeated", 6, 5, 4),
        ("record 3 replayed in place of 6", recs[:6] + [recs[3]] + recs[7:],
         "tampered", "seq-backwards", 6, 3, 4),
        ("cut inside record 7", [data[:int(rows[7][2]) + 50]],
         "truncated", "partial-record", 7, -1, 4),
        ("record 5 changed and the chain recomputed without the key", forged,
         "tampered", "seal-mac", 9, 9, 4),
    ]
    for name, parts, verdict, reason, index, seq, sealed in cases:
        r, obj, one = verify(name.replace(" ", "-"), b"".join(parts))
        got = (obj["verdict"], obj["reason"], obj["index"], obj["seq"],
               obj["last_sealed_seq"]) if one else None
        t.ok(r.returncode == 8 and got == (verdict, reason, index, seq, sealed),
             "log verify --key-file, %s: 8, %s/%s at record %d (seq %d)"
             % (name, verdict, reason, index, seq), detail(r))
    r, obj, one = verify("forged-nokey", b"".join(forged), None)
    t.ok(r.returncode == 10 and one and obj["verdict"] == "chain-intact",
         "the re-chained forgery passes the keyless check (10): only the seals show it",
         detail(r))
    r, obj, one = verify("wrong-key", data, badkey)
    t.ok(r.returncode == 8 and one and obj["reason"] == "seal-mac" and obj["index"] == 4,
         "log verify with the wrong K_0: 8, seal-mac at the first seal", detail(r))


def prompt_interrupt_test():
    """Ctrl+C at the password prompt gives the terminal its echo back."""
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(master)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            os.execve(CTL, [CTL, "--state-dir", state_dir, "--socket",
                            os.path.join(run_dir, "signet", "none.socket"), "login",
                            "--user", "alice", "--service", "https://127.0.0.1:9",
                            "--ca", os.path.join(tmp, "no-ca.pem")], env)
        finally:
            os._exit(127)
    seen, echo_during = b"", None
    deadline = time.monotonic() + 10
    while b"Password for alice" not in seen and time.monotonic() < deadline:
        if select.select([master], [], [], 0.2)[0]:
            try:
                seen += os.read(master, 1024)
            except OSError:
                break
    # the prompt is written before echo goes off: wait for that too
    while time.monotonic() < deadline:
        echo_during = termios.tcgetattr(slave)[3] & termios.ECHO
        if not echo_during:
            break
        time.sleep(0.02)
    os.write(master, b"\x03")
    _, status = os.waitpid(pid, 0)
    echo_after = termios.tcgetattr(slave)[3] & termios.ECHO
    os.close(master)
    os.close(slave)
    t.ok(b"Password for alice" in seen and echo_during == 0,
         "login on a terminal: the password prompt turns echo off", seen)
    t.ok(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT and echo_after != 0,
         "Ctrl+C at the password prompt: killed by SIGINT, echo given back to the terminal",
         (status, echo_after))


def watch_test():
    """devices --watch --json on a umockdev test bed: one object per event."""
    if TEST_USB == "-":
        t.ok(True, "devices --watch # SKIP umockdev-1.0 missing at configure time")
        return
    # The bed's own uevents go through the preload library too (it finds the
    # devices in the bed's /sys).
    benv = dict(env, LD_PRELOAD="libumockdev-preload.so.0",
                ASAN_OPTIONS="verify_asan_link_order=0:intercept_tls_get_addr=0")
    bed = subprocess.Popen([TEST_USB], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                           env=benv)
    watch = None
    try:
        first = read_line(bed.stdout, 5) or ""
        if not first.startswith("UMOCKDEV_DIR="):
            t.ok(True, "devices --watch # SKIP no umockdev test bed: %r" % first)
            return
        wenv = dict(benv, UMOCKDEV_DIR=first.strip().split("=", 1)[1])
        watch = subprocess.Popen([CTL, "--json", "--socket", socket, "devices", "--watch"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=wenv)
        note = read_line(watch.stderr, 5) or ""  # "Watching...": the monitor listens
        events = []
        for cmd in ("add", "remove"):
            bed.stdin.write(cmd + "\n")
            bed.stdin.flush()
            read_line(bed.stdout, 5)
            line = read_line(watch.stdout, 5)
            events.append(json.loads(line) if line else None)
        watch.send_signal(signal.SIGINT)
        rc = watch.wait(timeout=10)
        ok = [e and e["event"] for e in events] == ["added", "removed"] and all(
            e["device"].get("usb_serial") == "GW1-0007"
            and e["device"].get("path") == "/dev/ttyACM0" for e in events)
        t.ok(ok and rc == 0, "devices --watch --json: an object per plug and unplug, exit 0 on "
             "Ctrl+C", (note, events, rc, watch.stderr.read()[-1500:]))
    finally:
        if watch is not None and watch.poll() is None:
            watch.kill()
            watch.wait()
        bed.stdin.close()
        bed.wait(timeout=10)


factory = Factory(DEVSIM, MODELS)
srv = Server(SIGNETD)
devs = []
try:
    # ---- offline: help, usage, logs without a session ------------------------
    for c in COMMANDS:
        r = ctl(*c.split(), "--help")
        t.ok(r.returncode == 0 and "Exit status" in r.stdout and "--json" in r.stdout,
             "signetctl %s --help" % c, detail(r))
    r = ctl("--help")
    t.ok(r.returncode == 0 and all(c in r.stdout for c in COMMANDS) and " 4  " in r.stdout,
         "signetctl --help lists every command and the exit statuses", detail(r))
    r = ctl("--version")
    t.ok(r.returncode == 0 and r.stdout.startswith("signetctl "), "--version", detail(r))
    r = ctl("frobnicate")
    t.eq(r.returncode, 2, "an unknown command: usage (2)")
    r = ctl("apply", "serial:/dev/null", "--bogus")
    t.eq(r.returncode, 2, "an unknown option: usage (2)")

    r = ctl("status")
    t.eq(r.returncode, 3, "status before login: not signed in (3)")
    r, obj, one = ctl_json("apply", "serial:/dev/null", "--profile", "acme-wifi")
    t.ok(r.returncode == 3 and one and obj["error"]["name"] == "not-signed-in"
         and obj["error"]["domain"] and obj["error"]["message"],
         "--json apply before login: one JSON error object, exit 3", detail(r))
    r = ctl("login", "--user", "alice", "--password-stdin", "--otp", "123456", stdin="x\n")
    t.eq(r.returncode, 2, "login without --service/--ca: usage (2)")
    r, obj, one = ctl_json("attest", "serial:/dev/null")
    t.ok(r.returncode == 2 and one and "--service" in obj["error"]["message"],
         "attest without sign-in nor --service/--ca: usage (2)", detail(r))
    log_verify_tests()
    prompt_interrupt_test()
    watch_test()

    # ---- the service, the devices ---------------------------------------------
    r = srv.cli("ca", "add", os.path.join(factory.ca_dir, "ca-cert.pem"))
    t.ok(r.returncode == 0, "signetd ca add (the devsim factory CA)", r.stderr)
    r = srv.cli("secret", "set", "site-a/wifi-psk", stdin=PSK + "\n")
    t.ok(r.returncode == 0, "signetd secret set site-a/wifi-psk", r.stderr)
    path = os.path.join(srv.tmp, "wifi.json")
    with open(path, "w") as f:
        json.dump(WIFI, f)
    r = srv.cli("profile", "add", path)
    t.ok(r.returncode == 0, "signetd profile add acme-wifi", r.stderr)
    srv.add_user("alice")
    srv.add_user("bob")
    srv.add_user("sue", role="supervisor")
    srv.start()
    env["SIGNET_SERVICE_URL"] = srv.url
    env["SIGNET_SERVICE_CA"] = os.path.join(srv.data, "tls-cert.pem")

    serials = ["GW1-8001", "GW1-8002"]
    for sn in serials:
        state = os.path.join(factory.tmp, sn + ".state")
        r = factory.cli("provision", "--state", state, "--model-file", factory.model("acme-gw1"),
                        "--serial", sn, "--ca-dir", factory.ca_dir, "--trust-url", srv.url,
                        "--trust-ca", os.path.join(srv.data, "tls-cert.pem"))
        if r.returncode != 0:
            raise RuntimeError("provision: " + r.stderr)
        devs.append(Devsim(DEVSIM, state))
    a, b = devs
    status0 = [factory.status(d.state) for d in devs]

    # ---- sign-in ------------------------------------------------------------------
    wrong = totp(srv.secrets["alice"], time.time() - 3600)
    r, obj, one = ctl_json("login", "--user", "alice", "--password-stdin", "--otp", wrong,
                           stdin=PASSWORD + "\n")
    t.ok(r.returncode == 3 and one and obj["error"]["name"] == "invalid-credentials",
         "login with a wrong code: 3 (invalid-credentials)", detail(r) + agent_log())
    t.ok(wait_gone(socket), "the agent of a failed login goes away", agent_log())

    code = totp(srv.secrets["alice"])
    r, obj, one = ctl_json("login", "--user", "alice", "--password-stdin", "--otp", code,
                           stdin=PASSWORD + "\n")
    t.ok(r.returncode == 0 and one and obj.get("username") == "alice"
         and obj.get("state") == "signed-in",
         "login with a code from oathtool", detail(r) + agent_log())
    session_id = obj.get("session") if obj else None
    log_path = obj.get("log") if obj else None
    t.ok(PASSWORD not in r.stdout + r.stderr and code not in r.stdout + r.stderr,
         "neither the password nor the code is printed")
    st_dir, st_sock = os.stat(os.path.dirname(socket)), os.stat(socket)
    t.ok(stat.S_IMODE(st_dir.st_mode) == 0o700 and stat.S_IMODE(st_sock.st_mode) == 0o600
         and stat.S_ISSOCK(st_sock.st_mode),
         "the agent's socket dir is 0700 and its socket 0600",
         (oct(st_dir.st_mode), oct(st_sock.st_mode)))
    r = ctl("login", "--user", "alice", "--password-stdin", "--otp", code, stdin=PASSWORD + "\n")
    t.eq(r.returncode, 1, "a second login while signed in: refused (1)")
    r, obj, one = ctl_json("status")
    t.ok(r.returncode == 0 and one and obj["state"] == "signed-in" and obj["remaining"] > 0
         and obj["session"] == session_id, "status --json: signed in", detail(r))
    r = ctl("status")
    t.ok(r.returncode == 0 and "alice" in r.stdout, "status: who and until when", detail(r))

    r, obj, one = ctl_json("profiles", "--model", "acme-gw1")
    t.ok(r.returncode == 0 and one and [p["id"] for p in obj["profiles"]] == ["acme-wifi"],
         "profiles --model acme-gw1", detail(r))

    # ---- refusals with nothing applied ------------------------------------------
    A, B = "serial:" + a.pty, "serial:" + b.pty
    good = ["--set", "wifi.ssid=site-a", "--set", "wifi.channel=6", "--set", "wifi.band=5g"]
    r, obj, one = ctl_json("apply", A, "--profile", "acme-wifi", "--set", "wifi.ssid=site-a",
                           "--set", "wifi.channel=99")
    t.ok(r.returncode == 2 and one and obj["error"]["name"] == "invalid-value",
         "apply with wifi.channel=99 (out of range): 2, invalid-value",
         detail(r) + agent_log())
    for bad, name in ((["--set", "wifi.channel"], "no '='"),
                      (["--set", "wifi.nope=1"], "a key the profile lacks"),
                      (["--set", "wifi.psk=hunter22hunter"], "a secret field"),
                      (["--set", "wifi.channel=six"], "not an int"),
                      (["--set", "wifi.band=6g"], "not among the enum's values"),
                      (["--set", "wifi.band=5g", "--set", "wifi.band=2g4"], "set twice")):
        r = ctl("apply", A, "--profile", "acme-wifi", *bad)
        t.eq(r.returncode, 2, "apply with --set %s: usage (2)" % name)
    r = ctl("apply", A, "--profile", "no-such-profile", *good)
    t.eq(r.returncode, 2, "apply of an unknown profile: usage (2)")
    st = factory.status(a.state)
    t.ok(st["committed_version"] == status0[0]["committed_version"]
         and st["pending_version"] == 0 and st["config_digest"] == status0[0]["config_digest"],
         "nothing was applied on A by the refused commands", st)
    r, obj, one = ctl_json("info", "GW1-9999")
    t.ok(r.returncode == 7 and one and obj["error"]["name"] == "unknown-device",
         "an unknown device serial: 7 (unknown-device)", detail(r))
    r = ctl("info", "serial:" + os.path.join(tmp, "no-such-tty"))
    t.eq(r.returncode, 7, "a port that does not exist: 7")

    # ---- apply to both, commit A, roll back B -------------------------------------
    receipts = []
    for d, sn in ((A, serials[0]), (B, serials[1])):
        r, obj, one = ctl_json("apply", d, "--profile", "acme-wifi", *good)
        ok = r.returncode == 0 and one and obj.get("device") == sn and obj.get("op") == "apply"
        t.ok(ok and obj["pending_version"] == 2
             and len(obj["config_digest"]) == 64 and len(obj["command_digest"]) == 64,
             "apply acme-wifi to %s (its secret sealed from the vault): receipt" % sn,
             detail(r) + agent_log())
        receipts.append(obj)
    st = factory.status(a.state)
    t.ok(st["pending_version"] == 2 and st["committed_version"] == 1,
         "A holds the change pending", st)
    r, obj, one = ctl_json("devices")
    listed = {x.get("serial") for x in obj["devices"]} if one else set()
    t.ok(r.returncode == 0 and set(serials) <= listed, "devices: both devices, by serial",
         detail(r))
    r, obj, one = ctl_json("commit", serials[0])
    commit_receipt = obj if one else {}
    t.ok(r.returncode == 0 and one and obj["committed_version"] == 2
         and obj["pending_version"] == 0, "commit %s (named by serial)" % serials[0], detail(r))
    r, obj, one = ctl_json("rollback", B)
    t.ok(r.returncode == 0 and one and obj["committed_version"] == 1
         and obj["pending_version"] == 0, "rollback %s" % serials[1], detail(r))

    config = dict(model_initial_config(factory.model("acme-gw1")), **{
        "wifi.ssid": "site-a", "wifi.channel": 6, "wifi.band": "5g", "wifi.psk": PSK})
    sa, sb = factory.status(a.state), factory.status(b.state)
    t.ok(sa["committed_version"] == 2 and sa["pending_version"] == 0
         and sa["config_digest"] == expected_digest(config),
         "A: version 2 committed, its configuration holds the vault's secret", sa)
    t.ok(sb["committed_version"] == 1 and sb["pending_version"] == 0
         and sb["config_digest"] == status0[1]["config_digest"],
         "B: rolled back to its factory configuration", sb)
    t.ok(receipts[0].get("config_digest") == status0[0]["config_digest"]
         and commit_receipt.get("config_digest") == expected_digest(config),
         "the receipts name the configuration running: the factory one after apply, the "
         "new one after commit", (receipts[0], commit_receipt))
    r, obj, one = ctl_json("info", serials[0])
    cfg = obj.get("config", {}) if one else {}
    t.ok(r.returncode == 0 and cfg.get("wifi.ssid") == "site-a" and cfg.get("wifi.channel") == 6
         and "wifi.psk" not in cfg and obj.get("attested") is True,
         "info: the committed configuration, no secret read back", detail(r))
    r, obj, one = ctl_json("attest", B)
    t.ok(r.returncode == 0 and one and obj.get("verdict") == "trusted"
         and len(obj.get("cert_sha256", "")) == 64, "attest B: trusted", detail(r))
    r = ctl("log", "upload")
    t.ok(r.returncode == 0 and "Uploaded" in r.stdout, "log upload while signed in", detail(r))

    # ---- step-up: a fresh code (the next time step), then the same again -----------
    fresh = totp(srv.secrets["alice"], time.time() + 30)
    r, obj, one = ctl_json("step-up", "--otp", fresh)
    t.ok(r.returncode == 0 and one and obj.get("state") == "signed-in",
         "step-up --otp with a fresh code", detail(r) + agent_log())
    r, obj, one = ctl_json("step-up", "--otp", fresh)
    t.ok(r.returncode == 3 and one and obj["error"]["name"] == "invalid-credentials",
         "step-up --otp with the code just used: refused (3)", detail(r))
    r = ctl("status")
    t.eq(r.returncode, 0, "still signed in after a refused step-up")

    # ---- logout: the log sealed, uploaded, verified by the service ----------------
    r, obj, one = ctl_json("logout")
    t.ok(r.returncode == 0 and one and obj.get("uploaded") is True, "logout: log uploaded",
         detail(r) + agent_log())
    t.ok(wait_gone(socket), "the agent is gone after logout", agent_log())
    r = ctl("status")
    t.eq(r.returncode, 3, "status after logout: 3")
    r = ctl("commit", serials[0])
    t.eq(r.returncode, 3, "commit after logout: not signed in (3)")

    # ---- without sign-in: attest and info in this process ---------------------------
    r, obj, one = ctl_json("attest", A)
    t.ok(r.returncode == 0 and one and obj.get("verdict") == "trusted"
         and obj.get("serial") == serials[0] and obj.get("signed_in") is False
         and len(obj.get("cert_sha256", "")) == 64,
         "attest without sign-in (in process, GET /v1/trust): trusted", detail(r))
    r, obj, one = ctl_json("info", B)
    t.ok(r.returncode == 0 and one and obj.get("serial") == serials[1]
         and obj.get("model") == "acme-gw1" and "config" not in obj,
         "info --json without sign-in: HELLO and attestation, no configuration", detail(r))
    r = ctl("info", B)
    t.ok(r.returncode == 0 and "not read" in r.stdout and "genuine" in r.stdout,
         "info without sign-in says the configuration is not read", detail(r))
    r = ctl("attest", "serial:" + os.path.join(tmp, "no-such-tty"))
    t.eq(r.returncode, 7, "attest without sign-in, a port that does not exist: 7")
    t.ok(not os.path.exists(socket), "attest and info without sign-in start no agent")

    resp, skey = srv.login("sue")
    stok = resp.json["token"]
    p = "/v1/logs/" + str(session_id)
    got = srv.request("GET", p, headers={"Authorization": "PoP " + stok,
                                         "Signet-PoP": make_pop(skey, stok, "GET", p)})
    t.ok(got.status == 200 and got.headers.get("Signet-Log-Verdict") == "verified"
         and got.headers.get("Signet-Log-Outcome") == "verified",
         "the service verifies the uploaded session log with K_0 (supervisor GET)",
         (got.status, dict(got.headers)))
    local = open(log_path, "rb").read() if log_path and os.path.exists(log_path) else b""
    t.ok(local != b"" and got.body == local, "the service holds the local log byte for byte")

    # ---- the local log: verify, tamper, export --------------------------------------
    r, obj, one = ctl_json("log", "verify", log_path)
    t.ok(r.returncode == 10 and one and obj["verdict"] == "chain-intact"
         and obj["seals_checked"] is False,
         "log verify without a key: chain intact, seals unchecked (10)", detail(r))
    tampered = os.path.join(tmp, "tampered.log")
    data = bytearray(local)
    pos = local.find(b"site-a")
    if pos < 0:
        pos = len(data) // 2
    data[pos] ^= 0x01
    open(tampered, "wb").write(bytes(data))
    r, obj, one = ctl_json("log", "verify", tampered)
    t.ok(r.returncode == 8 and one and obj["verdict"] in ("tampered", "malformed")
         and obj["index"] >= 1, "log verify of a copy with one byte changed: 8, names a record",
         detail(r))
    cut = os.path.join(tmp, "cut.log")
    open(cut, "wb").write(local[:len(local) - 7])
    r, obj, one = ctl_json("log", "verify", cut)
    t.ok(r.returncode == 8 and one and obj["verdict"] != "chain-intact",
         "log verify of a cut copy: 8", detail(r))
    r = ctl("log", "verify", tampered)
    t.ok(r.returncode == 8 and "first bad record" in r.stdout, "log verify (text): 8",
         detail(r))

    r = ctl("log", "export", log_path, "--format", "json")
    recs = json.loads(r.stdout) if r.returncode == 0 else []
    types = [x["type"] for x in recs]
    t.ok(r.returncode == 0 and types[0] == "session.start" and "device.apply" in types
         and "device.commit" in types and "device.rollback" in types
         and types[-2:] == ["session.end", "seal"],
         "log export --format json: the session's records", detail(r))
    t.ok(PSK not in r.stdout, "the exported log holds no secret value")
    out = os.path.join(tmp, "log.csv")
    r = ctl("log", "export", log_path, "--format", "csv", "--output", out)
    csv = open(out).read() if os.path.exists(out) else ""
    t.ok(r.returncode == 0 and csv.startswith("seq,time,type,actor,device,summary")
         and "device.apply" in csv, "log export --format csv --output", detail(r))
    r = ctl("log", "export", log_path, "--format", "xml")
    t.eq(r.returncode, 2, "log export --format xml: usage (2)")
    r, obj, one = ctl_json("log", "export", log_path, "--format", "json")
    t.ok(r.returncode == 0 and one and len(obj["records"]) == len(recs),
         "--json log export: one object holding the records", detail(r))

    # ---- the idle timeout: the agent signs out and goes ---------------------------------
    r = ctl("login", "--user", "bob", "--password-stdin", "--otp", totp(srv.secrets["bob"]),
            "--idle-timeout", "2", stdin=PASSWORD + "\n")
    t.ok(r.returncode == 0 and os.path.exists(socket), "login --idle-timeout 2",
         detail(r) + agent_log())
    started = time.monotonic()
    gone = wait_gone(socket, 10)
    waited = time.monotonic() - started
    r = ctl("status")
    t.ok(gone and 1.5 <= waited < 6 and r.returncode == 3,
         "after 2 s idle the agent signed out: socket gone, status 3 (%.1f s)" % waited,
         detail(r) + agent_log())
except Exception:
    import traceback
    t.ok(False, "no exception", traceback.format_exc() + agent_log())
finally:
    if os.path.exists(socket):
        subprocess.run([CTL, "--socket", socket, "logout"], env=env, capture_output=True,
                       timeout=30)
    for d in devs:
        d.stop()
    srv.cleanup()
    factory.cleanup()
    if os.environ.get("SIGNETCTL_TEST_KEEP"):
        t.note("kept " + tmp)  # the agent's stderr is in agent.log there
    else:
        shutil.rmtree(tmp, ignore_errors=True)
t.done()
