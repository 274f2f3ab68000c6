#!/usr/bin/env python3
"""PyTorch reference for `auraprune bench engine`: the same CIFAR VGG-16-BN (13 conv3x3+BN+ReLU,
5 max-pools, linear 512-512-10 with BN), batch, thread count and optimiser (SGD momentum 0.9), in
NCHW contiguous or channels_last memory format. Prints one JSON line: training and inference images
per second, inference with batch norm folded into the convs, and batch-1 latency (median of 20) of
both. --layout mkldnn: inference only, with torch.utils.mkldnn's modules (weights reordered once,
activations in oneDNN's blocked layout up to the classifier); no training figure.
Usage: python3 bench/pytorch_vgg.py --batch 128 --steps 5 --threads 2 --layout channels_last"""
import argparse, json, statistics, time
import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

CFG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']

def vgg16(width=1.0):
    layers, c = [], 3
    for v in CFG:
        if v == 'M':
            layers.append(nn.MaxPool2d(2, 2))
        else:
            o = max(1, round(v * width))
            layers += [nn.Conv2d(c, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]
            c = o
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c, c), nn.BatchNorm1d(c), nn.ReLU(inplace=True), nn.Linear(c, 10))

def folded(model):
    """Eval-mode copy with every Conv2d + BatchNorm2d pair fused into one conv."""
    mods, out = list(model), []
    i = 0
    while i < len(mods):
        if isinstance(mods[i], nn.Conv2d) and i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm2d):
            out.append(fuse_conv_bn_eval(mods[i].eval(), mods[i + 1].eval()))
            i += 2
        else:
            out.append(mods[i])
            i += 1
    return nn.Sequential(*out).eval()

def blocked(model):
    """torch.utils.mkldnn's version of an eval-mode model: the conv stack takes and returns blocked
    tensors, the classifier runs dense (as MkldnnLinear would need a blocked 2-D input)."""
    from torch.utils import mkldnn
    mods = list(model)
    cut = next(i for i, m in enumerate(mods) if isinstance(m, nn.Flatten))
    feats = mkldnn.to_mkldnn(nn.Sequential(*mods[:cut]))
    head = nn.Sequential(*mods[cut:])
    return lambda x: head(feats(x.to_mkldnn()).to_dense())

def training(batch, width, fmt):
    """The model in `fmt`, a fixed batch and one SGD step on it (shared with pytorch_vgg_profile.py)."""
    torch.manual_seed(0)
    model = vgg16(width).to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, 32, 32).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return model, x, step

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--width', type=float, default=1.0)
    p.add_argument('--layout', choices=['nchw', 'channels_last', 'mkldnn'], default='nchw')
    p.add_argument('--latency-reps', type=int, default=20)
    p.add_argument('--skip-train', type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    fmt = torch.channels_last if a.layout == 'channels_last' else torch.contiguous_format
    model, x, step = training(a.batch, a.width, fmt)
    x1 = torch.randn(1, 3, 32, 32).contiguous(memory_format=fmt)

    train = None
    if a.layout != 'mkldnn' and not a.skip_train:
        model.train(); step()
        t0 = time.perf_counter()
        for _ in range(a.steps): step()
        train = a.batch * a.steps / (time.perf_counter() - t0)

    def rate(m):
        with torch.no_grad():
            m(x)
            t0 = time.perf_counter()
            for _ in range(a.steps): m(x)
            return a.batch * a.steps / (time.perf_counter() - t0)

    def latency(m):
        with torch.no_grad():
            m(x1)
            ts = []
            for _ in range(a.latency_reps):
                t0 = time.perf_counter(); m(x1); ts.append((time.perf_counter() - t0) * 1000)
            return statistics.median(ts)

    model.eval()
    fm = folded(model).to(memory_format=fmt)
    if a.layout == 'mkldnn':
        model, fm = blocked(model), blocked(fm)
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': a.batch, 'layout': a.layout,
                      'train_img_s': train, 'infer_img_s': rate(model), 'infer_folded_img_s': rate(fm),
                      'latency_ms': latency(model), 'latency_folded_ms': latency(fm)}))

if __name__ == '__main__':
    main()
