#!/usr/bin/env python3
"""Writes the validation schemas of KServe's CRDs that deploy/kserve/ uses,
from the CRD files of a KServe checkout (config/crd/full/), for
tools/manifests-check.py: one gzipped JSON file per kind and served version,
holding the version's openAPIV3Schema as the CRD gives it.

Usage: tools/kserve-crds/update.py KSERVE_CHECKOUT
"""

import gzip
import json
import os
import sys

import yaml

CRDS = ["serving.kserve.io_clusterservingruntimes.yaml", "serving.kserve.io_inferenceservices.yaml"]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name in CRDS:
        with open(os.path.join(sys.argv[1], "config", "crd", "full", name)) as f:
            crd = yaml.safe_load(f)
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if not version.get("served"):
                continue
            doc = {"apiVersion": "%s/%s" % (group, version["name"]), "kind": kind,
                   "openAPIV3Schema": version["schema"]["openAPIV3Schema"]}
            out = os.path.join(here, "%s-%s.json.gz" % (kind.lower(), version["name"]))
            data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
            with open(out, "wb") as f:
                f.write(gzip.compress(data, compresslevel=9, mtime=0))
            print("wrote", out)


if __name__ == "__main__":
    main()
