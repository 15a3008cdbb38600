#!/usr/bin/env python3
"""Tests of tools/manifests-check.py: the manifests in deploy/ pass, and each
mistake below, made in a copy of them, fails with the problem named. A check
that passed everything would pass deploy/ too; this shows it can fail.

Prints one line per case and then "manifests-check tests: N passed, M failed".
Usage: tools/manifests-check-test.py [--server BIN]
"""

import argparse
import copy
import importlib.util
import os
import sys

spec = importlib.util.spec_from_file_location(
    "manifests_check", os.path.join(os.path.dirname(os.path.abspath(__file__)), "manifests-check.py"))
mc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mc)


def find(resources, path_end, kind):
    (r,) = [r for p, r in resources if p.endswith(path_end) and r["kind"] == kind]
    return r


def container(resources, path_end="configmap/deployment.yaml"):
    return find(resources, path_end, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def pod(resources):
    return find(resources, "configmap/deployment.yaml", "Deployment")["spec"]["template"]["spec"]


def isvc(resources):
    return find(resources, "inferenceservice.yaml", "InferenceService")


def runtime(resources):
    return find(resources, "clusterservingruntime.yaml", "ClusterServingRuntime")


def set_flag(c, name, value):
    c["args"] = [a for a in c["args"] if not a.startswith("--%s=" % name)] + ["--%s=%s" % (name, value)]


# (what is wrong, how to make it, a piece of the problem the check must report)
CASES = [
    ("an unknown container field", lambda rs: container(rs).update(imagee="x"), "'imagee' was unexpected"),
    ("replicas as a string", lambda rs: find(rs, "configmap/deployment.yaml", "Deployment")["spec"]
     .update(replicas="two"), "'two' is not of type"),
    ("a misspelt HPA field", lambda rs: find(rs, "hpa.yaml", "HorizontalPodAutoscaler")["spec"]
     .update(minReplica=1), "'minReplica' was unexpected"),
    ("an unknown InferenceService predictor field", lambda rs: isvc(rs)["spec"]["predictor"].update(minReplica=1),
     "'minReplica' was unexpected"),
    ("an unknown field in InferenceService metadata", lambda rs: isvc(rs)["metadata"].update(nme="x"),
     "'nme' was unexpected"),
    ("a model format version as a number", lambda rs: runtime(rs)["spec"]["supportedModelFormats"][0]
     .update(version=1), "1 is not of type 'string'"),
    ("an unknown field in the runtime's container", lambda rs: runtime(rs)["spec"]["containers"][0]
     .update(readinesProbe={}), "'readinesProbe' was unexpected"),
    ("a writable root filesystem", lambda rs: container(rs)["securityContext"]
     .update(readOnlyRootFilesystem=False), "readOnlyRootFilesystem is not true"),
    ("capabilities kept", lambda rs: container(rs)["securityContext"].update(capabilities={"drop": ["NET_RAW"]}),
     "capabilities.drop is not [ALL]"),
    ("root allowed", lambda rs: (pod(rs)["securityContext"].pop("runAsNonRoot"),
                                 container(rs)["securityContext"].pop("runAsNonRoot")), "runAsNonRoot is not set"),
    ("liveness on the wrong path", lambda rs: container(rs)["livenessProbe"]["httpGet"].update(path="/healthz"),
     "livenessProbe is on '/healthz'"),
    ("no memory limit", lambda rs: container(rs)["resources"]["limits"].pop("memory"), "no memory limit"),
    ("no preStop sleep", lambda rs: container(rs).pop("lifecycle"), "no preStop sleep"),
    ("a grace period shorter than preStop and shutdown", lambda rs: pod(rs).update(terminationGracePeriodSeconds=25),
     "terminationGracePeriodSeconds 25 is not above"),
    ("models mounted writable", lambda rs: container(rs)["volumeMounts"][0].pop("readOnly"),
     "/mnt/models is not mounted once, read-only"),
    ("no Prometheus annotations", lambda rs: find(rs, "configmap/deployment.yaml", "Deployment")["spec"]["template"]
     ["metadata"].pop("annotations"), "Prometheus scrape annotations"),
    ("a Service that selects no pod", lambda rs: find(rs, "service.yaml", "Service")["spec"]
     .update(selector={"app.kubernetes.io/name": "other"}), "does not select the pods"),
    ("a Service port to nowhere", lambda rs: find(rs, "service.yaml", "Service")["spec"]["ports"][0]
     .update(targetPort="web"), "targetPort 'web' is not a container port"),
    ("an HPA on another Deployment", lambda rs: find(rs, "hpa.yaml", "HorizontalPodAutoscaler")["spec"]
     ["scaleTargetRef"].update(name="other"), "scales Deployment/other"),
    ("a PDB that selects no pod", lambda rs: find(rs, "pdb.yaml", "PodDisruptionBudget")["spec"]["selector"]
     .update(matchLabels={"app": "x"}), "does not select the pods"),
    ("variants that drift apart", lambda rs: find(rs, "volume/deployment.yaml", "Deployment")["spec"]
     .update(replicas=3), "beyond the models volume's source"),
    ("an unknown runtime", lambda rs: isvc(rs)["spec"]["predictor"]["model"].update(runtime="kserve-x"),
     "its runtime 'kserve-x' is not among"),
    ("a protocol the runtime does not speak", lambda rs: isvc(rs)["spec"]["predictor"]["model"]
     .update(protocolVersion="grpc-v1"), "does not speak protocol 'grpc-v1'"),
    ("an unknown protocol version", lambda rs: runtime(rs)["spec"]["protocolVersions"].append("v3"),
     "unknown protocol version 'v3'"),
    ("an unknown deployment mode", lambda rs: isvc(rs)["metadata"]["annotations"]
     .update({"serving.kserve.io/deploymentMode": "Raw"}), "unknown deploymentMode 'Raw'"),
    ("the model elsewhere than /mnt/models", lambda rs: set_flag(runtime(rs)["spec"]["containers"][0],
                                                                 "model_dir", "/models"), "--model_dir is not"),
    ("the server's container renamed", lambda rs: container(rs).update(name="server"),
     "no container named fastpredict"),
    ("another user than the image's", lambda rs: pod(rs)["securityContext"].update(runAsUser=1000),
     "runs as 1000, the image as 65532"),
]
SERVER_CASES = [
    ("a flag the server does not take", lambda rs: container(rs)["args"].append("--modles=/mnt/models"),
     "--modles"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server")
    args = ap.parse_args()
    schemas = mc.Schemas()
    original = mc.load(os.path.join(mc.ROOT, "deploy"))
    passed = failed = 0

    def outcome(ok, what, detail=""):
        nonlocal passed, failed
        passed, failed = passed + ok, failed + (not ok)
        print("%s %s%s" % ("ok  " if ok else "FAIL", what, detail))

    report = mc.Report(quiet=True)
    mc.check_all(report, schemas, original, args.server)
    outcome(report.failed == 0, "deploy/ as it is passes", "" if report.failed == 0 else ": %s" % report.problems)
    for what, mutate, expect in CASES + (SERVER_CASES if args.server else []):
        resources = copy.deepcopy(original)
        mutate(resources)
        report = mc.Report(quiet=True)
        mc.check_all(report, schemas, resources, args.server)
        caught = report.failed > 0 and any(expect in p for p in report.problems)
        outcome(caught, "%s is caught" % what, "" if caught else ": reported %s" % report.problems)
    print("manifests-check tests: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
