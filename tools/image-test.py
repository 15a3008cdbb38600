#!/usr/bin/env python3
"""`make image-test`: a smoke test of the image `make image` built.

It runs the image as Kubernetes would (non-root, read-only root filesystem,
no capabilities, models from a read-only volume at /mnt/models), waits until
the image's own HEALTHCHECK (the binary's `health` subcommand) passes, asks
for predictions and compares them with the same binary run outside the
container, then stops it with the image's STOPSIGNAL and checks that it
exited 0 by itself, before podman's SIGKILL.

Where this machine cannot run containers it says so and skips (exit 0);
anything wrong with the image fails (exit 1). Standard library only.
Usage: tools/image-test.py [IMAGE]   (default fastpredict-server:latest)
"""

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "testthat", "fixtures", "format-1.0")
# One plain and one gzipped model, a regression and a classifier with probabilities.
MODELS = ["lm-mtcars.json", "randomForest-iris-gz.json.gz"]
# Bounds on waiting, not assertions on speed: a container that is not ready by then has failed.
READY_LIMIT = 60.0
GRACE = 10
ENTRYPOINT = "/usr/local/bin/fastpredict-server"


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def podman(*args, check=True, timeout=120):
    p = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise Fail("podman %s exited %d: %s" % (" ".join(args[:2]), p.returncode, p.stderr.strip()))
    return p


# podman's own defaults for these limits, which it sets in every container.
PODMAN_ULIMITS = (("nofile", resource.RLIMIT_NOFILE, 1048576), ("nproc", resource.RLIMIT_NPROC, 32768))


def runtime_flags():
    """runc, and podman's default ulimits capped at this process's hard limits: a sandbox without
    CAP_SYS_RESOURCE cannot raise them (nofile 1048576 is refused where the hard limit is 20000), and crun
    refuses hosts with hybrid cgroup v1/v2. Timed health checks need systemd, so they are off; the test
    runs the image's health check itself."""
    flags = ["--runtime", "runc"] if shutil.which("runc") else []
    for name, limit, default in PODMAN_ULIMITS:
        _, hard = resource.getrlimit(limit)
        n = default if hard == resource.RLIM_INFINITY else min(default, hard)
        flags += ["--ulimit", "%s=%d:%d" % (name, n, n)]
    return flags + ["--health-interval", "disable"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port, method, path, body=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def check_config(image):
    cfg = json.loads(podman("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    want = {
        "User": "65532:65532",
        "StopSignal": "SIGTERM",
        "Entrypoint": [ENTRYPOINT],
    }
    for key, value in want.items():
        if cfg.get(key) != value:
            raise Fail("the image's %s is %r, not %r" % (key, cfg.get(key), value))
    if "8080/tcp" not in (cfg.get("ExposedPorts") or {}):
        raise Fail("the image does not expose 8080/tcp")
    if "/mnt/models" not in (cfg.get("Volumes") or {}):
        raise Fail("the image has no /mnt/models volume")
    # podman shows the health check beside Config (Docker's image format keeps it; OCI's has no field for it).
    health = json.loads(podman("image", "inspect", "--format", "{{json .HealthCheck}}", image).stdout or "null")
    test = (health or {}).get("Test") or []
    if test[-1:] != ["health"]:
        raise Fail("the image's health check is %r, not the binary's `health`" % test)


def probe(image, flags):
    """Starts the image once without a network. When podman or its OCI runtime cannot create the container
    (exit 125-127, the binary not named: namespaces, cgroups, rlimits) the machine cannot run containers;
    anything else that goes wrong is the image's fault."""
    p = podman("run", "--rm", "--network", "none", *flags, image, "--version", check=False)
    if p.returncode in (125, 126, 127) and ENTRYPOINT not in p.stderr:
        lines = [l for l in p.stderr.strip().splitlines() if l.startswith("Error")] or p.stderr.strip().splitlines()
        raise Skip("this machine cannot run containers; podman says: %s" % (lines[-1] if lines else p.returncode))
    if p.returncode != 0 or "fastpredict-server" not in p.stdout:
        raise Fail("the image's binary did not run (exit %d): %s%s" % (p.returncode, p.stdout, p.stderr))


def requests(port):
    """Every model's prototype record posted to its vetiver route, plus the OIP metadata: (path, body) pairs."""
    out = []
    for file in MODELS:
        name = file.split(".")[0]
        status, proto = http(port, "GET", "/models/%s/prototype" % name)
        if status != 200:
            raise Fail("GET /models/%s/prototype answered %d: %s" % (name, status, proto[:200]))
        record = {col: spec["example"] for col, spec in json.loads(proto).items()}
        out.append(("/models/%s/predict" % name, json.dumps([record]).encode()))
        out.append(("/v2/models/%s" % name, None))
    return out


def answers(port, reqs):
    got = []
    for path, body in reqs:
        status, text = http(port, "POST" if body is not None else "GET", path, body)
        if status != 200:
            raise Fail("%s answered %d: %s" % (path, status, text[:300]))
        got.append(json.loads(text))
    return got


def native_answers(binary, models, port, reqs):
    """The same requests to the same static binary outside any container."""
    proc = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", str(port), "--models", models, "--watch", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: subprocess.run([binary, "health", "--port", str(port)], capture_output=True).returncode == 0,
                   "the native server to be ready")
        return answers(port, reqs)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_until(cond, what):
    until = time.monotonic() + READY_LIMIT
    while time.monotonic() < until:
        if cond():
            return
        time.sleep(0.2)
    raise Fail("waited %.0f s for %s" % (READY_LIMIT, what))


def main():
    image = sys.argv[1] if len(sys.argv) > 1 else "fastpredict-server:latest"
    if not shutil.which("podman"):
        raise Skip("podman is not installed (`make image` installs it when run as root)")
    if podman("image", "exists", image, check=False).returncode != 0:
        raise Fail("there is no image %s: `make image` builds it" % image)
    check_config(image)
    flags = runtime_flags()
    probe(image, flags)

    host = subprocess.run(["rustc", "-vV"], capture_output=True, text=True).stdout
    target = next(l.split(": ")[1] for l in host.splitlines() if l.startswith("host: "))
    binary = os.path.join(ROOT, "server", "target", target, "release", "fastpredict-server")
    if not os.access(binary, os.X_OK):
        raise Fail("no static binary at %s: `make image` builds it" % binary)

    models = tempfile.mkdtemp(prefix="fastpredict-image-test-")
    name = "fastpredict-image-test-%d" % os.getpid()
    try:
        for f in MODELS:
            shutil.copy(os.path.join(FIXTURES, f), models)
            os.chmod(os.path.join(models, f), 0o644)
        os.chmod(models, 0o755)  # the container's user 65532 reads them
        port = free_port()
        # Host networking on 127.0.0.1 only: the sandbox has no bridge networking and nothing leaves the machine.
        podman("run", "--detach", "--name", name, *flags, "--network", "host",
               "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
               "--env", "FASTPREDICT_HOST=127.0.0.1", "--env", "FASTPREDICT_PORT=%d" % port,
               "--volume", "%s:/mnt/models:ro" % models, image, "--shutdown-timeout", str(GRACE - 2))
        polls = [0]

        def healthy():
            polls[0] += 1
            return podman("healthcheck", "run", name, check=False).returncode == 0
        wait_until(healthy, "the image's HEALTHCHECK to pass")
        status, _ = http(port, "GET", "/v2/health/live")
        if status != 200:
            raise Fail("/v2/health/live answered %d" % status)

        reqs = requests(port)
        got = answers(port, reqs)
        want = native_answers(binary, models, free_port(), reqs)
        if got != want:
            raise Fail("the container's answers differ from the native binary's:\n%s\n%s" % (got, want))

        stop = podman("stop", "--time", str(GRACE), name, check=False)
        state = json.loads(podman("inspect", "--format", "{{json .State}}", name).stdout)
        logs = podman("logs", name).stdout
        if stop.returncode != 0 or state.get("ExitCode") != 0:
            raise Fail("after SIGTERM the container exited %s, not 0 within %d s:\n%s"
                       % (state.get("ExitCode"), GRACE, logs[-2000:]))
        if '"stopped"' not in logs:
            raise Fail("the server did not log its graceful stop:\n%s" % logs[-2000:])
        size = podman("image", "inspect", "--format", "{{.Size}}", image).stdout.strip()
        print("image-test: passed: %s (%s bytes) ran as 65532 with a read-only root and no capabilities, was healthy "
              "after %d health-check runs, answered %d requests as the native binary does, and exited 0 on SIGTERM"
              % (image, size, polls[0], len(reqs)))
    finally:
        podman("rm", "--force", "--ignore", name, check=False)
        shutil.rmtree(models, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Skip as e:
        print("image-test: SKIPPED: %s" % e)
    except Fail as e:
        print("image-test: FAILED: %s" % e)
        sys.exit(1)
