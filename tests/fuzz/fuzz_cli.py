#!/usr/bin/python3
"""Long fuzzing campaigns against the real `iclr` binary (`make fuzz`; not a test: it runs for as
long as it is given). Targets:

  sweeps  mutants of sweeps/*.toml (character edits, lines deleted, duplicated or swapped, values
          replaced by edge cases) through `iclr plan`, `iclr verify` and `iclr report` against a
          database holding a real ci run
  sets    `--set SECTION.KEY=EDGE` overrides on the example sweeps through `iclr plan`
  against `iclr verify --against` and `iclr diff --against` reading a database whose runs' config
          texts are mutants (their keys changed, so that runs are matched to trials by the texts)
  migrate databases made schema-8 (metric blocks in random orders, keyed by that order, some runs
          there twice in two orders) through `iclr plan`, `iclr run` and `iclr verify`, which must
          keep every run and, where no text was mutated, find every trial done
  bounds  each sweep's ci profile run with one plugin parameter at a bound of its declared range
          (or each choice of a string), with a one-minute trial timeout

A finding is any exit other than 0 or 2 (or 1, which --against gives when a verdict moved), a death
by signal, an exit 2 without an `iclr: error:` line, or (bounds) a trial that ended by a signal. Each one is written to OUT/ (the input and what
the binary printed); the exit status is 1 when there was one. Campaigns of 2026-12-04 found
`plugin = ""` crashing `iclr plan` (10 in 25,774 mutants) and readers migrating another
application's database in memory.
"""
import argparse
import glob
import hashlib
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SWEEPS = sorted(glob.glob(os.path.join(ROOT, "sweeps", "*.toml")))
ALPHABET = "[]{}=\",.#\n 0123456789-+eabcdefgrstuvwxyz_'\\\x01\xff"
EDGE = ['""', "''", "[]", "[[]]", "{}", "0", "-1", "1e309", "-1e309", "nan", "inf", "true", "1979-05-27",
        "9223372036854775807", "-9223372036854775808", '"\\u0000"', "'''\n'''", '[1, "a"]', "{ grid = [] }",
        '{ grid = [""] }', "{ grid = [1, 1] }", "{ range = [0, 0] }", "{ choice = [] }", "{ uniform = [1, 0] }",
        "{ loguniform = [0, 1] }", "{ linspace = [0, 1, 0] }", '{ zip = "a" }', "{ grid = [{}] }"]
SET_KEYS = ["sweep.seeds", "sweep.jobs", "sweep.timeout", "sweep.samples", "sweep.name", "sweep.memory_mb",
            "sweep.gpus", "sweep.trials_per_gpu", "sweep.on_nonfinite", "sweep.max_failures", "sweep.exclude",
            "sweep.slurm",
            "sweep.slurm.partition", "dataset.plugin", "pretrain.plugin", "model.plugin", "method.plugin",
            "method.lr", "method.epochs", "method.batch_size", "model.width", "model.depth", "dataset.tasks",
            "arm", "arm.zeroing", "arm.zeroing.method", "arm.zeroing.method.inner_lr", "arm.orca.method.lr",
            "arm.orca.dataset.seen", "arm.nope.model.width"]
KIND = {"dataset": "datasets", "pretrain": "datasets", "model": "models", "method": "methods"}


class Campaign:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.tmp = tempfile.mkdtemp(prefix="iclr-fuzz-")
        self.env = dict(os.environ, ICLR_CACHE_DIR=os.path.join(self.tmp, "cache"))
        self.findings = 0
        self.schemas = {}  # (kind, name) -> parameter rows of `iclr plugins KIND/NAME`
        os.makedirs(a.out, exist_ok=True)

    def iclr(self, args, timeout=120):
        try:
            p = subprocess.run([self.a.iclr] + args, capture_output=True, env=self.env, timeout=timeout)
            return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            return "timeout", ""

    def found(self, what, text, args, code, out):
        h = hashlib.sha1((what + text).encode("utf-8", "surrogateescape")).hexdigest()[:10]
        with open(os.path.join(self.a.out, f"{what}-{h}.toml"), "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        with open(os.path.join(self.a.out, f"{what}-{h}.out"), "w") as f:
            f.write(f"{' '.join(args)}\nexit {code}\n{out}\n")
        self.findings += 1
        print(f"finding: {what} exit {code}: {os.path.join(self.a.out, what + '-' + h)}.*", flush=True)

    def bad_exit(self, code, out):
        if code not in (0, 2):
            return True
        return code == 2 and "iclr: error: " not in out

    # -- sweeps --------------------------------------------------------------------------------
    def mutate(self, text):
        rng, lines = self.rng, text.split("\n")
        for _ in range(1 + rng.randrange(4)):
            k = rng.randrange(9)
            if k <= 4 or not lines:
                s = "\n".join(lines)
                at = rng.randrange(len(s) + 1)
                if k == 0:
                    s = s[:at] + s[at + 1 + rng.randrange(40):]
                elif k == 1:
                    s = s[:at] + rng.choice(ALPHABET) + s[at:]
                elif k == 2:
                    s = s[:at] + rng.choice(ALPHABET) + s[at + 1:]
                elif k == 3:
                    j = rng.randrange(len(s) + 1)
                    s = s[:at] + s[j:j + rng.randrange(80)] + s[at:]
                else:
                    s = s[:at] + str(rng.randrange(-10**12, 10**12)) + s[at:]
                lines = s.split("\n")
            elif k == 5:  # a value replaced by an edge case
                i = rng.randrange(len(lines))
                if "=" in lines[i]:
                    lines[i] = lines[i].split("=", 1)[0] + "= " + rng.choice(EDGE)
            elif k == 6:
                lines.insert(rng.randrange(len(lines) + 1), lines[rng.randrange(len(lines))])
            elif k == 7:
                del lines[rng.randrange(len(lines))]
            else:  # two lines' values swapped
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                if "=" in lines[i] and "=" in lines[j]:
                    a, b = lines[i].split("=", 1), lines[j].split("=", 1)
                    lines[i], lines[j] = a[0] + "=" + b[1], b[0] + "=" + a[1]
        return "\n".join(lines)

    def sweeps(self, seconds):
        db = os.path.join(self.tmp, "ci.db")
        code, out = self.iclr(["run", os.path.join(ROOT, "sweeps", "orca.toml"), "--profile", "ci", "--db", db], 600)
        if code != 0:
            sys.exit(f"fuzz: the ci run the readers need failed ({code}):\n{out}")
        seeds = {p: open(p).read() for p in SWEEPS}
        # sweeps/tuned/*.toml include a sweep and replace its claims (argmax / argmin in `where`); a
        # mutant is written elsewhere, so the include is inlined: the sweep up to its claims, then theirs.
        for p in sorted(glob.glob(os.path.join(ROOT, "sweeps", "tuned", "*.toml"))):
            own = open(p).read()
            base = open(os.path.join(ROOT, "sweeps", os.path.basename(p))).read()
            seeds[p] = base[:base.index("\n[[claim]]\n") + 1] + own[own.index("\n[[claim]]\n") + 1:]
        path = os.path.join(self.tmp, "mutant.toml")
        end, n = time.time() + seconds, 0
        while time.time() < end:
            text = self.mutate(seeds[self.rng.choice(sorted(seeds))])
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
            command = self.rng.choice(["plan", "plan", "verify", "report"])
            args = [command, path] + (["--db", db] if command != "plan" else [])
            args += ["--out", os.path.join(self.tmp, "r.html")] if command == "report" else []
            args += ["--profile", "ci"] if self.rng.random() < 0.3 else []
            args += self.no_construct() if command == "plan" else []
            code, out = self.iclr(args)
            n += 1
            if self.bad_exit(code, out):
                self.found("sweep-" + command, text, args, code, out)
        print(f"sweeps: {n} mutants through plan, verify and report", flush=True)

    # `plan` builds each plugin configuration in a worker (about a second): one plan in 20 does,
    # the rest test parsing and validation, where mutants land, at a hundred a second.
    def no_construct(self):
        return [] if self.rng.random() < 0.05 else ["--no-construct"]

    # -- sets ----------------------------------------------------------------------------------
    def sets(self, seconds):
        end, n = time.time() + seconds, 0
        while time.time() < end:
            args = ["plan", self.rng.choice(SWEEPS)]
            for _ in range(1 + self.rng.randrange(3)):
                args += ["--set", self.rng.choice(SET_KEYS) + "=" + self.rng.choice(EDGE)]
            args += ["--profile", "ci"] if self.rng.random() < 0.5 else []
            args += self.no_construct()
            code, out = self.iclr(args)
            n += 1
            if self.bad_exit(code, out):
                self.found("set", " ".join(args), args, code, out)
        print(f"sets: {n} override sets through plan", flush=True)

    # -- against -------------------------------------------------------------------------------
    # Another database of the sweep whose runs' config texts are mutants (as another plugin version,
    # a hand edit or another iclr might have written them), read by `verify --against` and `diff
    # --against`, which parse those texts to match runs to trials (keys changed, so that they must).
    # Two sweeps: orca's metrics are its method's rows, the forgetting sweep's are [[metric]] parts
    # (which a mutant drops, adds or doubles).
    def against(self, seconds):
        runs = []
        for name in ("orca", "forgetting_vs_scale"):
            sweep = os.path.join(ROOT, "sweeps", name + ".toml")
            db = os.path.join(self.tmp, name + ".db")
            code, out = self.iclr(["run", sweep, "--profile", "ci", "--db", db], 600)
            if code != 0:
                sys.exit(f"fuzz: the ci run the readers need failed ({code}):\n{out}")
            with sqlite3.connect(db) as c:
                runs.append((sweep, db, c.execute("SELECT id, config_toml FROM runs").fetchall()))
        other = os.path.join(self.tmp, "other.db")
        end, n = time.time() + seconds, 0
        while time.time() < end:
            sweep, db, configs = self.rng.choice(runs)
            with open(db, "rb") as f, open(other, "wb") as g:
                g.write(f.read())
            edits = []
            with sqlite3.connect(other) as c:
                c.execute("UPDATE runs SET key = 'v0-' || key")
                for rid, text in self.rng.sample(configs, 1 + self.rng.randrange(len(configs))):
                    text = self.edit_config(text)
                    edits.append(f"run {rid}:\n{text}")
                    c.execute("UPDATE runs SET config_toml = ? WHERE id = ?", (text, rid))
            rid = self.rng.choice(configs)[0]
            args = (["verify", sweep, "--profile", "ci", "--db", db, "--against", other]
                    + (["--rows"] if self.rng.random() < 0.5 else [])
                    if self.rng.random() < 0.6 else ["diff", str(rid), "--db", db, "--against", other])
            code, out = self.iclr(args)
            n += 1
            if code not in (0, 1, 2) or (code == 2 and "iclr: error: " not in out):
                self.found("against-" + args[0], "\n\n".join(edits), args, code, out)
        print(f"against: {n} mutated databases through verify --against and diff --against", flush=True)

    # A run config as another version, sweep or hand might have written it: a parameter dropped or
    # added (what `--against` matches by the parameters both versions have), a metric dropped, added
    # or doubled (what it leaves out), a value changed, or a mutant.
    def edit_config(self, text):
        k = self.rng.randrange(6)
        if k == 0:  # a parameter the run's version did not have (this one added it)
            return re.sub(r"\{ [a-z_]+ = [^,}]+(, |(?= \}))", "{ ", text, count=1)
        if k == 1:  # a parameter this version dropped
            return text.replace("params = { ", "params = { dropped = %d, " % self.rng.randrange(3), 1)
        if k == 2:
            return text.replace(" = 0.", " = 1.", 1)
        metrics = list(re.finditer(r"\n\[\[metric\]\]\nplugin = [^\n]*\nversion = [^\n]*\nparams = [^\n]*\n", text))
        if k == 3 and metrics:  # a metric this sweep added (the run was made without it)
            m = self.rng.choice(metrics)
            return text[:m.start()] + text[m.end():]
        if k == 4:  # a metric this sweep dropped, or one of its metrics there twice
            extra = (self.rng.choice(metrics).group(0) if metrics and self.rng.random() < 0.5
                     else '\n[[metric]]\nplugin = "gone"\nversion = "0.1.0"\nparams = { x = 1 }\n')
            return text + extra
        return self.mutate(text)

    # -- migrate -------------------------------------------------------------------------------
    # A database as schema 8 left it: a trial's [[metric]] blocks in its sweep file's order, its key
    # hashing that order. The ci runs of three sweeps with metric parts, their blocks shuffled and
    # their keys made as iclr made them, some runs there twice in two orders (a sweep run again after
    # its blocks were moved, with its metric rows), some texts mutated. `iclr plan` (a reader: the
    # copy migrated in memory), `iclr run` (a writer: in place) and `iclr verify` must keep every
    # run, and with no text mutated find every trial done and run none.
    def migrate(self, seconds):
        dbs = []
        for name in ("forgetting_vs_scale", "lp_ft", "vicreg_collapse"):
            sweep = os.path.join(ROOT, "sweeps", name + ".toml")
            db = os.path.join(self.tmp, "m-" + name + ".db")
            code, out = self.iclr(["run", sweep, "--profile", "ci", "--db", db], 600)
            if code != 0:
                sys.exit(f"fuzz: the ci run the migration needs failed ({code}):\n{out}")
            dbs.append((sweep, db))
        old = os.path.join(self.tmp, "schema8.db")
        end, n = time.time() + seconds, 0
        while time.time() < end:
            sweep, db = self.rng.choice(dbs)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(old + suffix):
                    os.remove(old + suffix)
            with open(db, "rb") as f, open(old, "wb") as g:
                g.write(f.read())
            edits, mutated = self.as_schema8(old)
            n += 1
            for args in (["plan", sweep, "--profile", "ci", "--db", old], ["run", sweep, "--profile", "ci", "--db", old],
                         ["verify", sweep, "--profile", "ci", "--db", old]):
                code, out = self.iclr(args, 600)
                with sqlite3.connect(old) as c:
                    ids = {r[0] for r in c.execute("SELECT id FROM runs")}
                lost = set(edits) - ids
                quiet = not mutated and args[0] != "verify" and not re.search(
                    r"(\d+) of the \1 trial\(s\) done|0 done, 0 failed, 0 interrupted, \d+ skipped", out)
                if code not in (0, 1, 2) or (code == 2 and "iclr: error: " not in out) or lost or quiet:
                    why = f"runs lost: {sorted(lost)}\n" if lost else "a trial not found done\n" if quiet else ""
                    self.found("migrate-" + args[0], "\n\n".join(edits.values()), args, code, why + out)
                    break
        print(f"migrate: {n} schema-8 databases through plan, run and verify", flush=True)

    # Makes a copy of a database of today's schema one of schema 8: each run's metric blocks in a
    # random order and its key the hash of that text; a run there twice in another order, rarely; a
    # text mutated, rarely. Returns each run's text by id, and whether a text was mutated.
    def as_schema8(self, path):
        block = r"\n\[\[metric\]\]\nplugin = [^\n]*\nversion = [^\n]*\nparams = [^\n]*\n"
        edits, mutated = {}, False
        with sqlite3.connect(path) as c:
            c.execute("PRAGMA user_version = 8")
            c.execute("DROP TABLE IF EXISTS rekeyed_runs")  # schema 9's table
            for rid, text in c.execute("SELECT id, config_toml FROM runs").fetchall():
                blocks = re.findall(block, text)
                head = text[:text.index(blocks[0])] if blocks else text
                orders = [self.rng.sample(blocks, len(blocks)) for _ in range(2)]
                texts = [head + "".join(o) for o in orders]
                if self.rng.random() < 0.1:
                    texts[0] = self.mutate(texts[0])
                    mutated = True
                key = lambda t: hashlib.sha256(t.encode("utf-8", "surrogateescape")).hexdigest()[:32]
                c.execute("UPDATE runs SET config_toml = ?, key = ? WHERE id = ?", (texts[0], key(texts[0]), rid))
                edits[rid] = texts[0]
                if self.rng.random() < 0.3 and texts[1] != texts[0]:
                    cols = [r[1] for r in c.execute("PRAGMA table_info(runs)") if r[1] not in ("id", "key", "config_toml")]
                    cur = c.execute(f"INSERT INTO runs (key, config_toml, {', '.join(cols)}) "
                                    f"SELECT ?, ?, {', '.join(cols)} FROM runs WHERE id = ?", (key(texts[1]), texts[1], rid))
                    for table in ("metrics", "final_metrics", "params"):
                        cols = [r[1] for r in c.execute(f"PRAGMA table_info({table})") if r[1] != "run_id"]
                        c.execute(f"INSERT INTO {table} (run_id, {', '.join(cols)}) SELECT ?, {', '.join(cols)} "
                                  f"FROM {table} WHERE run_id = ?", (cur.lastrowid, rid))
                    edits[cur.lastrowid] = texts[1]
        return edits, mutated

    # -- bounds --------------------------------------------------------------------------------
    def schema(self, kind, name):
        cache = self.schemas
        if (kind, name) not in cache:
            _, out = self.iclr(["plugins", f"{kind}/{name}"])
            lines = out.splitlines()
            start = next((i + 1 for i, l in enumerate(lines) if l.startswith("-----")), len(lines))
            rows = [m.groups() for l in lines[start:]
                    if (m := re.match(r"(\S+)\s+(int|float|bool|string|list)\s+(\S+)\s+(\[[^\]]*\]|\S*)", l))]
            cache[(kind, name)] = rows
        return cache[(kind, name)]

    def bound(self, sweep):
        plugins, section = {}, None
        for line in open(sweep).read().splitlines():
            if m := re.match(r"\[(dataset|pretrain|model|method)\]\s*$", line):
                section = m.group(1)
            elif line.startswith("["):
                section = None
            elif section and (m := re.match(r'plugin\s*=\s*"(\w+)"', line)):
                plugins[section] = m.group(1)
        if not plugins:
            return None
        role = self.rng.choice(sorted(plugins))
        rows = self.schema(KIND[role], plugins[role])
        if not rows:
            return None
        key, kind, _, allowed = self.rng.choice(rows)
        if kind in ("int", "float") and allowed.startswith("["):
            lo, hi = allowed[1:-1].split(", ")
            # The top of a size's range is a trial that cannot finish in a minute: its bottom.
            big = kind == "int" and (float(hi) >= 1e6 or key in ("epochs", "steps", "pretrain_epochs"))
            return f"{role}.{key}={lo if big else self.rng.choice([lo, hi])}"
        if kind == "bool":
            return f"{role}.{key}={self.rng.choice(['true', 'false'])}"
        if kind == "string" and "|" in allowed:
            return f'{role}.{key}="{self.rng.choice(allowed.split("|"))}"'
        return None

    def bounds(self, seconds):
        with_ci = [p for p in SWEEPS if "[profile.ci" in open(p).read()]
        end, n = time.time() + seconds, 0
        while time.time() < end:
            sweep = self.rng.choice(with_ci)
            setting = self.bound(sweep)
            if not setting:
                continue
            db = os.path.join(self.tmp, f"b{n}.db")
            args = ["run", sweep, "--profile", "ci", "--db", db, "--set", setting, "--set", "sweep.timeout=60"]
            code, out = self.iclr(args, timeout=1800)
            n += 1
            ends = []
            if os.path.exists(db):
                with sqlite3.connect(db) as c:
                    ends = c.execute("SELECT status, COALESCE(error, '') FROM runs").fetchall()
            signalled = [e for s, e in ends if e.startswith("worker died")]  # a signal, or an exit mid-trial
            if code not in (0, 1, 2) or signalled or (code == 2 and "iclr: error: " not in out):
                self.found("bound", " ".join(args), args, code, out + "\n" + "\n".join(signalled))
            print(f"  {os.path.basename(sweep)} {setting}: exit {code}, "
                  f"{sum(s in ('done', 'diverged') for s, _ in ends)}/{len(ends)} done or diverged", flush=True)
        print(f"bounds: {n} ci runs", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("targets", nargs="*", default=["sweeps", "sets", "against", "migrate"],
                    choices=["sweeps", "sets", "against", "migrate", "bounds"])
    ap.add_argument("--iclr", default=os.path.join(ROOT, "build", "bin", "iclr"))
    ap.add_argument("--seconds", type=float, default=300, help="per target")
    ap.add_argument("--seed", type=int, default=int(time.time()), help="of the mutations (printed, to replay)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "fuzz-findings"))
    a = ap.parse_args()
    print(f"fuzz: seed {a.seed}, {a.seconds:.0f} s per target, findings in {a.out}", flush=True)
    c = Campaign(a)
    for t in a.targets:
        getattr(c, t)(a.seconds)
    print(f"fuzz: {c.findings} finding(s)")
    sys.exit(1 if c.findings else 0)


if __name__ == "__main__":
    main()
