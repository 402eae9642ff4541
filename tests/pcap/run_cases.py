#!/usr/bin/env python3
"""Capture-driven test cases: run caracal on a capture, check EVE facts.

A case is tests/pcap/cases/NAME.json:

  {"capture": "generated:NAME.pcap" | "repo:pcaps/demo.pcap" | "shared:edge/FILE.pcap",
   "args": ["-k", "none"],                  optional extra caracal arguments; an argument
                                            "shared:rules/et-open/X.rules" names a file under
                                            ../shared (the case skips when it is absent),
                                            "repo:etc/X" one under the source tree
   "rules": ["alert ...", ...],             optional rule lines (passed with -S)
   "runmodes": ["single", "workers"],       optional, default both
   "expect_exit": 0,                        optional, default 0
   "expect": [
     {"event_type": "anomaly", "where": {"anomaly.event": "ipv4.trunc_pkt"},
      "count": 1, "fields": {"anomaly.type": "decode"}},
     {"stats": {"decoder.pkts": 7, "decoder.event.ipv4.trunc_pkt": 1}},
     {"file": "fast.log", "match": "\\[1:1001:2\\]", "count": 1}
   ]}

"where" selects events whose dotted fields equal the given values; "count"
is how many must match; "fields" must hold in every selected event. A value
of null in "fields" or "where" means "the field is absent". "stats" is
checked against the last stats event (the final totals); a dotted name is
looked up whole first, then split on dots. "file" counts the lines of a file
in the log directory (e.g. fast.log) that match the regular expression
"match" (re.search; every line when absent) against "count"/"min_count".

Each case runs in every runmode; the flow events of the runs must be the same.
Prints one line per failure and a closing "N passed, N failed[, N skipped]".
Exit 0 when all pass, 1 on any failure, 77 when every case was skipped.

usage: run_cases.py [-v] [CASE_NAME_OR_FILE ...]
env:   CARACAL (binary), TOP_SRCDIR, TOP_BUILDDIR, KEEP=1 (keep the temp dir)
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("TOP_SRCDIR") or os.path.dirname(os.path.dirname(HERE))
TOP_BUILDDIR = os.environ.get("TOP_BUILDDIR") or TOP_SRCDIR
CARACAL = os.environ.get("CARACAL") or os.path.join(TOP_BUILDDIR, "src", "caracal")
SHARED = os.path.join(TOP_SRCDIR, "..", "shared")
TIMEOUT = 120
MISSING = object()


def scapy_python():
    """A python that can import scapy (Debian's python3-scapy lives in /usr/bin/python3)."""
    for py in (sys.executable, "/usr/bin/python3", "python3"):
        try:
            if subprocess.run([py, "-c", "import scapy"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0:
                return py
        except OSError:
            pass
    return None


def lookup(obj, path):
    """Dotted path into nested dicts; a key that itself holds dots is tried whole first.
    A number picks an element of a list ("dns.queries.0.rrname")."""
    if isinstance(obj, list):
        head, _, rest = path.partition(".")
        if not head.isdigit() or int(head) >= len(obj):
            return MISSING
        return obj[int(head)] if not rest else lookup(obj[int(head)], rest)
    if not isinstance(obj, dict):
        return MISSING
    if path in obj:
        return obj[path]
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:i])
        if head in obj:
            found = lookup(obj[head], ".".join(parts[i:]))
            if found is not MISSING:
                return found
    return MISSING


def same(expected, actual):
    if expected is None:
        return actual is MISSING or actual is None
    if actual is MISSING:
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    return expected == actual


def show(v):
    return "(absent)" if v is MISSING else json.dumps(v)


def read_eve(path):
    events, bad = [], 0
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    events.append(json.loads(line))
                except ValueError:
                    bad += 1
    except OSError:
        return None, 0
    return events, bad


def flow_key(ev):
    return json.dumps(ev, sort_keys=True)


class Runner:
    def __init__(self, verbose):
        self.verbose = verbose
        self.tmp = tempfile.mkdtemp(prefix="caracal-cases-")
        self.gen_dir = None
        self.gen_error = None
        self.failures = []

    def generated(self):
        if self.gen_dir is None and self.gen_error is None:
            py = scapy_python()
            d = os.path.join(self.tmp, "generated")
            if py is None:
                self.gen_error = "no python with scapy (apt install python3-scapy)"
            else:
                r = subprocess.run([py, os.path.join(HERE, "make-captures.py"), d],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                if r.returncode != 0:
                    self.gen_error = "make-captures.py failed: " + r.stdout.strip()[-500:]
                else:
                    self.gen_dir = d
        return self.gen_dir

    def capture_path(self, spec):
        """Returns (path, skip_reason, error)."""
        kind, _, rel = spec.partition(":")
        if kind == "generated":
            d = self.generated()
            if d is None:
                return None, None, self.gen_error
            return os.path.join(d, rel), None, None
        if kind == "repo":
            return os.path.join(TOP_SRCDIR, rel), None, None
        if kind == "shared":
            if not os.path.isdir(os.path.join(SHARED, "pcaps")):
                return None, "shared captures absent (%s)" % os.path.normpath(SHARED), None
            return os.path.join(SHARED, "pcaps", rel), None, None
        return None, None, "unknown capture kind in %r" % spec

    @staticmethod
    def resolve_args(args):
        """Returns (args with shared:/repo: paths resolved, skip_reason)."""
        out = []
        for a in args:
            if isinstance(a, str) and a.startswith("shared:"):
                if not os.path.isdir(SHARED):
                    return None, "shared files absent (%s)" % os.path.normpath(SHARED)
                a = os.path.join(SHARED, a[len("shared:"):])
            elif isinstance(a, str) and a.startswith("repo:"):
                a = os.path.join(TOP_SRCDIR, a[len("repo:"):])
            out.append(a)
        return out, None

    def fail(self, case, msg):
        self.failures.append("FAIL %s: %s" % (case, msg))
        print("FAIL %s: %s" % (case, msg), flush=True)

    def run_caracal(self, name, case, capture, runmode):
        logdir = os.path.join(self.tmp, "%s.%s" % (name, runmode))
        os.makedirs(logdir, exist_ok=True)
        args = [CARACAL, "-r", capture, "-l", logdir]
        extra, _ = self.resolve_args(case.get("args", []))
        if "-c" not in extra:
            args += ["-c", os.path.join(TOP_SRCDIR, "etc", "caracal.yaml")]
        if case.get("rules") is not None:
            rules = os.path.join(logdir, "case.rules")
            with open(rules, "w") as f:
                f.write("\n".join(case["rules"]) + "\n")
            args += ["-S", rules]
        args += ["--runmode", runmode] + extra
        env = dict(os.environ, TZ="UTC")
        try:
            r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, errors="replace", timeout=TIMEOUT, env=env)
            rc, out = r.returncode, r.stdout
        except subprocess.TimeoutExpired as e:
            rc, out = "timeout", (e.stdout or b"").decode("utf-8", "replace") \
                if isinstance(e.stdout, bytes) else (e.stdout or "")
        if self.verbose:
            print("  $ %s  -> %s" % (" ".join(args), rc))
        events, bad = read_eve(os.path.join(logdir, "eve.json"))
        return rc, out, events, bad, logdir

    def check_file(self, label, exp, logdir):
        path = os.path.join(logdir, exp["file"])
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError as e:
            self.fail(label, "%s: cannot read: %s" % (exp["file"], e.strerror))
            return 1
        pat = exp.get("match")
        n = sum(1 for l in lines if pat is None or re.search(pat, l))
        what = "%s lines%s" % (exp["file"], (" matching " + json.dumps(pat)) if pat else "")
        if "count" in exp and n != exp["count"]:
            self.fail(label, "%s: expected %d, got %d" % (what, exp["count"], n))
            return 1
        if "min_count" in exp and n < exp["min_count"]:
            self.fail(label, "%s: expected >= %d, got %d" % (what, exp["min_count"], n))
            return 1
        return 0

    def check_expect(self, label, exp, events, logdir=None):
        nfail = 0
        if "file" in exp:
            return self.check_file(label, exp, logdir)
        if "stats" in exp:
            stats = [e for e in events if e.get("event_type") == "stats"]
            if not stats:
                self.fail(label, "stats: no stats event in eve.json")
                return 1
            final = stats[-1].get("stats", {})
            for key, want in exp["stats"].items():
                got = lookup(final, key)
                if want is not None and got is MISSING:
                    got = 0 if want == 0 else MISSING  # a zero counter may be omitted
                if not same(want, got):
                    self.fail(label, "stats.%s: expected %s, got %s" % (key, show(want), show(got)))
                    nfail += 1
            return nfail
        etype = exp.get("event_type")
        where = exp.get("where", {})
        sel = [e for e in events
               if (etype is None or e.get("event_type") == etype)
               and all(same(v, lookup(e, k)) for k, v in where.items())]
        what = "%s%s" % (etype or "event", json.dumps(where, sort_keys=True) if where else "")
        if "count" in exp and len(sel) != exp["count"]:
            self.fail(label, "%s count: expected %d, got %d" % (what, exp["count"], len(sel)))
            nfail += 1
        if "min_count" in exp and len(sel) < exp["min_count"]:
            self.fail(label, "%s count: expected >= %d, got %d" % (what, exp["min_count"], len(sel)))
            nfail += 1
        for i, ev in enumerate(sel):
            for key, want in exp.get("fields", {}).items():
                got = lookup(ev, key)
                if not same(want, got):
                    idx = "" if len(sel) == 1 else "[%d]" % i
                    self.fail(label, "%s%s %s: expected %s, got %s"
                              % (what, idx, key, show(want), show(got)))
                    nfail += 1
        return nfail

    def run_case(self, path):
        name = os.path.splitext(os.path.basename(path))[0]
        try:
            with open(path) as f:
                case = json.load(f)
        except (OSError, ValueError) as e:
            self.fail(name, "cannot read case: %s" % e)
            return "fail"
        capture, skip, err = self.capture_path(case.get("capture", ""))
        if skip:
            print("SKIP %s: %s" % (name, skip))
            return "skip"
        if err:
            self.fail(name, err)
            return "fail"
        if not os.path.exists(capture):
            self.fail(name, "capture not found: %s" % capture)
            return "fail"
        args, skip = self.resolve_args(case.get("args", []))
        if skip:
            print("SKIP %s: %s" % (name, skip))
            return "skip"
        nfail = 0
        flows = {}
        for runmode in case.get("runmodes", ["single", "workers"]):
            label = "%s [%s]" % (name, runmode)
            rc, out, events, bad, logdir = self.run_caracal(name, case, capture, runmode)
            want_rc = case.get("expect_exit", 0)
            if rc != want_rc:
                tail = " | ".join(out.strip().splitlines()[-3:])
                self.fail(label, "exit: expected %s, got %s%s" % (want_rc, rc,
                                                                  (" (" + tail + ")") if tail else ""))
                nfail += 1
            if events is None:
                self.fail(label, "no eve.json written")
                nfail += 1
                continue
            if bad:
                self.fail(label, "eve.json: %d line(s) are not JSON" % bad)
                nfail += 1
            for exp in case.get("expect", []):
                nfail += self.check_expect(label, exp, events, logdir)
            flows[runmode] = sorted(flow_key(e) for e in events if e.get("event_type") == "flow")
        modes = list(flows)
        for other in modes[1:]:
            a, b = flows[modes[0]], flows[other]
            if a != b:
                only_a = sorted(set(a) - set(b))
                only_b = sorted(set(b) - set(a))
                self.fail(name, "flow events differ between %s (%d) and %s (%d): only in %s: %s; "
                          "only in %s: %s" % (modes[0], len(a), other, len(b), modes[0],
                                              only_a[:1], other, only_b[:1]))
                nfail += 1
        return "fail" if nfail else "pass"

    def cleanup(self):
        if os.environ.get("KEEP"):
            print("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def main(argv):
    verbose = "-v" in argv
    names = [a for a in argv if a != "-v"]
    case_dir = os.path.join(HERE, "cases")
    if names:
        paths = [n if os.path.exists(n) else os.path.join(case_dir, n + ".json") for n in names]
    else:
        paths = sorted(glob.glob(os.path.join(case_dir, "*.json")))
    if not os.access(CARACAL, os.X_OK):
        print("no executable caracal at %s" % CARACAL)
        print("0 passed, %d failed" % len(paths))
        return 1
    runner = Runner(verbose)
    counts = {"pass": 0, "fail": 0, "skip": 0}
    try:
        for p in paths:
            counts[runner.run_case(p)] += 1
    finally:
        runner.cleanup()
    line = "%d passed, %d failed" % (counts["pass"], counts["fail"])
    if counts["skip"]:
        line += ", %d skipped" % counts["skip"]
    print(line)
    if counts["fail"]:
        return 1
    if counts["skip"] and not counts["pass"]:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
