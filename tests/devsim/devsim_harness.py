# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs signet-devsim for the tests: a factory (CA, our own authority key,
# provisioning) and simulator processes (pty, JSON status lines, signals).
# The protocol itself is spoken by devsim_client.py. Prints TAP.
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

import cbor2

from devsim_client import Authority, Device, det, sha256


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.t0 = time.monotonic()

    def ok(self, cond, name, detail=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name))
        else:
            # a TAP TODO ("name # TODO why") is an expected failure: shown,
            # not counted
            if "# TODO" not in name:
                self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            for line in str(detail).splitlines():
                print("# " + line)
        sys.stdout.flush()

    def eq(self, got, want, name):
        self.ok(got == want, name, "got  %r\nwant %r" % (got, want))

    def note(self, text):
        for line in str(text).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def step(self, name, fn):
        """Run one step: ok (with its time), or not ok with the traceback;
        returns fn's value (None after a failure; False fails too)."""
        began = time.monotonic()
        try:
            value = fn()
            self.ok(value is not False, name)
            self.note("  %.1f s (at %.1f s)" % (time.monotonic() - began,
                                                 time.monotonic() - self.t0))
            return value
        except Exception:
            self.ok(False, name, traceback.format_exc())
            return None

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def model_initial_config(path):
    """The factory configuration a model file describes, as the device
    should hold it: {key: initial} for the fields that have one."""
    model = json.load(open(path))
    return {f["key"]: f["initial"] for f in model["fields"] if "initial" in f}


class Factory:
    """A CA directory, a test authority key and its trust document."""

    def __init__(self, devsim, models_dir, tmp=None):
        self.devsim = devsim
        self.models_dir = models_dir
        self.tmp = tmp or tempfile.mkdtemp(prefix="devsim-test-")
        self.ca_dir = os.path.join(self.tmp, "ca")
        self.authority = Authority()
        self.trust_file = os.path.join(self.tmp, "trust.json")
        with open(self.trust_file, "w") as f:
            json.dump(self.authority.trust_document(), f)
        r = self.cli("ca", "create", "--dir", self.ca_dir, "--name", "Acme Test Factory CA",
                     "--json")
        if r.returncode != 0:
            raise RuntimeError("ca create: " + r.stderr)
        self.ca_pem = open(os.path.join(self.ca_dir, "ca-cert.pem"), "rb").read()

    def cli(self, *args, timeout=60):
        return subprocess.run([self.devsim] + list(args), capture_output=True, text=True,
                              timeout=timeout)

    def model(self, name):
        return os.path.join(self.models_dir, name + ".json")

    def provision(self, name, model, serial, *extra, check=True):
        state = os.path.join(self.tmp, name + ".state")
        r = self.cli("provision", "--state", state, "--model-file", self.model(model),
                     "--serial", serial, "--ca-dir", self.ca_dir, "--trust-file",
                     self.trust_file, "--json", *extra)
        if check and r.returncode != 0:
            raise RuntimeError("provision %s: %s" % (serial, r.stderr))
        info = json.loads(r.stdout) if r.returncode == 0 else None
        return state, info, r

    def status(self, state):
        r = self.cli("status", "--state", state, "--json")
        if r.returncode != 0:
            raise RuntimeError("status: " + r.stderr)
        return json.loads(r.stdout)

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


class Devsim:
    """One `signet-devsim run --pty` process."""

    def __init__(self, devsim, state, *args, env=None, status_file=None):
        self.state = state
        self.status_file = status_file or state + ".events.jsonl"
        self.errlog = state + ".stderr"
        err = open(self.errlog, "a")
        self.proc = subprocess.Popen([devsim, "run", "--state", state, "--pty",
                                      "--json-status", self.status_file] + list(args),
                                     stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        err.close()
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("pty /dev/"):
            try:
                self.proc.wait(timeout=30)
            finally:
                self.proc.stdout.close()
            raise RuntimeError("devsim did not start (%r, rc %r): %s"
                               % (line, self.proc.returncode, self.stderr()))
        self.pty = line.split(None, 1)[1].strip()
        self.device = None

    def connect(self, timeout=2.0, retries=0):
        self.device = Device(self.pty, timeout=timeout, retries=retries)
        return self.device

    def events(self, kind=None):
        out = []
        try:
            with open(self.status_file) as f:
                for line in f:
                    if not line.endswith("\n"):
                        break
                    e = json.loads(line)
                    if kind is None or e.get("event") == kind:
                        out.append(e)
        except FileNotFoundError:
            pass
        return out

    def last_status(self):
        st = self.events("status")
        return st[-1] if st else None

    def wait_event(self, pred, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events():
                if pred(e):
                    return e
            time.sleep(0.02)
        return None

    def stderr(self):
        try:
            return open(self.errlog).read()
        except OSError:
            return ""

    def close_device(self):
        if self.device is not None:
            self.device.close()
            self.device = None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Send sig; the exit status."""
        self.close_device()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def wait(self, timeout=30):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.close_device()
        self.proc.stdout.close()
        return rc


def expected_digest(config):
    return sha256(det(config)).hex()


__all__ = ["Tap", "Factory", "Devsim", "model_initial_config", "expected_digest", "cbor2"]
