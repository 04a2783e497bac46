#!/usr/bin/env python3
"""Flame graph (SVG) of a `perf record -g` profile, standard library only.

    perf record -g --call-graph dwarf -p PID -o perf.data -- sleep 20
    perf script -i perf.data | bench/flamegraph.py --title "..." > profile.svg

Reads `perf script` output on stdin, folds identical stacks (optionally only
those passing through --focus, a substring of a frame name, shown from that
frame up), and draws one box per frame, its width proportional to the
samples below it. `--folded FILE` also writes the folded stacks (one
`frame;frame;... count` line each), the usual input of other flame-graph tools.
"""

import argparse
import bisect
import collections
import html
import re
import subprocess
import sys

# Long Rust names: drop hashes and generic arguments to keep boxes readable.
HASH = re.compile(r"::h[0-9a-f]{16}$")


def short(name):
    name = HASH.sub("", name)
    depth, out = 0, []
    for ch in name:
        if ch == "<":
            depth += 1
            if depth == 1:
                out.append("<…>")
            continue
        if ch == ">" and depth:
            depth -= 1
            continue
        if depth == 0:
            out.append(ch)
    return "".join(out) or name


class Symbols:
    """Names for addresses perf printed as `[unknown]` in a binary (its
    `perf script` could not read the symbol table): looked up with `nm`."""

    def __init__(self, binary):
        self.binary = binary
        listing = subprocess.run(["nm", "-C", "--defined-only", binary], capture_output=True, text=True).stdout
        entries = []
        for line in listing.splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[1] in "tTwW":
                entries.append((int(parts[0], 16), parts[2]))
        entries.sort()
        self.addresses = [a for a, _ in entries]
        self.names = [n for _, n in entries]
        # perf prints offsets into the file; symbols are at virtual addresses.
        self.segments = []
        headers = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True).stdout
        for line in headers.splitlines():
            fields = line.split()
            if fields[:1] == ["LOAD"]:
                offset, vaddr, size = int(fields[1], 16), int(fields[2], 16), int(fields[4], 16)
                self.segments.append((offset, vaddr, size))

    def name(self, offset):
        address = offset
        for start, vaddr, size in self.segments:
            if start <= offset < start + size:
                address = offset - start + vaddr
                break
        i = bisect.bisect_right(self.addresses, address) - 1
        return self.names[i] if i >= 0 else "[unknown]"


def fold(lines, focus, symbols=None):
    stacks = collections.Counter()
    frames = []
    comm = None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                stack = [short(f) for f in reversed(frames)]
                if focus:
                    hits = [i for i, f in enumerate(stack) if focus in f]
                    stack = stack[hits[0]:] if hits else None
                if stack:
                    stacks[";".join(([comm] if comm and not focus else []) + stack)] += 1
            frames, comm = [], None
            continue
        if not line.startswith((" ", "\t")):
            comm = line.split()[0]
            continue
        parts = line.strip().split(None, 1)
        if len(parts) == 2:
            sym = re.sub(r"\+0x[0-9a-f]+$", "", parts[1].split(" (")[0])
            if sym == "[unknown]" and symbols and f"({symbols.binary})" in parts[1]:
                sym = symbols.name(int(parts[0], 16))
            frames.append(sym)
    return stacks


def build_tree(stacks):
    root = {"n": 0, "c": {}}
    for stack, count in stacks.items():
        node = root
        node["n"] += count
        for frame in stack.split(";"):
            node = node["c"].setdefault(frame, {"n": 0, "c": {}})
            node["n"] += count
    return root


def colour(name):
    h = sum(ord(c) for c in name)
    return f"rgb({205 + h % 50},{80 + h % 120},{40 + h % 50})"


def svg(root, title, width=1600, row=16):
    total = max(1, root["n"])
    boxes = []
    depth_max = [0]

    def walk(node, name, x, depth):
        w = width * node["n"] / total
        if w < 0.3:
            return
        depth_max[0] = max(depth_max[0], depth)
        boxes.append((x, depth, w, name, node["n"]))
        cx = x
        for child_name, child in sorted(node["c"].items()):
            walk(child, child_name, cx, depth + 1)
            cx += width * child["n"] / total

    walk(root, "all", 0.0, 0)
    height = (depth_max[0] + 3) * row
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="monospace" font-size="11">',
           f'<rect width="100%" height="100%" fill="#f8f8f0"/>',
           f'<text x="4" y="{row - 3}">{html.escape(title)} ({total} samples; hover a box for its name '
           f'and share)</text>']
    for x, depth, w, name, n in boxes:
        y = height - (depth + 1) * row
        label = f"{name} ({n} samples, {100 * n / total:.1f}%)"
        out.append(f'<g><title>{html.escape(label)}</title><rect x="{x:.1f}" y="{y}" width="{w:.1f}" '
                   f'height="{row - 1}" fill="{colour(name)}"/>')
        chars = int(w / 7)
        if chars >= 3:
            text = name if len(name) <= chars else name[:chars - 1] + "…"
            out.append(f'<text x="{x + 2:.1f}" y="{y + row - 4}">{html.escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--title", default="profile")
    parser.add_argument("--focus", help="keep only stacks through a frame containing this text")
    parser.add_argument("--folded", help="also write the folded stacks here")
    parser.add_argument("--top", type=int, default=0, help="print the N frames with most self samples")
    parser.add_argument("--binary", help="name this binary's [unknown] frames from its symbol table (nm)")
    args = parser.parse_args()
    stacks = fold(sys.stdin, args.focus, Symbols(args.binary) if args.binary else None)
    if args.folded:
        with open(args.folded, "w") as f:
            for stack, count in sorted(stacks.items()):
                f.write(f"{stack} {count}\n")
    if args.top:
        self_counts, incl = collections.Counter(), collections.Counter()
        for stack, count in stacks.items():
            frames = stack.split(";")
            self_counts[frames[-1]] += count
            for f in set(frames):
                incl[f] += count
        total = sum(stacks.values())
        print(f"{total} samples; self / inclusive:", file=sys.stderr)
        for f, n in self_counts.most_common(args.top):
            print(f"  {100 * n / total:5.1f}% {100 * incl[f] / total:5.1f}%  {f}", file=sys.stderr)
    sys.stdout.write(svg(build_tree(stacks), args.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
