#!/usr/bin/env bash
# labels: cli
# Help texts and README agree (issue 19):
# - `tokattr help` lists the commands of README's "Commands" table;
# - every option README shows for a command (`tokattr CMD ... --opt`, or
#   `CMD --opt` in code) is in `tokattr CMD --help`;
# - the method parameter table (src/cli/method_params.c), as `run --help`
#   prints its job keys and `explain --help` its options, is one list:
#   every key is an explain option that parses its value (a bad value is
#   refused naming the key, not as an unknown option), a job key README's
#   Methods section names, and in README's list of explain's options;
# - each choice (rules, baselines, targets...) is spelled one way: the
#   help's spelling is README's, and `gauss_legendre` (the old spelling)
#   appears nowhere in the help texts, README or the shipped jobs.
set -uo pipefail
BIN=${TOKATTR_BIN:?}
SHARED=${TOKATTR_SHARED:?}
SRC=${TOKATTR_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$BIN" help > "$work/help.txt" || { echo "FAIL: tokattr help"; exit 1; }
for c in prepare tokenize evaluate train explain run inspect report export; do
    "$BIN" "$c" --help > "$work/$c.txt" 2>&1 || { echo "FAIL: tokattr $c --help"; exit 1; }
done
python3 - "$BIN" "$SRC/README.md" "$work" "$SHARED/models/keras_imdb_cnn.h5" "$SRC/jobs" <<'PY'
import glob, os, re, subprocess, sys
BIN, README, WORK, MODEL, JOBS = sys.argv[1:6]
readme = open(README).read()
bad = []
def fail(msg):
    bad.append(msg)
    print("FAIL:", msg)

# 1. the commands
helped = set(re.findall(r"^  (\w+) ", open(f"{WORK}/help.txt").read(), re.M)) - {"version"}
table = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
listed = set(re.findall(r"^\| `(?:mpirun -n N )?tokattr (\w+)", table, re.M))
if helped != listed:
    fail(f"`tokattr help` lists {sorted(helped)}, README's Commands table {sorted(listed)}")
cmds = sorted(helped)
helps = {c: open(f"{WORK}/{c}.txt").read() for c in cmds}
OPT = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")

# 2. README's options of each command exist in its --help
spans = re.findall(r"`([^`\n]+)`", readme) + [l for l in readme.splitlines() if l.startswith("    ")]
spans += re.findall(r"```[a-z]*\n(.*?)```", readme, re.S)
for span in spans:
    for line in span.splitlines():
        for m in re.finditer(r"(?:tokattr |^|\s)(%s)\b((?:\s+(?!tokattr )[^\s|;]+)*)" % "|".join(cmds), line):
            cmd, rest = m.group(1), m.group(2)
            for opt in OPT.findall(rest):
                if opt not in helps[cmd] and opt != "--help":
                    fail(f"README shows `{cmd} ... {opt}`, which `tokattr {cmd} --help` does not list")

# 3. the method parameter table
run_keys = re.findall(r"^  ([a-z_]+) +\S", helps["run"].split("Method keys", 1)[1], re.M)
ex_params = helps["explain"].split("method parameters", 1)[1].split("short forms", 1)[0]
ex_opts = re.findall(r"^  --([a-z-]+) +\S", ex_params, re.M)
if not run_keys or [k.replace("_", "-") for k in run_keys] != ex_opts:
    fail(f"run --help's method keys {run_keys} are not explain --help's options {ex_opts}")
methods_sec = readme.split("## Methods and `tokattr explain`", 1)[1].split("\n## ", 1)[0]
jobs_sec = readme.split("## Running a job", 1)[1].split("\n## ", 1)[0]
explain_list = re.search(r"Every method parameter of the job is an option \((.*?);", methods_sec, re.S)
explain_list = set(re.findall(r"`(--[a-z-]+)`", explain_list.group(1))) if explain_list else set()
if explain_list != {"--" + o for o in ex_opts}:
    fail(f"README's list of explain's method options {sorted(explain_list)} is not the table's "
         f"{sorted('--' + o for o in ex_opts)}")
APPLIES = {"eps": "lrp_epsilon", "bias_factor": "lrp_epsilon", "window": "occlusion",
           "background_size": "deepshap", "background_random": "deepshap", "seed": "deepshap"}
for key in run_keys:
    if not re.search(r"\b%s\b" % key, methods_sec + jobs_sec):
        fail(f"method key {key} is not named in README's Methods or Running a job sections")
    method = APPLIES.get(key, "integrated_gradients")
    p = subprocess.run([BIN, "explain", MODEL, "--text", "a good film", "--tokenizer", "keras-imdb",
                        "--method", method, "--" + key.replace("_", "-"), "-7.5x"],
                       capture_output=True, text=True)
    if p.returncode == 0 or f"'{key}'" not in p.stderr or "unknown option" in p.stderr:
        fail(f"explain --{key.replace('_', '-')} -7.5x: exit {p.returncode}, {p.stderr.strip()!r}")

# 4. one spelling of each choice
for line in ex_params.splitlines():
    m = re.match(r"^  --([a-z-]+) +([a-z_]+(?:, [a-z_]+)+)$", line)
    for choice in (m.group(2).split(", ") if m else []):
        if choice not in readme:
            fail(f"--{m.group(1)} {choice}: README never spells it so")
texts = dict(helps, README=readme)
for j in glob.glob(os.path.join(JOBS, "*.yaml")):
    texts[j] = open(j).read()
for name, text in texts.items():
    if "gauss_legendre" in text:
        fail(f"{name} spells the rule other than gausslegendre")
print(f"{len(cmds)} commands, {len(run_keys)} method keys checked; {len(bad)} disagreements")
sys.exit(1 if bad else 0)
PY
