#!/usr/bin/env python3
"""pytorch_step.py: PyTorch's time for the training step bench_cuda times.

    python3 bench/pytorch_step.py [--model resnet20|resnet56] [--batch 128] [--act relu|rrelu]
                                  [--device cuda|cpu] [--steps 30] [--modes eager,compile]

The network is the CIFAR ResNet of rotor's models/resnet.cpp: a 3x3 stem
conv, BN and a plain ReLU; three stages of post-activation basic blocks
(conv-BN-act-conv-BN, add the shortcut, act) with 16/32/64 channels; the
option-A shortcut (subsample by the stride, zero channels padded
(c_out - c_in) / 2 before and the rest after); global average pooling and a
linear classifier. With --act rrelu both activations of every block are
RReLU as the paper's code builds it: a per-channel slope parameter
multiplying ReLU after BN (type-I slopes: sign +-1, magnitude from N(1, 3)
truncated to [tan 35deg, tan 55deg]). The step: cross-entropy, backward,
SGD with Nesterov momentum 0.9, lr 0.1, weight decay 5e-4 on every
parameter, zero_grad(set_to_none=True) (PyTorch's default), on one fixed
batch of random 3x32x32 images and labels (the time does not depend on the
values). Convolutions use PyTorch's default TF32 setting
(torch.backends.cudnn.allow_tf32, True unless changed); cudnn.benchmark
stays at its default (False) unless --cudnn-benchmark is given.

Each mode ('eager', 'compile' = torch.compile of the model) warms up, then
times --steps steps with CUDA events recorded after each step on the current
stream (time.perf_counter on the CPU) and prints one line in the format of
bench_cuda train_step, so that a script can divide the two:

    train_step impl=pytorch mode=eager model=resnet20 act=rrelu batch=128 ms=13.1000 min_ms=12.9000
    img_s=9771 steps=30 device=NVIDIA_H200 data=random            (one line)

ms is the median per step, min_ms the fastest. Exit status: 0; 1 when a
mode fails (the others still run) or the loss is not finite; 2 for a bad
argument; 77 when PyTorch or (for --device cuda) a CUDA GPU is missing.
"""
import argparse
import math
import re
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="resnet20", help="resnet<6n+2>: resnet20, resnet56, ... (default resnet20)")
    p.add_argument("--batch", type=int, default=128, help="images per step (default 128)")
    p.add_argument("--act", default="rrelu", choices=["relu", "rrelu"], help="block activation (default rrelu)")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="default cuda; cpu for a smoke test")
    p.add_argument("--steps", type=int, default=30, help="timed steps per mode (default 30)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps before timing (default 5; compile: +3)")
    p.add_argument("--modes", default="eager,compile", help="comma-separated: eager, compile (default both)")
    p.add_argument("--cudnn-benchmark", action="store_true", help="set torch.backends.cudnn.benchmark = True")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    m = re.fullmatch(r"resnet(\d+)", a.model)
    if not m or int(m.group(1)) < 8 or (int(m.group(1)) - 2) % 6 != 0:
        p.error(f"--model {a.model}: expected resnet<6n+2> with n >= 1 (resnet20, resnet56, ...)")
    a.blocks = (int(m.group(1)) - 2) // 6
    if a.batch < 2:
        p.error(f"--batch {a.batch}: a training step needs at least 2 images (batch norm)")
    if a.steps < 1:
        p.error(f"--steps {a.steps}: expected at least 1")
    if a.warmup < 0:
        p.error(f"--warmup {a.warmup}: expected 0 or more")
    a.modes = [s for s in a.modes.split(",") if s]
    bad = [s for s in a.modes if s not in ("eager", "compile")]
    if bad or not a.modes:
        p.error(f"--modes {','.join(a.modes)}: expected eager, compile or both")
    return a


def build(torch, args):
    nn, F = torch.nn, torch.nn.functional

    class RReLU(nn.Module):
        """y = b[c] * max(0, x): one trainable slope per channel."""

        def __init__(self, channels):
            super().__init__()
            self.slope = nn.Parameter(type1_slopes(torch, channels))

        def forward(self, x):
            return F.relu(x) * self.slope.view(1, -1, 1, 1)

    def act(channels):
        return RReLU(channels) if args.act == "rrelu" else nn.ReLU(inplace=True)

    class ShortcutA(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.stride, self.before = stride, (c_out - c_in) // 2
            self.after = c_out - c_in - self.before

        def forward(self, x):
            x = x[:, :, :: self.stride, :: self.stride]
            return F.pad(x, (0, 0, 0, 0, self.before, self.after))

    class BasicBlock(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.act1 = act(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.shortcut = ShortcutA(c_in, c_out, stride) if stride != 1 or c_in != c_out else nn.Identity()
            self.act2 = act(c_out)

        def forward(self, x):
            out = self.act1(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.act2(out + self.shortcut(x))

    class CifarResNet(nn.Module):
        def __init__(self, blocks, classes=10):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.stem_bn = nn.BatchNorm2d(16)
            layers, c_in = [], 16
            for stage, width in enumerate((16, 32, 64)):
                for b in range(blocks):
                    stride = 2 if stage > 0 and b == 0 else 1
                    layers.append(BasicBlock(c_in, width, stride))
                    c_in = width
            self.blocks = nn.Sequential(*layers)
            self.fc = nn.Linear(64, classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")

        def forward(self, x):
            x = F.relu(self.stem_bn(self.stem(x)))  # the stem keeps its plain ReLU
            x = self.blocks(x)
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    return CifarResNet(args.blocks)


def type1_slopes(torch, n):
    """Sign +-1 with equal odds; |b| from N(1, variance 3) truncated to [tan 35, tan 55]."""
    lo, hi = math.tan(math.radians(35)), math.tan(math.radians(55))
    out = torch.empty(0)
    while out.numel() < n:
        draw = 1 + math.sqrt(3) * torch.randn(4 * n)
        out = torch.cat([out, draw[(draw >= lo) & (draw <= hi)]])
    sign = 1 - 2 * (torch.rand(n) < 0.5).float()
    return sign * out[:n]


def time_mode(torch, args, mode, device):
    torch.manual_seed(args.seed)
    model = build(torch, args).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x = torch.randn(args.batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)
    net = torch.compile(model) if mode == "compile" else model
    loss_fn = torch.nn.functional.cross_entropy

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    cuda = device.type == "cuda"
    for _ in range(args.warmup + (3 if mode == "compile" else 0)):
        loss = step()
    if cuda:
        torch.cuda.synchronize()
        events = [torch.cuda.Event(enable_timing=True) for _ in range(args.steps + 1)]
        events[0].record()
        for i in range(args.steps):
            loss = step()
            events[i + 1].record()
        torch.cuda.synchronize()
        ms = [events[i].elapsed_time(events[i + 1]) for i in range(args.steps)]
    else:
        ms, t = [], time.perf_counter()
        for _ in range(args.steps):
            loss = step()
            now = time.perf_counter()
            ms.append(1e3 * (now - t))
            t = now
    last = float(loss.detach().cpu())
    if not math.isfinite(last):
        raise RuntimeError(f"the loss is {last} after {args.steps} timed steps")
    return sorted(ms)


def main(argv):
    args = parse_args(argv)
    try:
        import torch
    except ImportError as e:
        print(f"pytorch_step.py: PyTorch is not installed ({e}); nothing to time", file=sys.stderr)
        return 77
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"pytorch_step.py: torch {torch.__version__} sees no usable CUDA GPU "
              f"(torch.cuda.is_available() is False; built for CUDA {torch.version.cuda}); "
              "--device cpu runs a smoke test", file=sys.stderr)
        return 77
    device = torch.device(args.device)
    if args.cudnn_benchmark:
        torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"pytorch_step: torch {torch.__version__}, {name}, cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}, "
          f"matmul.allow_tf32={torch.backends.cuda.matmul.allow_tf32}, "
          f"cudnn.benchmark={torch.backends.cudnn.benchmark}", flush=True)
    status = 0
    for mode in args.modes:
        try:
            ms = time_mode(torch, args, mode, device)
        except Exception as e:  # one failing mode (often torch.compile) must not hide the others
            print(f"pytorch_step.py: mode {mode} failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            status = 1
            continue
        med = ms[len(ms) // 2]  # the upper median, as bench_cuda takes it
        print(f"train_step impl=pytorch mode={mode} model={args.model} act={args.act} batch={args.batch} "
              f"ms={med:.4f} min_ms={ms[0]:.4f} img_s={args.batch / (med * 1e-3):.0f} steps={len(ms)} "
              f"device={name.replace(' ', '_')} data=random", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
