#!/usr/bin/env python3
"""PyTorch reference for `auraprune bench speed --base resnet20:... --model resnet20:...`: two CIFAR
ResNets (3x3 stem, three stages of n basic blocks, 1x1 projection where the shape changes, global
average pooling, linear head) with the given channels per stage, batch norm folded (convs with bias),
inference in eval mode without gradients, measured alternately (a, b, a, b, ...) in one process:
median images/s over `rounds` rounds of `passes` batches. Layouts: nchw (contiguous), channels_last,
mkldnn (torch.utils.mkldnn: weights reordered once, activations blocked up to the pooling).
Widths: "S1,S2,S3/I1,I2,I3" (residual stream / block-internal channels per stage).
Usage: python3 bench/resnet_speed_torch.py --depth 20 --base 16,32,64/16,32,64 --model 11,23,46/11,23,46
"""
import argparse, json, statistics, time
import torch
import torch.nn as nn


def widths(spec):
    stream, internal = spec.split('/')
    return [int(c) for c in stream.split(',')], [int(c) for c in internal.split(',')]


class Block(nn.Module):
    def __init__(self, cin, mid, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, mid, 3, stride, 1)
        self.c2 = nn.Conv2d(mid, cout, 3, 1, 1)
        self.proj = nn.Conv2d(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.c2(torch.relu(self.c1(x)))
        return torch.relu(y + (self.proj(x) if self.proj is not None else x))


def resnet(depth, spec):
    stream, internal = widths(spec)
    n = (depth - 2) // 6
    layers, cin = [nn.Conv2d(3, stream[0], 3, 1, 1), nn.ReLU()], stream[0]
    for s in range(3):
        for b in range(n):
            layers.append(Block(cin, internal[s], stream[s], 2 if s > 0 and b == 0 else 1))
            cin = stream[s]
    return nn.Sequential(*layers).eval(), nn.Linear(cin, 10).eval()


def runner(depth, spec, layout, batch):
    torch.manual_seed(0)
    feats, head = resnet(depth, spec)
    x = torch.randn(batch, 3, 32, 32)
    if layout == 'mkldnn':
        from torch.utils import mkldnn
        feats = mkldnn.to_mkldnn(feats)
        return lambda: head(feats(x.to_mkldnn()).to_dense().mean((2, 3)))
    if layout == 'channels_last':
        feats = feats.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    return lambda: head(feats(x).mean((2, 3)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--depth', type=int, default=20)
    p.add_argument('--base', required=True)
    p.add_argument('--model', required=True)
    p.add_argument('--layout', default='nchw', choices=['nchw', 'channels_last', 'mkldnn'])
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--passes', type=int, default=3)
    p.add_argument('--threads', type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    with torch.no_grad():
        run = {k: runner(a.depth, spec, a.layout, a.batch) for k, spec in (('a', a.base), ('b', a.model))}
        for f in run.values():
            f()  # warm-up: primitive creation, allocator growth
        rate = {'a': [], 'b': []}
        for _ in range(a.rounds):
            for k in ('a', 'b'):
                t0 = time.perf_counter()
                for _ in range(a.passes):
                    run[k]()
                rate[k].append(a.passes * a.batch / (time.perf_counter() - t0))
    ra, rb = statistics.median(rate['a']), statistics.median(rate['b'])
    print(json.dumps({'layout': a.layout, 'torch': torch.__version__, 'threads': a.threads, 'baseImgPerS': ra,
                      'modelImgPerS': rb, 'speedup': rb / ra}))


if __name__ == '__main__':
    main()
