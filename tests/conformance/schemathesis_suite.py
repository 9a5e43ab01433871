"""Runs schemathesis against a running emulator with Klarna's three OpenAPI documents and judges
every failed check against quirks.toml: a failure no entry tolerates fails the suite.

Usage: python schemathesis_suite.py --url http://127.0.0.1:PORT --spec-dir DIR --out DIR
Writes DIR/schemathesis-summary.json ({"passed", "failed", "tolerated"}) and prints one line per
spec and one per failure.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20240501
# Per spec: the phases run and the examples per operation. One worker: with two, hypothesis'
# lambda-description cache (shared between worker threads) raised KeyError inside schemathesis'
# own generator now and then (an internal error, not a finding), and one worker keeps a seeded
# run reproducible.
PHASES = "examples,coverage,fuzzing,stateful"
SPECS = [
    ("payments", PHASES, 25),
    ("hpp", PHASES, 25),
    ("ordermanagement", PHASES, 15),
]
CREDENTIALS = "DemoMerchant:DemoPassword"


def load_quirks() -> list[dict]:
    with open(HERE / "quirks.toml", "rb") as f:
        quirks = tomllib.load(f).get("quirk", [])
    for q in quirks:
        if not q.get("reason", "").strip():
            raise SystemExit(f"quirks.toml: an entry without a reason: {q}")
    return quirks


def decode_body(body) -> str:
    if isinstance(body, dict) and "$base64" in body:
        return base64.b64decode(body["$base64"]).decode("utf-8", "replace")
    if isinstance(body, str):
        return body
    return "" if body is None else json.dumps(body)


def tolerated(quirks: list[dict], finding: dict) -> dict | None:
    for q in quirks:
        if "spec" in q and q["spec"] != finding["spec"]:
            continue
        if "code" in q and q["code"] != finding["code"]:
            continue
        if "operation" in q and not re.search(q["operation"], finding["operation"]):
            continue
        if "status" in q and q["status"] != finding["status"]:
            continue
        if "response" in q and not re.search(q["response"], finding["response"]):
            continue
        if "message" in q and not re.search(q["message"], finding["message"]):
            continue
        return q
    return None


def run_spec(url: str, spec_dir: Path, out: Path, spec: str, phases: str, examples: int) -> tuple[list[dict], int, list[str]]:
    """Runs one document; returns (failed checks, passed checks, schemathesis errors)."""
    ndjson = out / f"schemathesis-{spec}.ndjson"
    log = out / f"schemathesis-{spec}.log"
    st = Path(sys.executable).parent / "schemathesis"
    cmd = [
        str(st), "run", str(spec_dir / f"{spec}-v1.openapi.json"),
        "--url", url, "--auth", CREDENTIALS,
        "--seed", str(SEED), "--max-examples", str(examples),
        "--phases", phases, "--checks", "all", "--workers", "1",
        "--request-timeout", "10", "--no-color",
        "--report", "ndjson", "--report-ndjson-path", str(ndjson),
    ]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="", PYTHONHASHSEED="0")
    with open(log, "w") as f:
        # In the output directory: schemathesis keeps its caches (.schemathesis/) where it runs.
        subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, timeout=600, check=False, cwd=out)
    failures: list[dict] = []
    passed = 0
    errors: list[str] = []
    for line in ndjson.read_text().splitlines():
        event = json.loads(line)
        kind, data = next(iter(event.items()))
        if kind == "NonFatalError" or kind == "FatalError":
            errors.append(json.dumps(data)[:500])
            continue
        if kind != "ScenarioFinished":
            continue
        recorder = data.get("recorder", {})
        interactions = recorder.get("interactions", {})
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check.get("status") == "success":
                    passed += 1
                    continue
                if check.get("status") != "failure":
                    continue
                info = check.get("failure_info", {}).get("failure", {})
                response = (interactions.get(case_id) or {}).get("response") or {}
                failures.append({
                    "spec": spec,
                    "code": info.get("code", check.get("name", "?")),
                    "operation": info.get("operation") or recorder.get("label", "?"),
                    "message": info.get("message", ""),
                    "status": response.get("status_code"),
                    "response": decode_body(response.get("content", response.get("body"))),
                    "case": case_id,
                })
    if not ndjson.exists() or passed == 0:
        errors.append(f"{spec}: no check ran (see {log})")
    return failures, passed, errors


def self_test() -> None:
    """The judge itself: a tolerated finding passes, the same finding changed in any matched
    respect does not, and a finding no entry names does not."""
    quirks = load_quirks()
    base = {"spec": "ordermanagement", "code": "ST202", "operation": "GET /ordermanagement/v1/orders/{order_id}",
            "message": "Valid data should have been accepted", "status": 400,
            "response": '{"error_code":"INVALID_ORDER_ID"}', "case": "x"}
    assert tolerated(quirks, base) is not None, "a documented quirk is tolerated"
    for change in ({"spec": "payments"}, {"code": "ST201"}, {"status": 500},
                   {"response": '{"error_code":"NOT_FOUND"}'}):
        assert tolerated(quirks, {**base, **change}) is None, f"not tolerated after {change}"
    server_error = {**base, "code": "ST101", "status": 500, "response": "", "message": "Server error"}
    assert tolerated(quirks, server_error) is None, "a 5xx is never tolerated"


def main() -> int:
    self_test()
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--spec-dir", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.spec_dir = args.spec_dir.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    quirks = load_quirks()
    total_passed = total_failed = total_tolerated = 0
    used: set[int] = set()
    for spec, phases, examples in SPECS:
        failures, passed, errors = run_spec(args.url, args.spec_dir, args.out, spec, phases, examples)
        failed = tolerated_here = 0
        seen: set[tuple] = set()
        for f in failures:
            q = tolerated(quirks, f)
            if q is not None:
                tolerated_here += 1
                used.add(id(q))
                continue
            failed += 1
            key = (f["code"], f["operation"], f["status"])
            if key not in seen:
                seen.add(key)
                print(f"  FAIL {spec} {f['code']} {f['operation']} -> {f['status']}: "
                      f"{f['message'].splitlines()[0] if f['message'] else ''} | {f['response'][:300]}")
        for e in errors:
            failed += 1
            print(f"  ERROR {spec}: {e}")
        print(f"schemathesis {spec}: {passed} checks passed, {tolerated_here} tolerated (quirks.toml), {failed} failed")
        total_passed += passed
        total_failed += failed
        total_tolerated += tolerated_here
    for q in quirks:
        if id(q) not in used:
            print(f"  note: quirk not seen in this run: {q.get('spec', '*')} {q.get('code', '*')} {q.get('operation', '')}")
    (args.out / "schemathesis-summary.json").write_text(json.dumps(
        {"passed": total_passed, "failed": total_failed, "tolerated": total_tolerated}))
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
