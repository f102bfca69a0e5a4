#!/usr/bin/env python3
"""Checks every CUDA kernel of a built object or library against the
per-block limits of its architecture, from what cuobjdump reads out of the
cubins: registers x threads <= 65536 and static shared memory <= 48 KB.
The CUDA emulation checks launches (grid, block, shared memory) but cannot
see registers; this is the other half (docs/gpu.md, "Launch limits").

  check_resource_usage.py [--require-arch 75 ...] FILE...     FILE: .o/.a/binary
  check_resource_usage.py --from-dumps USAGE.txt ELF.txt       crafted or saved dumps

Threads per block are the kernel's __launch_bounds__ (EIATTR_MAX_THREADS in
the cubin); a kernel without one is taken at the project's 256 threads
(block_threads in kernels/cuda/cuda_common.cuh; the emulation refuses a
launch of more). Registers are allocated per warp in units of 256, as the
occupancy calculator does. Prints one line per (arch, kernel) and exits 1
when any kernel exceeds a limit, 77 (skipped) when there is no cuobjdump.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

REGISTERS_PER_BLOCK = 65536  # sm_75 and sm_90 alike
MAX_REGISTERS_PER_THREAD = 255
REGISTER_UNIT_PER_WARP = 256
STATIC_SHARED_MAX = 48 * 1024  # static __shared__ per block, every arch
OPT_IN_SHARED = {75: 64 * 1024, 90: 227 * 1024}  # dynamic, with cudaFuncSetAttribute (reported only)
DEFAULT_THREADS = 256


def find_cuobjdump():
    candidates = [os.environ.get("CUOBJDUMP", ""), shutil.which("cuobjdump") or "", "/usr/local/cuda/bin/cuobjdump"]
    # The pip wheel nvidia-cuda-cuobjdump, where the toolkit lacks it.
    for root in sys.path:
        for sub in ("nvidia/cu13/bin/cuobjdump", "nvidia/cuda_cuobjdump/bin/cuobjdump"):
            candidates.append(os.path.join(root, sub))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def parse_usage(text):
    """{(arch, mangled): {'REG': n, 'SHARED': n, 'LOCAL': n, ...}} from --dump-resource-usage."""
    out, arch, func = {}, None, None
    for line in text.splitlines():
        m = re.match(r"\s*arch = sm_(\d+)", line)
        if m:
            arch = int(m.group(1))
            continue
        m = re.match(r"\s*Function (\S+):\s*$", line)
        if m:
            func = m.group(1)
            continue
        if func and "REG:" in line:
            fields = dict((k, int(v)) for k, v in re.findall(r"([A-Z]+(?:\[\d+\])?):(\d+)", line))
            if arch is None:
                raise SystemExit("check_resource_usage: a Function before any 'arch = sm_NN' line")
            out[(arch, func)] = fields
            func = None
    return out


def parse_max_threads(text):
    """{(arch, mangled): threads} from -elf (EIATTR_MAX_THREADS of .nv.info.<kernel>)."""
    out, arch, func, attr = {}, None, None, None
    for line in text.splitlines():
        m = re.match(r"\s*arch = sm_(\d+)", line)
        if m:
            arch, func = int(m.group(1)), None
            continue
        m = re.match(r"\.nv\.info\.(\S+)", line)
        if m:
            func, attr = m.group(1), None
            continue
        if line.startswith(".") and not line.startswith(".nv.info."):
            func = None
            continue
        m = re.match(r"\s*Attribute:\s*(\S+)", line)
        if m:
            attr = m.group(1)
            continue
        if func and attr == "EIATTR_MAX_THREADS":
            m = re.match(r"\s*Value:\s*(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)", line)
            if m:
                x, y, z = (int(g, 16) for g in m.groups())
                out[(arch, func)] = x * y * z
                attr = None
    return out


def demangle(names):
    cxxfilt = shutil.which("c++filt")
    if not cxxfilt or not names:
        return {n: n for n in names}
    r = subprocess.run([cxxfilt], input="\n".join(names), capture_output=True, text=True)
    lines = r.stdout.splitlines()
    return dict(zip(names, lines)) if len(lines) == len(names) else {n: n for n in names}


def registers_per_block(regs, threads):
    per_warp = -(-regs * 32 // REGISTER_UNIT_PER_WARP) * REGISTER_UNIT_PER_WARP
    return per_warp * (-(-threads // 32))


def check(usage, max_threads, required_archs):
    problems = []
    if not usage:
        problems.append("no kernels found (not a CUDA build, or cuobjdump read nothing)")
    archs = sorted({a for a, _ in usage})
    for a in required_archs:
        if a not in archs:
            problems.append(f"no cubin for sm_{a} (built for {', '.join(f'sm_{x}' for x in archs) or 'none'})")
    names = demangle(sorted({f for _, f in usage}))
    print(f"{'arch':<6} {'regs':>4} {'threads':>7} {'regs/block':>10} {'smem':>6} {'local':>5}  kernel")
    for (arch, func), f in sorted(usage.items(), key=lambda kv: (kv[0][0], names[kv[0][1]])):
        regs, smem, local = f.get("REG", 0), f.get("SHARED", 0), f.get("LOCAL", 0)
        threads = max_threads.get((arch, func), DEFAULT_THREADS)
        bounded = (arch, func) in max_threads
        per_block = registers_per_block(regs, threads)
        bad = []
        if regs > MAX_REGISTERS_PER_THREAD:
            bad.append(f"{regs} registers per thread > {MAX_REGISTERS_PER_THREAD}")
        if per_block > REGISTERS_PER_BLOCK:
            bad.append(f"{per_block} registers per block of {threads} threads > {REGISTERS_PER_BLOCK}")
        if smem > STATIC_SHARED_MAX:
            bad.append(f"{smem} bytes of static shared memory > {STATIC_SHARED_MAX}")
        print(f"sm_{arch:<3} {regs:>4} {threads:>6}{'' if bounded else '*'} {per_block:>10} {smem:>6} {local:>5}  "
              f"{names[func]}{'  <-- ' + '; '.join(bad) if bad else ''}")
        problems += [f"sm_{arch} {names[func]}: {b}" for b in bad]
    print("(* no __launch_bounds__: taken at the project's 256 threads per block; "
          f"dynamic shared memory may reach {', '.join(f'{v // 1024} KB on sm_{k}' for k, v in OPT_IN_SHARED.items())} "
          "only with cudaFuncSetAttribute)")
    return problems


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+")
    p.add_argument("--from-dumps", action="store_true", help="FILES are USAGE.txt ELF.txt from cuobjdump")
    p.add_argument("--require-arch", type=int, action="append", default=[])
    a = p.parse_args()
    if a.from_dumps:
        if len(a.files) != 2:
            p.error("--from-dumps takes USAGE.txt ELF.txt")
        usage_text, elf_text = (open(f).read() for f in a.files)
    else:
        tool = find_cuobjdump()
        if not tool:
            print("check_resource_usage: skipped: no cuobjdump (the CUDA toolkit's cuda-cuobjdump package, "
                  "or pip's nvidia-cuda-cuobjdump; or set CUOBJDUMP)")
            return 77
        usage_text = elf_text = ""
        for f in a.files:
            if not os.path.isfile(f):
                print(f"check_resource_usage: {f}: no such file")
                return 2
            usage_text += subprocess.run([tool, "--dump-resource-usage", f], capture_output=True, text=True,
                                         check=True).stdout
            elf_text += subprocess.run([tool, "-elf", f], capture_output=True, text=True, check=True).stdout
    problems = check(parse_usage(usage_text), parse_max_threads(elf_text), a.require_arch)
    if problems:
        print(f"check_resource_usage: FAILED: {len(problems)} limit(s) exceeded:")
        for x in problems:
            print("  " + x)
        return 1
    print("check_resource_usage: every kernel within the sm_75/sm_90 per-block limits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
