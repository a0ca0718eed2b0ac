"""Validates Kubernetes objects against the schemas kubernetes-validate bundles.

Reads {"versions": ["1.29.0", ...], "objects": [...]} as JSON on stdin, writes a JSON
list with one result per object and version: {"index", "version", "result":
"valid" | "invalid" | "no-schema", "path", "message"}. Strict mode: unknown fields
are errors. Run with PYTHONPATH=.tools/python (scripts/install-kubernetes-validate.mjs).
"""
import functools
import json
import sys

import kubernetes_validate
import kubernetes_validate.utils
from kubernetes_validate import SchemaNotFoundError, ValidationError

# validate() re-reads and re-parses the schema files (the definitions are megabytes) for
# every object; they are only read, so parse each once.
kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=None)(kubernetes_validate.utils.schema_contents)


def main() -> None:
    request = json.load(sys.stdin)
    results = []
    for index, obj in enumerate(request["objects"]):
        for version in request["versions"]:
            entry = {"index": index, "version": version}
            try:
                kubernetes_validate.validate(obj, version, strict=True)
                entry["result"] = "valid"
            except ValidationError as e:
                entry["result"] = "invalid"
                entry["path"] = ".".join(str(p) for p in e.path)
                entry["message"] = e.message
            except SchemaNotFoundError as e:
                entry["result"] = "no-schema"
                entry["message"] = e.message
            results.append(entry)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
