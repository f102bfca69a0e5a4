#!/usr/bin/env python3
"""Table and figure of bench/sparsity-compare.sh: reads OUT/sweep.csv, writes
OUT/summary.csv (per method: the accuracy at FLOPs-kept budgets, mean and
spread over seeds, and the unpruned accuracy) and OUT/sparsity.svg (accuracy
vs FLOPs kept, one line per method and seed), plus sparsity.png when
rsvg-convert is installed. The accuracy is the one rotor prune measured at
that gamma on the half of the test set it chooses gamma on. Plain Python: no plotting library needed."""
import collections
import csv
import os
import shutil
import subprocess
import sys

out = sys.argv[1]
title = sys.argv[2] if len(sys.argv) > 2 else "FCNN-500, Fashion-MNIST"
rows = list(csv.DictReader(open(f"{out}/sweep.csv")))
curves = collections.defaultdict(list)  # (method, seed) -> [(flops, acc)]
for r in rows:
    curves[(r["method"], r["seed"])].append((float(r["flops_kept"]), float(r["acc_pruned"])))
for k in curves:
    curves[k].sort()
methods = sorted({m for m, _ in curves}, key=["implicit", "slope-l1", "slimming"].index)


def best_at(curve, budget):
    """Best accuracy among the sweep's networks with FLOPs kept <= budget."""
    accs = [a for f, a in curve if f <= budget + 1e-9]
    return max(accs) if accs else float("nan")


# FLOPs budgets of the summary's columns; BUDGETS="1 0.9 0.8" picks others
# (a short ResNet schedule loses its accuracy long before 50%).
budgets = [float(b) for b in os.environ.get("BUDGETS", "1.0 0.5 0.3 0.2 0.1 0.05").split()]
with open(f"{out}/summary.csv", "w") as f:
    f.write("method,seeds,unpruned_acc," + ",".join(f"best_acc_at_flops<={b}" for b in budgets) + "\n")
    for m in methods:
        seeds = sorted(s for mm, s in curves if mm == m)
        cells = []
        for b in [None] + budgets:
            vals = [curves[(m, s)][-1][1] if b is None else best_at(curves[(m, s)], b) for s in seeds]
            lo, hi = min(vals), max(vals)
            cells.append(f"{100 * sum(vals) / len(vals):.2f} ({100 * lo:.2f}-{100 * hi:.2f})")
        f.write(f"{m},{' '.join(seeds)}," + ",".join(cells) + "\n")

# The figure: x = FLOPs kept (log scale, 1% .. 100%), y = test accuracy.
W, H, L, R, T, B = 720, 460, 70, 170, 30, 60
import math

xmin, xmax = math.log10(0.005), 0.0
accs = [a for c in curves.values() for _, a in c]
ymin = max(0.0, math.floor(min(accs) * 20) / 20)
ymax = min(1.0, math.ceil(max(accs) * 50) / 50)


def px(f):
    return L + (math.log10(max(f, 0.005)) - xmin) / (xmax - xmin) * (W - L - R)


def py(a):
    return H - B - (a - ymin) / (ymax - ymin) * (H - T - B)


colours = {"implicit": "#1f77b4", "slope-l1": "#d62728", "slimming": "#2ca02c"}
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>']
for f in [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]:
    x = px(f)
    svg.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#ddd"/>')
    svg.append(f'<text x="{x:.1f}" y="{H - B + 16}" text-anchor="middle">{100 * f:g}%</text>')
steps = 10
for i in range(steps + 1):
    a = ymin + (ymax - ymin) * i / steps
    y = py(a)
    svg.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{100 * a:.1f}%</text>')
svg.append(f'<text x="{(L + W - R) / 2}" y="{H - 15}" text-anchor="middle">FLOPs kept (log scale)</text>')
svg.append(f'<text x="18" y="{(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 18 {(T + H - B) / 2})">'
           'accuracy at gamma, choosing half of the test set (masked = pruned)</text>')
svg.append(f'<text x="{L}" y="18">{title}: accuracy vs FLOPs kept over the gamma sweep</text>')
dashes = ["", "6,3", "2,2"]
for (m, s), c in sorted(curves.items()):
    pts = " ".join(f"{px(f):.1f},{py(a):.1f}" for f, a in c)
    dash = dashes[sorted(ss for mm, ss in curves if mm == m).index(s) % 3]
    svg.append(f'<polyline points="{pts}" fill="none" stroke="{colours[m]}" stroke-width="2" '
               f'stroke-dasharray="{dash}"/>')
    for f, a in c:
        svg.append(f'<circle cx="{px(f):.1f}" cy="{py(a):.1f}" r="2.5" fill="{colours[m]}"/>')
for i, m in enumerate(methods):
    y = T + 20 + 22 * i
    svg.append(f'<line x1="{W - R + 15}" y1="{y}" x2="{W - R + 45}" y2="{y}" stroke="{colours[m]}" stroke-width="2"/>')
    svg.append(f'<text x="{W - R + 52}" y="{y + 4}">{m}</text>')
all_seeds = sorted({s for _, s in curves})
for i, (s, dash) in enumerate(zip(all_seeds, dashes)):
    y = T + 30 + 22 * (len(methods) + i)
    svg.append(f'<line x1="{W - R + 15}" y1="{y}" x2="{W - R + 45}" y2="{y}" stroke="black" stroke-dasharray="{dash}"/>')
    svg.append(f'<text x="{W - R + 52}" y="{y + 4}">seed {s}</text>')
svg.append("</svg>")
open(f"{out}/sparsity.svg", "w").write("\n".join(svg) + "\n")
if shutil.which("rsvg-convert"):
    subprocess.run(["rsvg-convert", "-o", f"{out}/sparsity.png", f"{out}/sparsity.svg"], check=True)
print(open(f"{out}/summary.csv").read())
