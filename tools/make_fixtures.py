#!/usr/bin/python3
"""make_fixtures.py - `make fixtures`: regenerate the small reference files
under tests/data/ that `make test` compares zoosh against.  Needs Debian's
python3-torch; `make test` itself never runs this.

convnext_fixture.safetensors     a tiny ConvNeXt (timm's parameter names and
                                 layouts, conv_mlp=True) with random weights
convnext_fixture_io.safetensors  inputs and PyTorch's outputs for it
convnext_train_weights.safetensors  a tiny ConvNeXt + linear vote head
convnext_train_io.safetensors    a batch, vote fractions, PyTorch's loss and
                                 gradients, and its loss after 3 AdamW steps

The reference network below is timm's ConvNeXt (timm/models/convnext.py,
huggingface/pytorch-image-models) re-written in plain torch with the same
module names, so its state_dict() has exactly timm's keys: timm itself is not
installed here.  Weights are drawn larger than timm's init (and gamma near 1
rather than 1e-6) so every block visibly changes the output.

Also a library for tools/bench/convnext.sh (build(), write_safetensors()).
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm2d(nn.LayerNorm):
    """timm.layers.LayerNorm2d: LayerNorm over C of an NCHW tensor, eps 1e-6."""

    def __init__(self, c, eps=1e-6):
        super().__init__(c, eps=eps)

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Mlp(nn.Module):
    """timm.layers.Mlp(use_conv=True): 1x1 conv, GELU (erf), 1x1 conv."""

    def __init__(self, c, hidden):
        super().__init__()
        self.fc1 = nn.Conv2d(c, hidden, 1, bias=True)
        self.act = nn.GELU()
        self.fc2 = nn.Conv2d(hidden, c, 1, bias=True)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """ConvNeXtBlock with conv_mlp=True."""

    def __init__(self, c):
        super().__init__()
        self.conv_dw = nn.Conv2d(c, c, 7, padding=3, groups=c, bias=True)
        self.norm = LayerNorm2d(c)
        self.mlp = Mlp(c, 4 * c)
        self.gamma = nn.Parameter(1e-6 * torch.ones(c))

    def forward(self, x):
        s = x
        x = self.mlp(self.norm(self.conv_dw(x)))
        return x.mul(self.gamma.reshape(1, -1, 1, 1)) + s


class Stage(nn.Module):
    def __init__(self, cin, c, depth, first):
        super().__init__()
        self.downsample = nn.Identity() if first else nn.Sequential(
            LayerNorm2d(cin), nn.Conv2d(cin, c, 2, stride=2, bias=True))
        self.blocks = nn.Sequential(*[Block(c) for _ in range(depth)])

    def forward(self, x):
        return self.blocks(self.downsample(x))


class Head(nn.Module):
    """NormMlpClassifierHead with num_classes=0: avg pool, norm, flatten."""

    def __init__(self, c):
        super().__init__()
        self.norm = LayerNorm2d(c)

    def forward(self, x):
        return self.norm(x.mean((2, 3), keepdim=True)).flatten(1)


class ConvNeXt(nn.Module):
    def __init__(self, depths, dims):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 4, stride=4, bias=True), LayerNorm2d(dims[0]))
        self.stages = nn.Sequential(*[
            Stage(dims[max(i - 1, 0)], dims[i], depths[i], i == 0) for i in range(len(depths))])
        self.head = Head(dims[-1])

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))


ARCHS = {
    'convnext_atto': ((2, 2, 6, 2), (40, 80, 160, 320)),
    'convnext_pico': ((2, 2, 6, 2), (64, 128, 256, 512)),
    'convnext_nano': ((2, 2, 8, 2), (80, 160, 320, 640)),
}


def build(depths, dims, seed, scale=0.2):
    """A ConvNeXt with random, non-trivial weights (fixed seed)."""
    torch.manual_seed(seed)
    m = ConvNeXt(depths, dims)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith('gamma'):
                p.uniform_(0.5, 1.5)
            elif p.ndim == 1 and ('norm' in name or name.startswith('stem.1') or 'downsample.0' in name):
                p.copy_((1.0 if name.endswith('weight') else 0.0) + 0.1 * torch.randn_like(p))
            elif p.ndim == 1:
                p.normal_(0, 0.1)
            else:
                fan_in = p[0].numel()
                p.normal_(0, scale * (3.0 / fan_in) ** 0.5 * 3)
    return m.eval()


def write_safetensors(path, tensors, metadata=None):
    """The safetensors format by hand: 8-byte LE header length, JSON, raw LE data."""
    header, blobs, off = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy() if torch.is_tensor(t) else t)
        dt = {np.dtype('float32'): 'F32', np.dtype('uint8'): 'U8'}[a.dtype]
        b = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': dt, 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(path + '.tmp', path)


QUESTIONS = ((0, 3), (3, 2))     # the training fixture: two questions, 3 + 2 answers


GZ2_QUESTIONS = tuple(zip((0, 3, 5, 7, 9, 13, 15, 18, 25, 28, 31), (3, 2, 2, 2, 4, 2, 3, 7, 3, 3, 6)))


def vote_loss(z, f, questions=QUESTIONS):
    """zoosh pretrain's loss: -sum_a f_a log softmax_q(z)_a per question, batch mean."""
    tot = 0
    for s, k in questions:
        tot = tot - (f[:, s:s + k] * F.log_softmax(z[:, s:s + k], dim=1)).sum(1)
    return tot.mean()


def training_fixture(out):
    """Gradients and three AdamW steps of ConvNeXt + linear head in torch, for
    tests/t_pretrain.c to compare the C backward pass and optimiser with."""
    depths, dims = (1, 1, 2, 1), (8, 12, 16, 20)
    m = build(depths, dims, seed=9)
    head = nn.Linear(dims[-1], 5)
    with torch.no_grad():
        head.weight.normal_(0, 0.3)
        head.bias.normal_(0, 0.1)
    m.train()
    g = torch.Generator().manual_seed(10)
    x = torch.rand(3, 3, 32, 32, generator=g)
    a = torch.rand(3, 1, generator=g)
    b = torch.rand(3, 1, generator=g) * (1 - a)
    s = torch.rand(3, 1, generator=g)
    f = torch.cat([a, b, 1 - a - b, a * s, a * (1 - s)], 1)
    weights = dict(m.state_dict())
    weights['head.fc.weight'] = head.weight.detach().clone()
    weights['head.fc.bias'] = head.bias.detach().clone()
    write_safetensors(os.path.join(out, 'convnext_train_weights.safetensors'), weights,
                      {'made_by': 'tools/make_fixtures.py'})
    params = list(m.parameters()) + list(head.parameters())
    names = [n for n, _ in m.named_parameters()] + ['head.fc.weight', 'head.fc.bias']
    io = {'x': x, 'f': f}
    loss = vote_loss(head(m(x)), f)
    loss.backward()
    io['loss0'] = loss.detach().reshape(1)
    for n, p in zip(names, params):
        io['grad.' + n] = p.grad.detach().clone()
    opt = torch.optim.AdamW(params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    for _ in range(3):
        opt.zero_grad()
        vote_loss(head(m(x)), f).backward()
        opt.step()
    with torch.no_grad():
        io['loss3'] = vote_loss(head(m(x)), f).reshape(1)
    write_safetensors(os.path.join(out, 'convnext_train_io.safetensors'), io,
                      {'made_by': 'tools/make_fixtures.py', 'torch': torch.__version__,
                       'adamw': 'lr 1e-2, betas 0.9 0.999, eps 1e-8, no weight decay, 3 steps'})


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    out = os.path.join(root, 'tests', 'data')
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    depths, dims = (1, 1, 2, 1), (16, 24, 32, 40)
    m = build(depths, dims, seed=5)
    write_safetensors(os.path.join(out, 'convnext_fixture.safetensors'), m.state_dict(),
                      {'made_by': 'tools/make_fixtures.py', 'depths': '1,1,2,1', 'dims': '16,24,32,40'})
    g = torch.Generator().manual_seed(6)
    io = {}
    with torch.no_grad():
        x32 = torch.rand(3, 3, 32, 32, generator=g)
        io['x32'], io['y32'] = x32, m(x32)
        x70 = torch.rand(1, 3, 70, 52, generator=g)      # sizes not divisible by 4 or 32: floors
        io['x70x52'], io['y70x52'] = x70, m(x70)
        # An RGB8 image embedded at half size: area resampling by 2 = 2x2 mean.
        img = (torch.rand(64, 64, 3, generator=g) * 256).clamp(0, 255).to(torch.uint8)
        xi = F.avg_pool2d(img.permute(2, 0, 1)[None].float() / 255.0, 2)
        io['img64'], io['yimg64_at32'] = img.numpy(), m(xi)
        # Intermediate: after the stem, for locating a mismatch.
        io['stem32'] = m.stem(x32[:1])
    write_safetensors(os.path.join(out, 'convnext_fixture_io.safetensors'), io,
                      {'made_by': 'tools/make_fixtures.py', 'torch': torch.__version__})
    training_fixture(out)
    for f in ('convnext_fixture.safetensors', 'convnext_fixture_io.safetensors',
              'convnext_train_weights.safetensors', 'convnext_train_io.safetensors'):
        print('wrote tests/data/%s (%d bytes)' % (f, os.path.getsize(os.path.join(out, f))))


if __name__ == '__main__':
    sys.exit(main())
