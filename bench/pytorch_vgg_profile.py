#!/usr/bin/env python3
"""Per-operator time of one VGG-16-BN training step and one inference batch in PyTorch (its
profiler, self CPU time), for comparison with `auraprune bench engine`'s per-kernel profile of ours.
Prints one JSON line: the top operators of each, in ms.
Usage: /usr/bin/python3 bench/pytorch_vgg_profile.py --batch 128 --threads 2 --layout nchw"""
import argparse, json
import torch
from torch.profiler import profile, ProfilerActivity
from pytorch_vgg import training

def top(prof, n=12):
    rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)[:n]
    total = sum(e.self_cpu_time_total for e in prof.key_averages())
    return [{'op': e.key, 'ms': round(e.self_cpu_time_total / 1000, 1), 'calls': e.count,
             'share': round(e.self_cpu_time_total / total, 3)} for e in rows]

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--layout', choices=['nchw', 'channels_last'], default='nchw')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    fmt = torch.channels_last if a.layout == 'channels_last' else torch.contiguous_format
    model, x, step = training(a.batch, 1.0, fmt)

    model.train(); step()
    with profile(activities=[ProfilerActivity.CPU]) as train_prof:
        step()
    model.eval()
    with torch.no_grad():
        model(x)
        with profile(activities=[ProfilerActivity.CPU]) as infer_prof:
            model(x)
    print(json.dumps({'layout': a.layout, 'batch': a.batch, 'threads': torch.get_num_threads(),
                      'train_step_ms': round(sum(e.self_cpu_time_total for e in train_prof.key_averages()) / 1000, 1),
                      'train_top': top(train_prof),
                      'infer_ms': round(sum(e.self_cpu_time_total for e in infer_prof.key_averages()) / 1000, 1),
                      'infer_top': top(infer_prof)}))

if __name__ == '__main__':
    main()
