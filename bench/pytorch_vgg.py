#!/usr/bin/env python3
"""PyTorch reference for `auraprune bench engine`: the same CIFAR VGG-16-BN (13 conv3x3+BN+ReLU,
5 max-pools, linear 512-512-10 with BN), batch, thread count and optimiser (SGD momentum 0.9),
NCHW contiguous. Prints one JSON line: train and inference images per second.
Usage: python3 bench/pytorch_vgg.py --batch 128 --steps 5 --threads 2"""
import argparse, json, time
import torch
import torch.nn as nn

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

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--width', type=float, default=1.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = vgg16(a.width)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(a.batch, 3, 32, 32)
    y = torch.randint(0, 10, (a.batch,))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    model.train(); step()
    t0 = time.perf_counter()
    for _ in range(a.steps): step()
    train = a.batch * a.steps / (time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        model(x)
        t0 = time.perf_counter()
        for _ in range(a.steps): model(x)
        infer = a.batch * a.steps / (time.perf_counter() - t0)
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': a.batch,
                      'train_img_s': train, 'infer_img_s': infer}))

if __name__ == '__main__':
    main()
