#!/usr/bin/env python3
"""PyTorch reference for `auraprune bench train`: the airbench preset's network and one training step
of its recipe, written independently in plain PyTorch (Debian python3-torch, NCHW, same threads):
fixed 2x2 whitening conv, three (conv, max-pool, BN, GELU, conv, BN, GELU) blocks 64/256/256, 3x3
max-pool, linear head with logit scale 1/9; SGD Nesterov 0.85 with BN biases at 64x lr, BN scales
frozen, label smoothing 0.2, lookahead every 5 steps; alternating flip + 2-pixel reflect translate on
the batch. Prints one JSON line with training images per second over --steps timed steps (after one
warm-up step), the data augmentation included.
Usage: python3 bench/airbench_torch.py --batch 1024 --steps 5 --threads 2 [--width 1] [--act gelu|relu]"""
import argparse, json, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class BN(nn.BatchNorm2d):
    def __init__(self, c):
        super().__init__(c, eps=1e-12, momentum=0.4)
        self.weight.requires_grad = False


def block(cin, cout, act):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.MaxPool2d(2), BN(cout), act(),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), BN(cout), act()]


def net(width, act):
    w = [max(1, round(c * width)) for c in (64, 256, 256)]
    a = nn.GELU if act == 'gelu' else nn.ReLU
    layers = [nn.Conv2d(3, 24, 2, bias=True), a()]
    cin = 24
    for c in w:
        layers += block(cin, c, a)
        cin = c
    layers += [nn.MaxPool2d(3), nn.Flatten(), nn.Linear(cin, 10, bias=False)]
    m = nn.Sequential(*layers)
    m[0].weight.requires_grad = False
    return m


def augment(x, epoch):
    # reflect-pad by 2 and crop at a random offset per image, then flip all on odd epochs
    n = x.shape[0]
    p = F.pad(x, (2, 2, 2, 2), mode='reflect')
    dy = torch.randint(0, 5, (n,))
    dx = torch.randint(0, 5, (n,))
    out = torch.empty_like(x)
    for oy in range(5):
        for ox in range(5):
            sel = ((dy == oy) & (dx == ox)).nonzero().flatten()
            if len(sel):
                out[sel] = p[sel, :, oy:oy + 32, ox:ox + 32]
    return out.flip(-1) if epoch % 2 else out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', type=int, default=1024)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--width', type=float, default=1.0)
    ap.add_argument('--act', default='gelu')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = net(a.width, a.act)
    bn_b = [p for n, p in model.named_parameters() if p.requires_grad and n.endswith('bias') and isinstance(dict(model.named_modules())[n.rsplit('.', 1)[0]], BN)]
    other = [p for p in model.parameters() if p.requires_grad and all(p is not q for q in bn_b)]
    lr, wd = 11.5 / (1024 * (1 + 1 / 0.15)), 0.0153 * a.batch / (1024 * (1 + 1 / 0.15))
    opt = torch.optim.SGD([dict(params=bn_b, lr=lr * 64, weight_decay=wd / (lr * 64)), dict(params=other, lr=lr, weight_decay=wd / lr)], momentum=0.85, nesterov=True)
    ema = [p.detach().clone() for p in model.state_dict().values()]
    x0 = torch.randn(a.batch, 3, 32, 32)
    y = torch.randint(0, 10, (a.batch,))

    def step(i):
        x = augment(x0, i)
        out = model(x) / 9
        loss = F.cross_entropy(out, y, label_smoothing=0.2, reduction='sum')
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (i + 1) % 5 == 0:
            with torch.no_grad():
                for e, p in zip(ema, model.state_dict().values()):
                    if p.dtype == torch.float32:
                        e.lerp_(p, 0.5)
                        p.copy_(e)
        return loss.item()

    model.train()
    step(0)
    t0 = time.perf_counter()
    for i in range(1, a.steps + 1):
        step(i)
    dt = time.perf_counter() - t0
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': a.batch, 'steps': a.steps, 'width': a.width,
                      'act': a.act, 'train_img_s': a.batch * a.steps / dt}))


if __name__ == '__main__':
    main()
