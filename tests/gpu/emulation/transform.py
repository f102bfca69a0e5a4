# Turns every `kernel<...><<<grid, block, smem, stream>>>(args);` of a .cu
# file into `::emu::launch(dim3(grid), dim3(block), smem, "kernel<...>",
# [=] { kernel<...>(args); })` so that g++ can compile it with cuda_emu.h,
# which checks the launch configuration against the GPUs' limits; and
# follows every `__shared__ ... name[...];` declaration with
# `::emu::note_shared(&name, sizeof(name));` so that the launch also knows
# the kernel's static shared memory. Usage: transform.py FILE > OUT
# The lambda copies what the arguments are made of ([=]): a launch recorded
# by a stream capture (emu_capture.h) replays with the values it was
# launched with, as a CUDA graph does, not with whatever they became later.
import re, sys
src = open(sys.argv[1]).read()
# Static shared declarations (not `extern __shared__`: that is the dynamic
# part, sized by the launch).
src = re.sub(r'(?<!extern )(__shared__\s[^;(){}]*?\b([A-Za-z_]\w*)\s*(?:\[[^;\]]*\]\s*)*;)',
             r'\1 ::emu::note_shared(&\2, sizeof(\2));', src)
out = []
i = 0
while True:
    j = src.find('<<<', i)
    if j < 0:
        out.append(src[i:]); break
    # kernel name: walk back over an identifier with optional template args
    k = j
    if src[k-1] == '>':
        depth = 0
        while True:
            k -= 1
            if src[k] == '>': depth += 1
            elif src[k] == '<':
                depth -= 1
                if depth == 0: break
    while k > 0 and (src[k-1].isalnum() or src[k-1] in '_:'):
        k -= 1
    name = src[k:j]
    e = src.find('>>>', j)
    cfg = src[j+3:e]
    # split cfg at top-level commas
    parts, depth, cur = [], 0, ''
    for ch in cfg:
        if ch in '([{<': depth += 1
        if ch in ')]}>': depth -= 1
        if ch == ',' and depth == 0:
            parts.append(cur); cur = ''
        else:
            cur += ch
    parts.append(cur)
    assert src[e+3] == '(', (name, src[e:e+10])
    depth, m = 0, e + 3
    while True:
        if src[m] == '(': depth += 1
        elif src[m] == ')':
            depth -= 1
            if depth == 0: break
        m += 1
    args = src[e+4:m]
    out.append(src[i:k])
    smem = parts[2].strip() if len(parts) > 2 else '0'
    out.append('::emu::launch(dim3(%s), dim3(%s), %s, "%s", [=] { %s(%s); })' % (parts[0].strip(), parts[1].strip(), smem, name, name, args))
    i = m + 1
sys.stdout.write(''.join(out))
