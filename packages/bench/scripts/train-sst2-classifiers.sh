#!/usr/bin/env bash
# Reproduces packages/bench/models/sst2-teacher and sst2-student: a tokenizer, a teacher classifier trained from
# scratch on SST-2 train (../shared/datasets/sst2/train.tsv; dev is only evaluated): 300 next-token steps on the train
# sentences, then cross-entropy as a classifier; and a student
# (<= 60% of the teacher's parameters) distilled from it, with backend-tfjs (wasm, one thread). Takes 10-30 minutes
# of one CPU core. The env below is the run recorded as the chosen one in packages/backend-tfjs/bench/sst2-results.md;
# override any of it (see the knobs in packages/backend-tfjs/bench/sst2.run.ts).
# Usage (from the repo root): packages/bench/scripts/train-sst2-classifiers.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
out="$(mktemp -d "${TMPDIR:-/tmp}/slmkit-sst2-XXXXXX")"
export OUT="$out"
export SEED="${SEED:-7}" VOCAB="${VOCAB:-8192}" DIM="${DIM:-64}" TEACHER_LAYERS="${TEACHER_LAYERS:-2}"
export STUDENT_DIM="${STUDENT_DIM:-32}" STUDENT_HEADS="${STUDENT_HEADS:-2}" STUDENT_FFN="${STUDENT_FFN:-192}"
export STUDENT_LAYERS="${STUDENT_LAYERS:-1}" BATCH="${BATCH:-128}" EPOCHS="${EPOCHS:-2}" PRETRAIN_STEPS="${PRETRAIN_STEPS:-300}"
export LR="${LR:-3e-3}" TOKEN_DROPOUT="${TOKEN_DROPOUT:-0.15}" WD="${WD:-0.1}" LABEL_SMOOTHING="${LABEL_SMOOTHING:-0}"
npx vitest run --config packages/backend-tfjs/bench/vitest.bench.config.ts sst2
for m in teacher student; do
  rm -rf "packages/bench/models/sst2-$m"
  mkdir -p "packages/bench/models/sst2-$m"
  cp "$out/$m/"* "packages/bench/models/sst2-$m/"
done
cp "$out/sst2.md" "$out/sst2.json" packages/bench/models/
echo "models written to packages/bench/models/sst2-{teacher,student}; the run's table: packages/bench/models/sst2.md"
