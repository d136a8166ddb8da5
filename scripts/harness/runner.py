"""The checks' one runner: a check is a name and a function that returns a detail or raises
CheckError; results are counted and printed one line each.
"""

import os
import subprocess
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

RESULTS = {"passed": 0, "failed": 0}

TAG = f"lvsdr{os.getpid()}"


def run(cmd, check=True, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and res.returncode != 0:
        raise CheckError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip() or res.stdout.strip()}")
    return res


class CheckError(Exception):
    pass


def report(ok, what, detail=""):
    RESULTS["passed" if ok else "failed"] += 1
    print(f"  {'ok  ' if ok else 'FAIL'} {what}{(': ' + detail) if detail else ''}", flush=True)


def check(what, fn):
    try:
        detail = fn()
        report(True, what, detail or "")
    except CheckError as e:
        report(False, what, str(e))
    except Exception as e:  # a bug in a check is a failure, not a crash of the whole run
        where = traceback.extract_tb(e.__traceback__)[-3:]
        report(False, what, f"{type(e).__name__}: {e} (at " +
               ", ".join(f"{Path(f.filename).name}:{f.lineno} {f.line}" for f in where) + ")")


def lvsdr_binary():
    if os.environ.get("LVSDR"):
        return os.environ["LVSDR"]
    run(["cargo", "build", "--quiet", "--bin", "lvsdr"], cwd=ROOT)
    return str(ROOT / "target" / "debug" / "lvsdr")
