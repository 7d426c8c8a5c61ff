#!/usr/bin/env bash
# tools/bench/finetune.sh - images/s of a fine-tuning step (zoosh train
# --finetune: forward through the whole network, backward and AdamW through
# the last stage and a 2-answer head, the stem and stages 0-2 frozen) in C
# against PyTorch doing the same (requires_grad off for the frozen part, AdamW
# over the rest) on the same start weights, batch 16 of 64 px, the network
# make pretrain trains (depths 1,1,3,1, dims 40..320).  Best of REPS steps
# each.  Env: THREADS (2), REPS (10).  Rows as tools/bench.sh wants.
set -eu
cd "$(dirname "$0")/../.."
PY=${PY:-/usr/bin/python3}
THREADS=${THREADS:-2} REPS=${REPS:-10}
. tools/bench/lib.bash
bench_peer_missing "fine-tune step 64px batch 16, $THREADS threads (images/s; PyTorch writes the weights)" \
    python3-torch "$PY" -c 'import torch' && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bench_cc "$tmp/finetune_bench" tools/bench/finetune_bench.c
"$PY" - "$tmp" "$THREADS" "$REPS" >"$tmp/torch.txt" <<'PYEOF'
import sys, time, torch, torch.nn as nn
sys.path.insert(0, 'tools')
import make_fixtures as mf
d, threads, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
m = mf.build((1, 1, 3, 1), (40, 80, 160, 320), seed=3, scale=0.05).train()
head = nn.Linear(320, 2)
w = dict(m.state_dict()); w['head.fc.weight'] = head.weight.detach(); w['head.fc.bias'] = head.bias.detach()
mf.write_safetensors(d + '/ft.safetensors', w)
for p in list(m.stem.parameters()) + [p for s in list(m.stages)[:3] for p in s.parameters()]:
    p.requires_grad_(False)
train = [p for p in list(m.parameters()) + list(head.parameters()) if p.requires_grad]
x = torch.rand(16, 3, 64, 64); y = torch.randint(0, 2, (16,))
opt = torch.optim.AdamW(train, lr=2e-4, weight_decay=0.05)
best = 1e30
for t in range(reps + 1):
    t0 = time.perf_counter()
    opt.zero_grad(); nn.functional.cross_entropy(head(m(x)), y).backward(); opt.step()
    if t: best = min(best, time.perf_counter() - t0)
print('%.3f %s' % (16 / best, torch.__version__))
PYEOF
read -r tps tver <"$tmp/torch.txt"
cps=$("$tmp/finetune_bench" "$tmp/ft.safetensors" 16 64 "$THREADS" "$REPS")
printf 'fine-tune step (last stage + head) 64px batch 16, %d threads (images/s)\t%s\tPyTorch %s\t%s\t%s\t>= 1.0\n' \
    "$THREADS" "$cps" "$tver" "$tps" "$(awk -v a="$cps" -v b="$tps" 'BEGIN { printf "%.2f", a / b }')"
