#!/usr/bin/python3
# Replace a README verdict table with what `iclr verify` prints now, verbatim: the first `| claim |`
# table after the line `    iclr verify sweeps/NAME.toml --format markdown`.
# Run: /usr/bin/python3 docs/splice_verdict_table.py NAME DB   (from the repository root; prints
# the old table and the new one; the prose around it is yours to update). ICLR=path picks another
# binary than build/bin/iclr.
import os
import subprocess
import sys

name, db = sys.argv[1], sys.argv[2]
new = subprocess.run([os.environ.get("ICLR", "build/bin/iclr"), "verify", f"sweeps/{name}.toml", "--db", db, "--format", "markdown"],
                     check=True, capture_output=True, text=True).stdout.rstrip("\n").split("\n")
lines = open("README.md").read().split("\n")
i = lines.index(f"    iclr verify sweeps/{name}.toml --format markdown")
while not lines[i].startswith("| claim |"):
    i += 1
j = i
while j < len(lines) and lines[j].startswith("|"):
    j += 1
print("\n".join(lines[i:j]) + "\n---- becomes\n" + "\n".join(new))
lines[i:j] = new
open("README.md", "w").write("\n".join(lines))
