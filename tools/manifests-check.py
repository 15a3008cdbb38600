#!/usr/bin/env python3
"""`make manifests-check`: validates every manifest under deploy/ offline.

- Kubernetes kinds against the strict JSON schemas that kubernetes-validate
  bundles (unknown fields are errors), for every Kubernetes version from
  MIN_KUBERNETES to the newest it knows.
- KServe kinds against the openAPIV3Schema of KServe's own CRDs
  (tools/kserve-crds/), made strict the same way: an object with listed
  properties takes no other field unless the CRD preserves unknown fields.
  Their metadata is checked as Kubernetes' ObjectMeta.
- What a schema cannot see: the two Deployment variants differ only in the
  models volume; Service, HPA and PDB find the Deployment's pods; probes,
  security context, preStop sleep and grace period fit together; the
  InferenceService finds its runtime, model format and protocol; the image's
  user, port and volume are the ones the manifests assume; and, given the
  server binary, every flag the manifests pass is one it takes.

Every check prints a line; the last is "manifests: N passed, M failed".
Usage: tools/manifests-check.py [--server BIN] [DIR]   (DIR defaults to deploy/)
"""

import argparse
import copy
import glob
import gzip
import json
import os
import re
import subprocess
import sys

import jsonschema
import kubernetes_validate
import yaml
from referencing import Registry, Resource

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The preStop `sleep` action, which needs no shell in the image, is on by default from 1.30 (beta).
MIN_KUBERNETES = (1, 30)
SCHEMAS = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")
KSERVE_CRDS = os.path.join(ROOT, "tools", "kserve-crds")
OBJECT_META = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# KServe's accepted values (pkg/constants/constants.go), which its CRD leaves as plain strings.
KSERVE_PROTOCOLS = {"v1", "v2", "grpc-v1", "grpc-v2"}
KSERVE_MODES = {"RawDeployment", "Standard", "Serverless", "Knative", "ModelMesh"}
KSERVE_AUTOSCALERS = {"hpa", "external", "keda", "none"}
MODELS_DIR = "/mnt/models"
SERVER_CONTAINER = "fastpredict"
# KServe merges the InferenceService's predictor into the runtime's container of this name.
KSERVE_CONTAINER = "kserve-container"


class Report:
    def __init__(self, quiet=False):
        self.passed = 0
        self.failed = 0
        self.problems = []
        self.quiet = quiet

    def check(self, name, problems):
        """One check: passes when `problems` (a list of strings) is empty."""
        self.problems += problems
        if problems:
            self.failed += 1
        else:
            self.passed += 1
        if not self.quiet:
            print("%s %s" % ("FAIL" if problems else "ok  ", name))
            for p in problems:
                print("     %s" % p)


def load(dirname):
    """(file, resource) for every YAML document under dirname."""
    out = []
    for path in sorted(glob.glob(os.path.join(dirname, "**", "*.yaml"), recursive=True)):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    out.append((os.path.relpath(path, ROOT), doc))
    return out


def versions():
    found = []
    for name in os.listdir(SCHEMAS):
        m = re.match(r"^v(\d+)\.(\d+)\.\d+-local-strict$", name)
        if m and (int(m.group(1)), int(m.group(2))) >= MIN_KUBERNETES:
            found.append((int(m.group(1)), int(m.group(2)), name))
    return sorted(found)


def errors_of(validator, resource):
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(top)", e.message)
            for e in sorted(validator.iter_errors(resource), key=lambda e: list(map(str, e.absolute_path)))]


class Kubernetes:
    """Validators from kubernetes-validate's strict schemas, one registry per version."""

    def __init__(self, dirname):
        self.dir = os.path.join(SCHEMAS, dirname)
        with open(os.path.join(self.dir, "_definitions.json")) as f:
            self.registry = Resource.from_contents(json.load(f)) @ Registry()

    def schema_file(self, resource):
        # kubernetes-validate's names: apps/v1 Deployment -> deployment-apps-v1.json, v1 Service -> service-v1.json
        group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", resource["apiVersion"])
        return os.path.join(self.dir, "%s-%s.json" % (resource["kind"].lower(), group))

    def validator(self, resource):
        path = self.schema_file(resource)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            schema = json.load(f)
        return jsonschema.Draft202012Validator(schema, registry=Resource.from_contents(schema) @ self.registry)


def strict(schema):
    """An OpenAPI v3 schema from a CRD as a strict JSON schema (what the API server's pruning enforces)."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {k: strict(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            out[key] = strict(value)
        else:
            out[key] = value
    if schema.get("x-kubernetes-int-or-string") and "anyOf" not in schema:
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if "properties" in schema and "additionalProperties" not in schema \
            and not schema.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def kserve_validators(registry):
    """apiVersion/kind -> validator, from the vendored CRD schemas."""
    out = {}
    for path in sorted(glob.glob(os.path.join(KSERVE_CRDS, "*.json.gz"))):
        with gzip.open(path) as f:
            crd = json.load(f)
        schema = strict(crd["openAPIV3Schema"])
        schema["properties"]["apiVersion"] = {"const": crd["apiVersion"]}
        schema["properties"]["kind"] = {"const": crd["kind"]}
        schema["properties"]["metadata"] = {"$ref": OBJECT_META}
        schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata", "spec"})
        out[(crd["apiVersion"], crd["kind"])] = jsonschema.Draft202012Validator(schema, registry=registry)
    return out


def name(resource):
    return "%s/%s" % (resource.get("kind"), (resource.get("metadata") or {}).get("name"))


class Schemas:
    """The strict schemas, loaded once: Kubernetes' for each version from MIN_KUBERNETES on, and KServe's CRDs."""

    def __init__(self):
        vs = versions()
        if not vs:
            raise SystemExit("kubernetes-validate has no schemas for Kubernetes %d.%d or newer" % MIN_KUBERNETES)
        self.k8s = [("%d.%d" % (major, minor), Kubernetes(d)) for major, minor, d in vs]
        self.kserve = kserve_validators(self.k8s[-1][1].registry)
        self.span = "%s-%s" % (self.k8s[0][0], self.k8s[-1][0])

    def check(self, report, resources):
        for path, r in resources:
            key = (r.get("apiVersion"), r.get("kind"))
            if key in self.kserve:
                report.check("%s %s against KServe's CRD (strict)" % (path, name(r)), errors_of(self.kserve[key], r))
                continue
            found = {}  # each problem once, with the versions that have it
            for version, v in self.k8s:
                validator = v.validator(r)
                errors = ["no schema for %s %s" % key] if validator is None else errors_of(validator, r)
                for e in errors:
                    found.setdefault(e, []).append(version)
            problems = ["Kubernetes %s: %s" % (at[0] if len(at) == 1 else "%s-%s" % (at[0], at[-1]), e)
                        for e, at in found.items()]
            report.check("%s %s against Kubernetes %s (strict)" % (path, name(r), self.span), problems)


def of_kind(resources, kind):
    return [(p, r) for p, r in resources if r.get("kind") == kind]


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def named(containers, container_name):
    return next((c for c in containers if c.get("name") == container_name), None)


def flag(args, flag_name):
    """The value of --flag_name=VALUE in a container's args, or None."""
    for a in args or []:
        if a.startswith("--%s=" % flag_name):
            return a.split("=", 1)[1]
    return None


def container_checks(c, pod_spec=None):
    """What every fastpredict container must have, in a Deployment or a KServe runtime."""
    problems = []
    sc = c.get("securityContext") or {}
    pod_sc = (pod_spec or {}).get("securityContext") or {}
    if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
        problems.append("runAsNonRoot is not set")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if (sc.get("capabilities") or {}).get("drop") != ["ALL"]:
        problems.append("capabilities.drop is not [ALL]")
    probes = {"livenessProbe": "/v2/health/live", "readinessProbe": "/v2/health/ready"}
    for probe, path in probes.items():
        got = ((c.get(probe) or {}).get("httpGet") or {}).get("path")
        if got != path:
            problems.append("%s is on %r, not %s" % (probe, got, path))
    res = c.get("resources") or {}
    for part in ("requests", "limits"):
        for what in ("cpu", "memory"):
            if what not in (res.get(part) or {}):
                problems.append("no %s %s" % (what, part[:-1]))
    sleep = (((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds")
    if not sleep:
        problems.append("no preStop sleep (endpoints would still send traffic after SIGTERM)")
    return problems, sleep or 0


def deployment_checks(report, resources):
    deployments = of_kind(resources, "Deployment")
    services, hpas, pdbs = (of_kind(resources, k) for k in ("Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"))
    for path, d in deployments:
        spec = d["spec"]
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"].get("labels", {})
        problems = []
        if not matches(spec["selector"].get("matchLabels"), labels):
            problems.append("the selector does not match the pod template's labels")
        c = named(pod["containers"], SERVER_CONTAINER)
        if c is None:
            report.check("%s %s runs the server" % (path, name(d)), ["no container named %s" % SERVER_CONTAINER])
            continue
        more, sleep = container_checks(c, pod)
        problems += more
        shutdown = float(flag(c.get("args"), "shutdown-timeout") or 30)
        grace = pod.get("terminationGracePeriodSeconds", 30)
        if not grace > sleep + shutdown:
            problems.append("terminationGracePeriodSeconds %s is not above preStop sleep %s + --shutdown-timeout %s"
                            % (grace, sleep, shutdown))
        mounts = [m for m in c.get("volumeMounts", []) if m.get("mountPath") == MODELS_DIR]
        if len(mounts) != 1 or not mounts[0].get("readOnly"):
            problems.append("%s is not mounted once, read-only" % MODELS_DIR)
        notes = spec["template"]["metadata"].get("annotations", {})
        ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        if notes.get("prometheus.io/scrape") != "true" or notes.get("prometheus.io/path") != "/metrics" \
                or notes.get("prometheus.io/port") not in {str(v) for v in ports.values()}:
            problems.append("the Prometheus scrape annotations do not name /metrics on a container port")
        report.check("%s %s: probes, security, resources, shutdown, models, metrics" % (path, name(d)), problems)

        for kind, found in (("Service", services), ("PodDisruptionBudget", pdbs)):
            problems = []
            if not found:
                problems.append("there is no %s" % kind)
            for p, r in found:
                sel = r["spec"]["selector"]
                sel = sel.get("matchLabels", sel) if kind == "PodDisruptionBudget" else sel
                if not matches(sel, labels):
                    problems.append("%s %s does not select the pods" % (p, name(r)))
                if kind == "Service":
                    for port in r["spec"]["ports"]:
                        t = port.get("targetPort")
                        if t not in ports and t not in ports.values():
                            problems.append("%s targetPort %r is not a container port" % (p, t))
            report.check("%s %s: its %s finds its pods" % (path, name(d), kind), problems)
        problems = [] if hpas else ["there is no HorizontalPodAutoscaler"]
        for p, h in hpas:
            ref = h["spec"]["scaleTargetRef"]
            if (ref.get("kind"), ref.get("name")) != ("Deployment", d["metadata"]["name"]):
                problems.append("%s scales %s/%s" % (p, ref.get("kind"), ref.get("name")))
            for m in h["spec"].get("metrics", []):
                what = (m.get("resource") or {}).get("name")
                if m.get("type") == "Resource" and what not in (c.get("resources", {}).get("requests") or {}):
                    problems.append("%s scales on %s utilisation, which has no request to measure against" % (p, what))
        report.check("%s %s: its HorizontalPodAutoscaler scales it on a requested resource" % (path, name(d)), problems)

    # The variants: the same Deployment but for the source of the models volume.
    if len(deployments) > 1:
        def without_models_source(d):
            d = copy.deepcopy(d)
            for v in d["spec"]["template"]["spec"].get("volumes", []):
                if v["name"] == "models":
                    for k in list(v):
                        if k != "name":
                            del v[k]
            return d
        (p0, d0), rest = deployments[0], deployments[1:]
        problems = ["%s differs from %s beyond the models volume's source" % (p, p0)
                    for p, d in rest if without_models_source(d) != without_models_source(d0)]
        report.check("the Deployment variants differ only in the models volume", problems)


def kserve_checks(report, resources):
    runtimes = {r["metadata"]["name"]: (p, r) for p, r in of_kind(resources, "ClusterServingRuntime")}
    for name_, (path, rt) in runtimes.items():
        spec = rt["spec"]
        problems = ["unknown protocol version %r" % v for v in spec.get("protocolVersions", [])
                    if v not in KSERVE_PROTOCOLS]
        c = named(spec["containers"], KSERVE_CONTAINER)
        if c is None:
            report.check("%s %s runs the server" % (path, name(rt)), ["no container named %s" % KSERVE_CONTAINER])
            continue
        more, _ = container_checks(c)
        problems += more
        if flag(c.get("args"), "model_dir") != MODELS_DIR:
            problems.append("--model_dir is not %s" % MODELS_DIR)
        if not any(f.get("name") == "fastpredict" for f in spec.get("supportedModelFormats", [])):
            problems.append("the model format fastpredict is not supported")
        report.check("%s ClusterServingRuntime/%s: format, protocols, container" % (path, name_), problems)
    for path, isvc in of_kind(resources, "InferenceService"):
        notes = isvc["metadata"].get("annotations", {})
        pred = isvc["spec"]["predictor"]
        model = pred.get("model", {})
        problems = []
        if notes.get("serving.kserve.io/deploymentMode") not in KSERVE_MODES:
            problems.append("unknown deploymentMode %r" % notes.get("serving.kserve.io/deploymentMode"))
        if notes.get("serving.kserve.io/autoscalerClass") not in KSERVE_AUTOSCALERS:
            problems.append("unknown autoscalerClass %r" % notes.get("serving.kserve.io/autoscalerClass"))
        if model.get("runtime") not in runtimes:
            problems.append("its runtime %r is not among %s" % (model.get("runtime"), sorted(runtimes)))
        else:
            rt = runtimes[model["runtime"]][1]["spec"]
            fmt = model.get("modelFormat", {})
            if not any(f.get("name") == fmt.get("name") and f.get("version") == fmt.get("version")
                       for f in rt.get("supportedModelFormats", [])):
                problems.append("its runtime does not support the model format %r" % fmt)
            if model.get("protocolVersion") not in rt.get("protocolVersions", []):
                problems.append("its runtime does not speak protocol %r" % model.get("protocolVersion"))
        report.check("%s %s: runtime, format, protocol, modes" % (path, name(isvc)), problems)


def dockerfile_checks(report, resources):
    """The image's user, port and volume are the ones the manifests take for granted."""
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        text = f.read()
    last = text[text.rindex("\nFROM "):]
    problems = []
    user = re.search(r"^USER (\d+):(\d+)$", last, re.M)
    expose = re.search(r"^EXPOSE (\d+)$", last, re.M)
    if not user:
        problems.append("the runtime stage has no numeric USER uid:gid (runAsNonRoot cannot check a name)")
    if not expose:
        problems.append("the runtime stage exposes no port")
    if '"%s"' % MODELS_DIR not in last:
        problems.append("the runtime stage declares no %s volume" % MODELS_DIR)
    for path, d in of_kind(resources, "Deployment"):
        pod = d["spec"]["template"]["spec"]
        uid = (pod.get("securityContext") or {}).get("runAsUser")
        if user and uid is not None and str(uid) != user.group(1):
            problems.append("%s runs as %s, the image as %s" % (path, uid, user.group(1)))
        for c in pod["containers"]:
            for port in c.get("ports", []):
                if expose and str(port["containerPort"]) != expose.group(1):
                    problems.append("%s listens on %s, the image on %s" % (path, port["containerPort"], expose.group(1)))
    report.check("Dockerfile: its user, port and models volume are the manifests'", problems)


def server_flag_checks(report, resources, binary):
    """Every flag the manifests pass is one the server takes: clap stops at the first unknown one."""
    for path, r in resources:
        if r.get("kind") == "Deployment":
            containers = r["spec"]["template"]["spec"]["containers"]
        elif r.get("kind") == "ClusterServingRuntime":
            containers = r["spec"]["containers"]
        else:
            continue
        problems = []
        for c in containers:
            p = subprocess.run([binary, *c.get("args", []), "--version"], capture_output=True, text=True, timeout=30)
            if p.returncode != 0:
                problems.append("fastpredict-server %s: %s" % (" ".join(c.get("args", [])),
                                                               p.stderr.strip().splitlines()[:1]))
        report.check("%s %s: the server takes its args" % (path, name(r)), problems)


def check_all(report, schemas, resources, server=None):
    schemas.check(report, resources)
    deployment_checks(report, resources)
    kserve_checks(report, resources)
    dockerfile_checks(report, resources)
    if server:
        server_flag_checks(report, resources, server)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", help="fastpredict-server binary, to check the flags the manifests pass")
    ap.add_argument("dir", nargs="?", default=os.path.join(ROOT, "deploy"))
    args = ap.parse_args()
    report = Report()
    resources = load(args.dir)
    report.check("%s holds manifests" % os.path.relpath(args.dir, ROOT),
                 [] if resources else ["no YAML documents found"])
    check_all(report, Schemas(), resources, args.server)
    if not args.server:
        print("(no --server binary: the flags in the manifests are not checked against the server)")
    print("manifests: %d passed, %d failed" % (report.passed, report.failed))
    sys.exit(1 if report.failed else 0)


if __name__ == "__main__":
    main()
