#!/usr/bin/env bash
# tools/bench/convnext.sh - images/s of the C ConvNeXt against PyTorch on the
# same convnext_nano weights (random, timm's names, written once to a temp
# safetensors both load), the same batch of 224 px images, the same threads.
# Also checks the two agree on that batch.  Rows as tools/bench.sh wants.
# Each side reports its best of REPS batches (the machine is shared: noise
# only slows).  Env: BATCH (8), THREADS (2), REPS (5), ARCH (convnext_nano).
set -eu
cd "$(dirname "$0")/../.."
PY=${PY:-/usr/bin/python3}
BATCH=${BATCH:-8} THREADS=${THREADS:-2} REPS=${REPS:-5} ARCH=${ARCH:-convnext_nano}
. tools/bench/lib.bash
# the weights and the input come from PyTorch: without it there is no figure
bench_peer_missing "$ARCH 224px batch $BATCH, $THREADS threads (images/s; PyTorch writes the weights)" \
    python3-torch "$PY" -c 'import torch' && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bench_cc "$tmp/convnext_bench" tools/bench/convnext_bench.c
# PyTorch: build, write model + input, time, write its output
"$PY" - "$tmp" "$ARCH" "$BATCH" "$THREADS" "$REPS" >"$tmp/torch.txt" <<'PYEOF'
import sys, time, torch
sys.path.insert(0, 'tools')
import make_fixtures as mf
d, arch, n, threads, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
depths, dims = mf.ARCHS[arch]
m = mf.build(depths, dims, seed=1, scale=0.05)
mf.write_safetensors(d + '/model.safetensors', m.state_dict())
x = torch.rand(n, 3, 224, 224, generator=torch.Generator().manual_seed(2))
mf.write_safetensors(d + '/x.safetensors', {'x': x})
with torch.no_grad():
    y = m(x)                                  # warm up
    best = 1e30                               # best of reps, as the C side
    for _ in range(reps):
        t0 = time.perf_counter()
        y = m(x)
        best = min(best, time.perf_counter() - t0)
mf.write_safetensors(d + '/y_torch.safetensors', {'y': y})
print('%.3f %s' % (n / best, torch.__version__))
PYEOF
read -r tps tver <"$tmp/torch.txt"
cps=$("$tmp/convnext_bench" "$tmp/model.safetensors" "$tmp/x.safetensors" "$tmp/y_c.safetensors" "$THREADS" "$REPS")
diff=$("$PY" - "$tmp" <<'PYEOF'
import sys, json, struct, numpy as np
def load(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
    e = h['y']; o = e['data_offsets']
    return np.frombuffer(b[8 + n + o[0]:8 + n + o[1]], '<f4').reshape(e['shape'])
a, b = load(sys.argv[1] + '/y_c.safetensors'), load(sys.argv[1] + '/y_torch.safetensors')
print('%.2g' % (np.abs(a - b).max() / np.abs(b).max()))
PYEOF
)
# Training: the network make pretrain trains (depths 1,1,3,1 dims 40..320 + a
# 37-answer head), batch 32 of 64 px, one step = forward, backward, AdamW.
"$PY" - "$tmp" "$THREADS" "$REPS" >"$tmp/torch_train.txt" <<'PYEOF'
import sys, time, torch, torch.nn as nn
sys.path.insert(0, 'tools')
import make_fixtures as mf
d, threads, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
m = mf.build((1, 1, 3, 1), (40, 80, 160, 320), seed=3, scale=0.05).train()
head = nn.Linear(320, 37)
w = dict(m.state_dict()); w['head.fc.weight'] = head.weight.detach(); w['head.fc.bias'] = head.bias.detach()
mf.write_safetensors(d + '/train.safetensors', w)
x = torch.rand(32, 3, 64, 64); f = torch.rand(32, 37) / 4
opt = torch.optim.AdamW(list(m.parameters()) + list(head.parameters()), lr=1e-3, weight_decay=0.05)
best = 1e30
for t in range(reps + 1):
    t0 = time.perf_counter()
    opt.zero_grad(); mf.vote_loss(head(m(x)), f, mf.GZ2_QUESTIONS).backward(); opt.step()
    if t: best = min(best, time.perf_counter() - t0)
print('%.3f' % (32 / best))
PYEOF
ttps=$(cat "$tmp/torch_train.txt")
ctps=$("$tmp/convnext_bench" --train "$tmp/train.safetensors" 32 64 "$THREADS" "$REPS" 40,80,160,320)
ratio=$(awk -v a="$cps" -v b="$tps" 'BEGIN { printf "%.2f", a / b }')
printf '%s 224px batch %d, %d threads (images/s)\t%s\tPyTorch %s\t%s\t%s\t>= 1.0\n' "$ARCH" "$BATCH" "$THREADS" "$cps" "$tver" "$tps" "$ratio"
printf '%s C vs PyTorch, same weights: max |diff| / max |y|\t%s\t-\t-\t-\t< 1e-4\n' "$ARCH" "$diff"
printf 'pretrain step (fwd+bwd+AdamW) 64px batch 32, %d threads (images/s)\t%s\tPyTorch %s\t%s\t%s\t>= 1.0\n' \
    "$THREADS" "$ctps" "$tver" "$ttps" "$(awk -v a="$ctps" -v b="$ttps" 'BEGIN { printf "%.2f", a / b }')"
