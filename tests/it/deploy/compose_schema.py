"""Checks a Compose file against the Compose Specification's JSON schema, as `docker compose
config` does, with no Docker: unknown keys, wrong types and misspelt options fail.

compose-spec.json beside this file is schema/compose-spec.json of the compose-spec/compose-spec
repository at commit a08f8d51631b7127ddac3d2c65537db429d0f1d0 (Apache-2.0), unchanged.
PyYAML and jsonschema come with kubernetes-validate, which tests/run.sh installs.

Usage: python3 compose_schema.py docker-compose.yml  (exit 0: valid; 1: the errors, one a line)
"""

import json
import pathlib
import sys

import jsonschema
import yaml


def main() -> int:
    schema = json.loads((pathlib.Path(__file__).parent / "compose-spec.json").read_text())
    with open(sys.argv[1], encoding="utf-8") as f:
        document = yaml.safe_load(f)
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        print(f"{where}: {error.message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
