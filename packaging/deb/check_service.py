#!/usr/bin/env python3
"""Runs the installed package's service as systemd would and checks it.

Started by test.sh as root after `dpkg -i`: runs /usr/bin/inspector as the
packaged user with the packaged configuration, with NOTIFY_SOCKET pointing at
a datagram socket this script listens on and WATCHDOG_USEC set, then checks
the sd_notify messages (READY=1 once the port accepts connections, WATCHDOG=1
repeatedly, STOPPING=1 on SIGTERM), the database in the state directory, and
a real rotation with the packaged logrotate configuration (rename + SIGHUP:
new lines go to a new file, the service keeps serving).

Usage: check_service.py PORT
"""

import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CONFIG = "/etc/inspector/inspector.conf"
LOG = "/var/log/inspector/inspector.log"
DATABASE = "/var/lib/inspector/inspector.sqlite"
USER = "inspector"
WATCHDOG_USEC = 1_000_000  # keep-alives every 0.5 s


def fail(message):
    print(f"check_service.py: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def get_v1(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1", timeout=5) as r:
        return r.status


def wait_for(predicate, limit, what, child):
    deadline = time.monotonic() + limit
    while not predicate():
        if child.poll() is not None:
            fail(f"the service exited ({child.returncode}) while waiting for {what}; log:\n{read(LOG)}")
        if time.monotonic() > deadline:
            fail(f"{what} within {limit} s; log:\n{read(LOG)}")
        time.sleep(0.05)


def main():
    port = int(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="inspector-deb-check-")
    os.chmod(tmp, 0o755)
    notify_path = os.path.join(tmp, "notify")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    # The service runs as the packaged user and must be able to send.
    os.chmod(notify_path, 0o666)

    def next_message(limit):
        notify.settimeout(limit)
        try:
            return notify.recv(4096).decode()
        except socket.timeout:
            return None

    # The packaged file says port 5050, which something else on a shared CI
    # machine may use: a second file, read after it, moves the port only.
    override = os.path.join(tmp, "port.conf")
    with open(override, "w") as f:
        f.write(f"[DEFAULT]\nlisten_port = {port}\n")
    os.chmod(override, 0o644)

    env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC=str(WATCHDOG_USEC))
    env.pop("WATCHDOG_PID", None)
    command = [
        "setpriv", f"--reuid={USER}", f"--regid={USER}", "--init-groups",
        "/usr/bin/inspector", "serve", "--config-file", CONFIG, "--config-file", override,
    ]
    child = subprocess.Popen(command, env=env, cwd="/var/lib/inspector",
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        check(child, port, next_message, tmp)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        notify.close()
        subprocess.run(["rm", "-rf", tmp], check=False)


def check(child, port, next_message, tmp):
    started = time.monotonic()
    early = []
    while True:
        message = next_message(30)
        if message is None:
            child.poll()
            fail(f"no READY=1 within 30 s (got {early}); stderr: "
                 f"{child.stderr.read() if child.returncode is not None else ''}; log:\n{read(LOG)}")
        if message == "READY=1":
            break
        if message != "WATCHDOG=1":
            fail(f"unexpected message before READY=1: {message!r}")
        early.append(message)
    ready_after = time.monotonic() - started
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError as e:
        fail(f"READY=1 came before port {port} accepted connections: {e}")
    if get_v1(port) != 200:
        fail("GET /v1 is not 200")
    print(f"READY=1 after {ready_after:.2f} s; port {port} answers")

    count = 0
    watch_started = time.monotonic()
    while time.monotonic() - watch_started < 2.0:
        message = next_message(3)
        if message != "WATCHDOG=1":
            fail(f"expected WATCHDOG=1, got {message!r}")
        count += 1
    if count < 2:
        fail(f"{count} WATCHDOG=1 in 2 s with WATCHDOG_USEC={WATCHDOG_USEC}")
    print(f"{count} WATCHDOG=1 in 2 s")

    owner = pwd.getpwuid(os.stat(DATABASE).st_uid).pw_name
    if owner != USER:
        fail(f"{DATABASE} is owned by {owner}, not {USER}")
    if "inspector is listening" not in read(LOG):
        fail(f"{LOG} lacks the start-up lines:\n{read(LOG)}")
    print(f"database {DATABASE} and log {LOG} owned by {USER}")

    # A forced rotation with the packaged configuration: logrotate renames
    # the file and its postrotate sends SIGHUP.
    state = os.path.join(tmp, "logrotate.state")
    rotate = subprocess.run(["logrotate", "-f", "-s", state, "/etc/logrotate.d/inspector"],
                            capture_output=True, text=True)
    if rotate.returncode != 0:
        fail(f"logrotate failed: {rotate.stderr}")
    if "inspector is listening" not in read(LOG + ".1"):
        fail(f"logrotate did not move the log to {LOG}.1")
    wait_for(lambda: "reopened the log file" in read(LOG), 10,
             "a new log file after logrotate's SIGHUP", child)
    if get_v1(port) != 200:
        fail("GET /v1 after SIGHUP is not 200")
    print("logrotate: old lines in inspector.log.1, new lines in a new inspector.log, still serving")

    child.send_signal(signal.SIGTERM)
    while True:
        message = next_message(10)
        if message is None:
            fail(f"no STOPPING=1 within 10 s of SIGTERM; log:\n{read(LOG)}")
        if message == "STOPPING=1":
            break
        if message != "WATCHDOG=1":
            fail(f"unexpected message after SIGTERM: {message!r}")
    try:
        code = child.wait(timeout=45)
    except subprocess.TimeoutExpired:
        fail("the service did not exit within 45 s of SIGTERM")
    if code != 0:
        fail(f"the service exited with {code}: {child.stderr.read()}")
    if "shutting down" not in read(LOG):
        fail(f"no shutdown line in the new log:\n{read(LOG)}")
    print("STOPPING=1 on SIGTERM, exit status 0")


if __name__ == "__main__":
    main()
