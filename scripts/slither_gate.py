"""Gate Slither's findings against the triage file: every High or Medium finding must be accepted there
with a written reason, else exit 1. Low, informational and optimization findings not in the triage are
listed (not fatal); triage entries Slither no longer reports are listed as fixed.

A finding's key is its detector and the first source element it names (`check:Contract.function(...)`),
so it survives line shifts; all of a detector's findings in one function share one triage entry.

    python3 scripts/slither_gate.py out/slither.json slither-triage.json
"""
from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

GATED = ("High", "Medium")


def key(result: dict) -> str:
    el = (result.get("elements") or [{}])[0]
    name = el.get("name", "?")
    parent = el.get("type_specific_fields", {}).get("parent", {})
    if el.get("type") == "function":
        owner = parent.get("name", "")
        name = f"{owner}.{el.get('type_specific_fields', {}).get('signature', name)}"
    elif parent.get("type") == "function":
        grand = parent.get("type_specific_fields", {}).get("parent", {}).get("name", "")
        name = f"{grand}.{parent.get('type_specific_fields', {}).get('signature', parent.get('name'))}"
    elif parent.get("name"):
        name = f"{parent['name']}.{name}"
    return f"{result['check']}:{name}"


def main(report: str, triage: str) -> int:
    try:
        data = json.loads(Path(report).read_text())
    except (OSError, ValueError) as err:
        print(f"{report}: unreadable Slither report ({err})", file=sys.stderr)
        return 2
    if not data.get("success", False):
        print(f"{report}: slither failed: {data.get('error')}", file=sys.stderr)
        return 1
    found = data.get("results", {}).get("detectors", [])
    try:
        accepted = {e["key"]: e for e in json.loads(Path(triage).read_text())["accepted"]}
    except (OSError, ValueError, KeyError, TypeError) as err:
        print(f"{triage}: unreadable triage file ({err}): needs {{\"accepted\": [{{\"key\", \"impact\", \"reason\"}}]}}",
              file=sys.stderr)
        return 2
    no_reason = [k for k, e in accepted.items() if not str(e.get("reason", "")).strip()]
    by_impact = collections.Counter(r["impact"] for r in found)
    new_gated, new_other, seen = [], [], set()
    for r in found:
        k = key(r)
        seen.add(k)
        if k in accepted and str(accepted[k].get("reason", "")).strip():
            continue
        (new_gated if r["impact"] in GATED else new_other).append((r["impact"], k, r["description"].splitlines()[0]))
    for impact, k, desc in sorted(set(new_other)):
        print(f"  untriaged {impact}: {k}\n    {desc[:200]}")
    for impact, k, desc in sorted(set(new_gated)):
        print(f"  NEW {impact}: {k}\n    {desc[:200]}")
    fixed = sorted(set(accepted) - seen)
    for k in fixed:
        print(f"  no longer reported (fixed? drop it from the triage): {k}")
    for k in no_reason:
        print(f"  triage entry without a reason: {k}")
    print(f"slither: {len(found)} result(s) found ({', '.join(f'{i} {n}' for i, n in sorted(by_impact.items())) or 'none'}); "
          f"{len(accepted)} triaged, {len(set(k for _, k, _ in new_gated))} new High/Medium, "
          f"{len(set(k for _, k, _ in new_other))} untriaged Low/Info/Optimization")
    return 1 if new_gated or no_reason else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
