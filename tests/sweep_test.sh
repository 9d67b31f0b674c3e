#!/usr/bin/env bash
# `sws sweep` (tools/sweep.py on Optuna), on tiny proxy trials (a 784-32-10 MLP, 600 images, one
# pretraining epoch, two retraining epochs):
#  1. two workers started together on one SQLite storage fill one study: 6 trials numbered 0-5,
#     each run once, each with its model file, none lost or repeated;
#  2. a worker killed (SIGKILL, with its trial) in the middle of trial 6: a new worker finds the
#     stale RUNNING trial, continues it with `sws run --resume` under the same number, and its
#     model.sws is bit-identical to an uninterrupted run with the same flags;
#  3. a second study in the same folder is refused, and the pruning rule stops a trial whose
#     unquantised validation error exceeds --max-error;
# and `sws plot` draws the sweep folder's pareto.png from its trials.json;
#  4. bench/choose_point.py picks by its rule, and bench/ablate.py repeats a trial bit for bit
#     before switching each mechanism (those acting after retraining on stage 3 alone, equal to
#     whole runs bit for bit);
#  5. a worker whose trials cannot run stops after 3 in a row, and old trials' flags are spelled
#     both ways when resumed.
# Skipped (77) where /usr/bin/python3 has no optuna (scripts/install-deps.sh installs it).
#   tests/sweep_test.sh SWS MNIST_DIR
set -uo pipefail
sws=$1 data=$2
/usr/bin/python3 -c "import optuna" 2>/dev/null || { echo "SKIP: /usr/bin/python3 has no optuna (apt-get install python3-optuna)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
common=(--model mlp:784-32-10 --data "$data" --threads 1 --train-limit 600 --pretrain-epochs 1
        --max-retrain-epochs 2 --max-error 1 --heartbeat 1)
trials() {  # number:state:resumed per trial of the study in folder $1 (default: $tmp/sw)
  /usr/bin/python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['trials']
print(' '.join(f\"{r['number']}:{r['state']}:{r.get('resumed')}\" for r in t))" "${1:-$tmp/sw}/trials.json"
}

# 1. Two workers at once.
"$sws" sweep "${common[@]}" --out "$tmp/sw" --trials 6 --seed 1 >"$tmp/w1.log" 2>&1 & w1=$!
"$sws" sweep "${common[@]}" --out "$tmp/sw" --trials 6 --seed 2 >"$tmp/w2.log" 2>&1 || fail "worker 2: $(tail -3 "$tmp/w2.log")"
wait $w1 || fail "worker 1: $(tail -3 "$tmp/w1.log")"
got=$(trials)
[[ $got == "0:COMPLETE:False 1:COMPLETE:False 2:COMPLETE:False 3:COMPLETE:False 4:COMPLETE:False 5:COMPLETE:False" ]] \
  || fail "two workers: expected trials 0-5 complete once each, got: $got"
ran=$(cat "$tmp/w1.log" "$tmp/w2.log" | grep -oE '^trial [0-9]+' | sort -V | tr '\n' ' ')
[[ $ran == "trial 0 trial 1 trial 2 trial 3 trial 4 trial 5 " ]] || fail "each trial run by exactly one worker, got: $ran"
[[ -s $tmp/w1.log && -s $tmp/w2.log ]] && grep -q '^trial' "$tmp/w1.log" && grep -q '^trial' "$tmp/w2.log" \
  || fail "both workers should have run trials"
for n in 0 1 2 3 4 5; do
  ls "$tmp/sw/trials/000$n/run/"*model.sws >/dev/null 2>&1 || fail "trial $n has no model file"
done
# The search's figure from its exported trials.
"$sws" plot "$tmp/sw" >"$tmp/plot.log" 2>&1 || fail "sws plot of the sweep folder: $(cat "$tmp/plot.log")"
[[ $(head -c 4 "$tmp/sw/pareto.png" | od -An -c | tr -d ' ') == "211PNG" ]] || fail "pareto.png is not a PNG"
grep -q test_accuracy "$tmp/sw/pretrained/metrics.json" && fail "the study's shared pretraining should not read the test set"
echo "PASS: two workers on one storage: trials 0-5, each once ($(grep -c '^trial' "$tmp/w1.log") + $(grep -c '^trial' "$tmp/w2.log"))"

# 2. A worker dies with its trial; the next one resumes it under the same number.
# It dies at epoch 2's line, after epoch 1's checkpoint (written before epoch 2 starts); it
# runs on 2 threads, its successor on 1: the resumed trial keeps its 2.
SWS_SWEEP_CRASH_AT_EPOCH=2 "$sws" sweep "${common[@]}" --out "$tmp/sw" --trials 7 --seed 3 --threads 2 >"$tmp/w3.log" 2>&1
[[ $? == 137 ]] || fail "the crashing worker should die by SIGKILL: $(tail -3 "$tmp/w3.log")"
sleep 2  # its last heartbeat grows older than --stale-seconds 1
"$sws" sweep "${common[@]}" --out "$tmp/sw" --trials 7 --seed 4 --stale-seconds 1 >"$tmp/w4.log" 2>&1 || fail "worker 4: $(tail -3 "$tmp/w4.log")"
grep -q '^trial 6 (resumed)' "$tmp/w4.log" || fail "trial 6 was not resumed: $(cat "$tmp/w4.log"; tail -3 "$tmp/w3.log"; ls -la "$tmp/sw/trials/0006")"
[[ $(trials) == *" 6:COMPLETE:True" ]] || fail "trial 6 should be complete and resumed: $(trials)"
[[ $(trials | wc -w) == 7 ]] || fail "no trial may be added or lost: $(trials)"
grep -q "resumed by" "$tmp/sw/trials/0006/log.txt" || fail "the trial's log should show the resume"
grep -q "resuming from .* after epoch 1" "$tmp/sw/trials/0006/log.txt" \
  || fail "the resumed trial should continue from its epoch-1 checkpoint: $(grep -c . "$tmp/sw/trials/0006/log.txt") lines"
# The resumed trial's file equals an uninterrupted run's with the same flags.
mapfile -t flags < <(/usr/bin/python3 -c "import json,sys; print('\n'.join(json.load(open(sys.argv[1]))))" "$tmp/sw/trials/0006/flags.json")
"$sws" run --model mlp:784-32-10 --data "$data" --threads 2 --train-limit 600 --seed 1 --no-figures --no-test \
  --from-pretrained "$tmp/sw/pretrained/model.safetensors" --out "$tmp/straight" "${flags[@]}" >"$tmp/straight.log" 2>&1
rc=$?
[[ $rc == 0 || $rc == 3 ]] || fail "the uninterrupted run: $(tail -2 "$tmp/straight.log")"
file=$(basename "$(ls "$tmp/sw/trials/0006/run/"*model.sws)")
cmp -s "$tmp/sw/trials/0006/run/$file" "$tmp/straight/$file" || fail "the resumed trial's $file differs from an uninterrupted run's"
echo "PASS: a killed worker's trial 6 resumed by the next worker under its number, $file bit-identical"

# One study per folder.
"$sws" sweep "${common[@]}" --out "$tmp/sw" --study other --trials 1 >"$tmp/w6.log" 2>&1 && fail "a second study in one folder"
grep -q "holds study 'sws-mlp:784-32-10'" "$tmp/w6.log" || fail "the refusal should name the folder's study: $(cat "$tmp/w6.log")"
echo "PASS: a second study in the same folder is refused"

# 3. Pruning.
"$sws" sweep "${common[@]}" --out "$tmp/pruned" --trials 1 --max-error 0 >"$tmp/w5.log" 2>&1 || fail "worker 5: $(tail -3 "$tmp/w5.log")"
[[ $(trials "$tmp/pruned") == "0:PRUNED:False" ]] || fail "a trial above --max-error should be pruned: $(trials "$tmp/pruned")"
echo "PASS: a trial above --max-error is pruned at its first retraining epoch"

# 4. The bench scripts on this study. bench/choose_point.py: the smallest file among the passed
# trials within both bounds (ties: lower error, then lower number).
root=$(cd "$(dirname "$0")/.." && pwd)
/usr/bin/python3 - "$tmp/sw/trials.json" "$tmp/pick.json" <<'PY' || fail "building the selection's input"
import json, sys
study = json.load(open(sys.argv[1]))
params = study["trials"][0]["params"]
rows = [(0, "COMPLETE", "ok", 1 - .982, .02, 6400), (1, "COMPLETE", "ok", .015, .02, 6500),
        (2, "COMPLETE", "quantization_failure", .010, .01, 3000), (3, "COMPLETE", "ok", .019, .02, 5000),
        (4, "COMPLETE", "ok", .016, .05, 6000), (5, "PRUNED", None, None, None, None),
        (6, "COMPLETE", "ok", .015, .02, 6500), (7, "COMPLETE", "ok", .016, .02, 6500)]
trials = [{"number": n, "state": s, "status": st, "validation_error": e, "nonzero_fraction": z, "file_bytes": b,
           "epochs_run": 2, "params": params} for n, s, st, e, z, b in rows]
json.dump({"study": "pick", "trials": trials}, open(sys.argv[2], "w"))
PY
out=$(/usr/bin/python3 "$root/bench/choose_point.py" "$tmp/pick.json" --max-error 0.018 --max-nonzero 0.043) \
  || fail "choose_point: $out"
[[ $out == "pick: trial 0: 1.80% validation error, 6,400 B"* ]] || fail "choose_point should pick trial 0 (1.80% is within 1.8%): $out"
[[ $out == *"--tau "* ]] || fail "choose_point should print the trial's flags: $out"
out=$(/usr/bin/python3 "$root/bench/choose_point.py" "$tmp/pick.json" --max-error 0.0175 --max-nonzero 0.043)
[[ $out == "pick: trial 1: 1.50% validation error, 6,500 B"* ]] || fail "choose_point should pick trial 1 (ties): $out"
/usr/bin/python3 "$root/bench/choose_point.py" "$tmp/pick.json" --max-error 0.001 >/dev/null && fail "no trial within 0.1% error"
out=$(/usr/bin/python3 "$root/bench/choose_point.py" "$tmp/pick.json" --max-error 0.018 --max-nonzero 0.043 --candidates 3)
[[ $(grep -c "^candidate" <<<"$out") == 2 && $out == *"candidate 2: trial 1: 1.50% validation error, 6,500 B"* &&
   $out == *"candidate 3: trial 6: 1.50% validation error, 6,500 B"* ]] ||
  fail "choose_point --candidates 3 should list trials 1 and 6 after trial 0 (ties: error, then number): $out"
echo "PASS: bench/choose_point.py picks the smallest passed trial within the bounds"
# bench/ablate.py: each mechanism switched at trial 6; its unswitched run repeats trial 6 bit for bit.
SWS_BINARY=$sws /usr/bin/python3 "$root/bench/ablate.py" "$tmp/sw" 6 --out "$tmp/abl" --seeds 1 >"$tmp/abl.log" 2>&1 \
  || fail "ablate: $(tail -5 "$tmp/abl.log")"
variants=$(/usr/bin/python3 -c "import json,sys; print(len({r['variant'] for r in json.load(open(sys.argv[1]))['runs']}))" "$tmp/abl/ablation.json")
expected=$(/usr/bin/python3 -c "import json,sys; sys.path.insert(0, sys.argv[1]); from ablate import variants
print(len(variants(next(t for t in json.load(open(sys.argv[2]))['trials'] if t['number'] == 6)['params'])))" \
  "$root/bench" "$tmp/sw/trials.json")
(( variants == expected && variants >= 7 )) || fail "ablate should run the trial's $expected variants, ran $variants"
cmp -s "$tmp/sw/trials/0006/run/$file" "$tmp/abl/as-chosen-seed1/$file" || fail "ablate's unswitched run differs from trial 6"
echo "PASS: bench/ablate.py ran $variants variants at trial 6; the unswitched one is bit-identical to the trial"
# bench/ablation_table.py: the README's tables from that record, one row per variant, the
# unswitched row unchanged against itself and each median the record's own.
/usr/bin/python3 "$root/bench/ablation_table.py" "$tmp/abl/ablation.json" >"$tmp/abl-table.md" || fail "ablation_table failed"
rows=$(grep -c '^| ' "$tmp/abl-table.md")
(( rows == variants + 1 )) || fail "ablation_table should print a header and $variants rows, printed $rows lines"
grep -q '^| as chosen | [0-9.]*% | [0-9.]*% | +0.00 | [0-9,]* B | +0.0% |' "$tmp/abl-table.md" \
  || fail "ablation_table's unswitched row: $(grep '^| as chosen' "$tmp/abl-table.md")"
want=$(/usr/bin/python3 -c "import json,sys; r=[x for x in json.load(open(sys.argv[1]))['runs'] if x['variant'] == 'as chosen'][0]
print(f\"{100 * r['validation_error']:.2f}% | {r['file_bytes']:,.0f} B\")" "$tmp/abl/ablation.json")
grep -q "^| as chosen | [0-9.]*% | ${want%% |*} | +0.00 | ${want##*| } |" "$tmp/abl-table.md" \
  || fail "ablation_table's unswitched medians should be the record's ($want): $(grep '^| as chosen' "$tmp/abl-table.md")"
echo '{"runs": [{"variant": "no tau warm-up", "seed": 1, "validation_error": 0.1, "file_bytes": 9, "nonzero_fraction": 0.1, "epochs_run": 1}]}' >"$tmp/no-base.json"
if /usr/bin/python3 "$root/bench/ablation_table.py" "$tmp/no-base.json" >/dev/null 2>&1; then
  fail "ablation_table should refuse a record without an unswitched run"
fi
echo "PASS: bench/ablation_table.py tabulates the record (a row per variant, the unswitched medians its own)"
# The variants that switch only post-processing redo stage 3 on the unswitched run's retraining;
# run whole, each gives the same files and figures. The study's tiny trials all collapse onto
# zero, where every variant agrees, so this uses a point of its own whose quantised net keeps
# ~9% of its weights (one trial written by hand; a stronger pretraining; precisions that move fast).
mkdir -p "$tmp/s3/trials/0000"
"$sws" pretrain --model mlp:784-32-10 --data "$data" --threads 1 --train-limit 600 --epochs 5 --no-test \
  --out "$tmp/s3/pretrained" >"$tmp/s3.log" 2>&1 || fail "pretraining for the stage-3 check: $(tail -2 "$tmp/s3.log")"
grep -q test_accuracy "$tmp/s3/pretrained/metrics.json" && fail "sws pretrain --no-test should not read the test set"
/usr/bin/python3 - "$tmp/s3" "$data" <<'PY' || fail "writing the stage-3 check's study"
import json, os, sys
p = {"tau": 0.02, "components": 5, "lr_weights": 2e-3, "lr_means": 3e-4, "lr_log_precisions": 0.05, "lr_mixing": 3e-3,
     "alpha_zero": 5000.0, "beta_zero": 2.0, "alpha": 2000.0, "beta": 0.02, "retrain_epochs": 60, "retrain_rule": "adaptive",
     "tau_growth": 1.2, "finetune_epochs": 0, "tau_warmup_fraction": 0.0, "zero_share": 0.1, "learn_pi0": False,
     "remove_dead_units": False, "prune_by_validation": True, "prune_budget": 0.02, "merge_by_validation": True,
     "merge_budget": 1.0}
json.dump({"study": "stage3", "model": "mlp:784-32-10", "trials": [{"number": 0, "state": "COMPLETE", "status": "ok",
           "validation_error": 0.2, "file_bytes": 1000, "nonzero_fraction": 0.1, "params": p}]},
          open(os.path.join(sys.argv[1], "trials.json"), "w"))
json.dump({"data": sys.argv[2], "threads": 1, "run_seed": 1, "train_limit": 600},
          open(os.path.join(sys.argv[1], "trials", "0000", "run.json"), "w"))
PY
mapfile -t stage3 < <(/usr/bin/python3 -c "import json,sys; sys.path.insert(0, sys.argv[1]); from ablate import variants, after_retraining_only
p = json.load(open(sys.argv[2]))['trials'][0]['params']
print('\n'.join(n for n, q in variants(p)[1:] if after_retraining_only(p, q)))" "$root/bench" "$tmp/s3/trials.json")
(( ${#stage3[@]} == 4 )) || fail "dead units, pruning, merging and fine-tuning should switch stage 3 only: ${stage3[*]}"
only=(); for v in "${stage3[@]}"; do only+=(--only "$v"); done
for how in alone whole; do
  SWS_BINARY=$sws /usr/bin/python3 "$root/bench/ablate.py" "$tmp/s3" 0 --out "$tmp/s3/$how" --seeds 1 "${only[@]}" \
    $([[ $how == whole ]] && echo --whole-runs) >"$tmp/s3-$how.log" 2>&1 || fail "ablate ($how): $(tail -5 "$tmp/s3-$how.log")"
done
changed=0
for v in "${stage3[@]}"; do
  d=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, sys.argv[1]); from ablate import slug; print(slug(sys.argv[2]))" "$root/bench" "$v")-seed1
  grep -q '"stage3_from"' "$tmp/s3/alone/$d/metrics.json" || fail "'$v' should have redone stage 3 alone"
  grep -q '"stage3_from"' "$tmp/s3/whole/$d/metrics.json" && fail "'$v' with --whole-runs should have retrained"
  f=$(cd "$tmp/s3/whole/$d" && ls *model.sws)
  cmp -s "$tmp/s3/alone/$d/$f" "$tmp/s3/whole/$d/$f" && cmp -s "$tmp/s3/alone/$d/quantized.safetensors" "$tmp/s3/whole/$d/quantized.safetensors" \
    || fail "'$v': stage 3 alone and the whole run differ ($f, quantized.safetensors)"
  cmp -s "$tmp/s3/alone/$d/quantized.safetensors" "$tmp/s3/alone/as-chosen-seed1/quantized.safetensors" || changed=$((changed + 1))
  /usr/bin/python3 - "$tmp/s3/alone/$d/metrics.json" "$tmp/s3/whole/$d/metrics.json" <<'PY' || fail "'$v': stage 3 alone and the whole run report differently"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["status"] == b["status"], (a["status"], b["status"])
for k in ("validation_accuracy", "validation_accuracy_before", "nonzero_fraction", "distinct_values"):
    assert a["quantized"][k] == b["quantized"][k], (k, a["quantized"][k], b["quantized"][k])
assert a["quantized"]["nonzero_fraction"] > 0.01, a["quantized"]["nonzero_fraction"]
assert "test_accuracy" not in a["quantized"], "sws quantize --no-test read the test set"
assert a["compression"]["file_bytes"] == b["compression"]["file_bytes"]
assert a["retrained"]["epochs_run"] == b["retrained"]["epochs_run"]
PY
done
# An interrupted stage 3 (quantize's own metrics.json written, the final one not) is redone.
d=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, sys.argv[1]); from ablate import slug; print(slug(sys.argv[2]))" "$root/bench" "${stage3[0]}")-seed1
cp "$tmp/s3/alone/$d/quantized.safetensors" "$tmp/s3/kept.safetensors"
/usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1])); m.pop('retrained'); json.dump(m, open(sys.argv[1], 'w'))" \
  "$tmp/s3/alone/$d/metrics.json"
SWS_BINARY=$sws /usr/bin/python3 "$root/bench/ablate.py" "$tmp/s3" 0 --out "$tmp/s3/alone" --seeds 1 "${only[@]}" \
  >"$tmp/s3-again.log" 2>&1 || fail "ablate after an interrupted stage 3: $(tail -5 "$tmp/s3-again.log")"
grep -q '"retrained"' "$tmp/s3/alone/$d/metrics.json" && grep -q "quantize.*--out $tmp/s3/alone/$d" "$tmp/s3-again.log" &&
  cmp -s "$tmp/s3/kept.safetensors" "$tmp/s3/alone/$d/quantized.safetensors" \
  || fail "an interrupted stage 3 of '${stage3[0]}' should be redone, to the same file"
# Tau's growth and the fixed rule: the adaptive run added no epoch, so each variant is that run
# (its record copied); run whole, each gives the unswitched run's files bit for bit.
[[ $(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['retrained']['epochs_run'])" \
     "$tmp/s3/alone/as-chosen-seed1/metrics.json") == 60 ]] || fail "the check's point should end at its 60 planned epochs"
for how in alone whole; do
  SWS_BINARY=$sws /usr/bin/python3 "$root/bench/ablate.py" "$tmp/s3" 0 --out "$tmp/s3/$how" --seeds 1 --only "no tau growth" \
    --only "fixed epochs" $([[ $how == whole ]] && echo --whole-runs) >"$tmp/s3-ext-$how.log" 2>&1 \
    || fail "ablate ($how, extension-only variants): $(tail -5 "$tmp/s3-ext-$how.log")"
done
for d in no-tau-growth-seed1 fixed-epochs-seed1; do
  grep -q '"same_run_as"' "$tmp/s3/alone/$d/metrics.json" || fail "$d should be the unswitched run's record"
  for f in retrained.safetensors prior.safetensors quantized.safetensors; do
    cmp -s "$tmp/s3/whole/as-chosen-seed1/$f" "$tmp/s3/whole/$d/$f" || fail "$d run whole should equal the unswitched run ($f)"
  done
done
# ... and only there: a variant that changes what the planned epochs read is never copied, nor
# is any variant at a seed whose unswitched run added an epoch (here pretended: a binary that
# cannot run shows that ablate tried to run it).
/usr/bin/python3 -c "import json,sys; sys.path.insert(0, sys.argv[1]); from ablate import read_only_when_extending as r
p = json.load(open(sys.argv[2]))['trials'][0]['params']
assert r(p, {**p, 'tau_growth': 1.0}) and r(p, {**p, 'retrain_rule': 'fixed'})
assert not r(p, {**p, 'tau_warmup_fraction': 0.25}) and not r(p, {**p, 'tau_growth': 1.0, 'tau': 0.03})
assert not r({**p, 'retrain_rule': 'fixed'}, {**p, 'retrain_rule': 'fixed', 'tau_growth': 1.0})" \
  "$root/bench" "$tmp/s3/trials.json" || fail "read_only_when_extending accepts or refuses the wrong changes"
mkdir -p "$tmp/s3/extended"
cp -r "$tmp/s3/alone/as-chosen-seed1" "$tmp/s3/extended/"
/usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1])); m['retrained']['epochs_run'] = 61
json.dump(m, open(sys.argv[1], 'w'))" "$tmp/s3/extended/as-chosen-seed1/metrics.json"
SWS_BINARY=/bin/false /usr/bin/python3 "$root/bench/ablate.py" "$tmp/s3" 0 --out "$tmp/s3/extended" --seeds 1 \
  --only "no tau growth" >"$tmp/s3-extended.log" 2>&1 && fail "after an added epoch, 'no tau growth' should have been run, not copied"
grep -q "no tau growth, seed 1: exit 1" "$tmp/s3-extended.log" || fail "ablate should say which run failed: $(tail -2 "$tmp/s3-extended.log")"
(( changed >= 3 )) || fail "pruning, merging and fine-tuning should change the quantised net (changed: $changed of 4)"
echo "PASS: bench/ablate.py's stage-3-only variants (${stage3[*]}) equal whole runs bit for bit ($changed of 4 change the net); without an added epoch, no tau growth and the fixed rule are the unswitched run"
# bench/stage3_on_front.py on a study of one trial, the point without merging (its whole run from
# above): stage 3 as the trial ran it repeats the run's quantised net, merging (budget 1) leaves
# fewer values, and a setting the trial already has is refused.
mkdir -p "$tmp/s4/trials/0000"
cp "$tmp/s3/trials/0000/run.json" "$tmp/s4/trials/0000/"
cp -r "$tmp/s3/whole/no-merging-by-validation-seed1" "$tmp/s4/trials/0000/run"
/usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); s['trials'][0]['params']['merge_by_validation'] = False
json.dump(s, open(sys.argv[2], 'w'))" "$tmp/s3/trials.json" "$tmp/s4/trials.json"
SWS_BINARY=$sws /usr/bin/python3 "$root/bench/stage3_on_front.py" "$tmp/s4" --out "$tmp/s4/front" --with "--prune-budget 0.1" \
  >"$tmp/s4-front.log" 2>&1 && fail "stage3_on_front should refuse a setting the trial already has"
grep -q "already sets \['--prune-budget'\]" "$tmp/s4-front.log" || fail "the refusal should name the flag: $(tail -2 "$tmp/s4-front.log")"
SWS_BINARY=$sws /usr/bin/python3 "$root/bench/stage3_on_front.py" "$tmp/s4" --out "$tmp/s4/front" --with "--merge-budget 1" \
  >"$tmp/s4-front.log" 2>&1 || fail "stage3_on_front: $(tail -5 "$tmp/s4-front.log")"
cmp -s "$tmp/s4/front/0000-as-run/quantized.safetensors" "$tmp/s4/trials/0000/run/quantized.safetensors" \
  || fail "stage3_on_front's stage 3 as run should repeat the trial's quantised net"
/usr/bin/python3 -c "import json,sys; p=json.load(open(sys.argv[1]))['pairs']
assert [q['trial'] for q in p] == [0] and p[0]['with']['distinct_values'] < p[0]['without']['distinct_values'], p" \
  "$tmp/s4/front/stage3.json" || fail "stage3_on_front should merge values at trial 0: $(cat "$tmp/s4/front/stage3.json")"
# Another --with into the same folder redoes the "with" side rather than reading the old one.
SWS_BINARY=$sws /usr/bin/python3 "$root/bench/stage3_on_front.py" "$tmp/s4" --out "$tmp/s4/front" --with "--merge-budget 0" \
  >"$tmp/s4-front2.log" 2>&1 || fail "stage3_on_front again: $(tail -5 "$tmp/s4-front2.log")"
grep -q '"0"' "$tmp/s4/front/0000-with/done.json" || fail "the second --with should have been run: $(cat "$tmp/s4/front/0000-with/done.json")"
grep -q "0000-as-run" "$tmp/s4-front2.log" && fail "the unchanged side should have been read, not redone"
# The front: the passed trials that no other beats on both error and bytes (ties: fewer bytes, then lower error).
/usr/bin/python3 -c "import sys; sys.path.insert(0, sys.argv[1]); from stage3_on_front import front
t = lambda n, e, b, st='ok', s='COMPLETE': {'number': n, 'validation_error': e, 'file_bytes': b, 'status': st, 'state': s}
got = [x['number'] for x in front([t(0, .02, 900), t(1, .01, 1000), t(2, .01, 1100), t(3, .03, 800), t(4, .015, 900),
                                   t(5, .005, 700, 'failed'), t(6, .001, 100, s='PRUNED'), t(7, .02, 850)])]
assert got == [3, 7, 4, 1], got" "$root/bench" || fail "stage3_on_front's front is wrong"
echo "PASS: bench/stage3_on_front.py repeats a trial's stage 3 and adds a setting to it"
# choose_point.py --reruns: the trial's figures become the medians of ablate's unswitched runs.
out=$(/usr/bin/python3 "$root/bench/choose_point.py" "$tmp/sw/trials.json" --max-error 1 --reruns "$tmp/abl")
[[ $out == *"trial 6: median of 1 reruns (seeds [1])"* ]] || fail "choose_point --reruns: $out"
echo "PASS: bench/choose_point.py --reruns reads ablate's runs"

# 5. A worker whose trials cannot run (a binary that rejects every run) stops after 3 in a row
# instead of marking the rest of the study FAIL.
before=$(trials | wc -w)
/usr/bin/python3 "$root/tools/sweep.py" "${common[@]}" --out "$tmp/sw" --trials 20 --seed 5 --sws /bin/false >"$tmp/w7.log" 2>&1 \
  && fail "a worker whose trials all fail should exit non-zero"
grep -q "3 trials in a row could not run" "$tmp/w7.log" || fail "the worker should say why it stopped: $(tail -3 "$tmp/w7.log")"
(( $(trials | wc -w) == before + 3 )) || fail "exactly 3 trials should have failed: $(trials)"
echo "PASS: a worker stops after 3 trials in a row that could not run"
# Failed trials do not use up the study: 7 ran and 3 failed, so --trials 8 runs one more.
"$sws" sweep "${common[@]}" --out "$tmp/sw" --trials 8 --seed 6 >"$tmp/w8.log" 2>&1 || fail "worker 8: $(tail -3 "$tmp/w8.log")"
[[ $(grep -c '^trial' "$tmp/w8.log") == 1 ]] || fail "--trials 8 after 7 run and 3 failed should run one trial: $(cat "$tmp/w8.log")"
echo "PASS: failed trials do not count towards --trials"
# A resumed trial's stored flags from before the "off" spellings get them, so that a preset's
# "on" cannot fill the gap.
/usr/bin/python3 -c "import sys; sys.path.insert(0, sys.argv[1]); from sweep import spelled_both_ways as s
assert s(['--tau', '1', '--learn-pi0']) == ['--tau', '1', '--learn-pi0', '--keep-dead-units']
assert s(['--fixed-pi0', '--remove-dead-units']) == ['--fixed-pi0', '--remove-dead-units']
assert s([]) == ['--fixed-pi0', '--keep-dead-units']" "$root/tools" || fail "spelled_both_ways"
echo "PASS: old trials' flags are spelled both ways on resume"
