#!/usr/bin/env python3
"""Random programs made of the functions mp compiles to bytecode (locals,
constants, globals, arithmetic, comparisons, and/or/not, if, while, break,
continue, return, calls of global functions; docs/reference.md, "How code
runs"), each run twice: as usual and with MP_BYTECODE=0 (closures only).
Both runs must print the same lines, the same error (text, place and mp
call stack) and exit the same way. Values mix ints, floats, strings, bools
and nil, so type errors, overflow and division by zero are exercised too.
A differing program is kept with both outputs.

Usage: bytecode_diff.py [--seconds S | --programs N] [--seed N] [--mp PATH] [--keep DIR]
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

CONSTANTS = ["0", "1", "2", "-3", "7", "2.5", "-0.5", '"a"', '"bc"', "true", "false", "nil",
             "4611686018427387904", "100"]
# Mostly ints, so that most programs get past their first type error.
INTS = ["0", "1", "2", "3", "-3", "5", "7", "10"]
ARITH = ["+", "-", "*", "/", "//", "%"]
COMPARE = ["<", "<=", ">", ">=", "==", "!="]


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.functions = []  # (name, arity)

    def expr(self, names, depth=0):
        r = self.rng
        if depth > 2 or r.random() < 0.35:
            if names and r.random() < 0.6:
                return r.choice(names)
            return r.choice(INTS if r.random() < 0.8 else CONSTANTS)
        k = r.random()
        if k < 0.45:
            return f"({self.expr(names, depth + 1)} {r.choice(ARITH)} {self.expr(names, depth + 1)})"
        if k < 0.6:
            return f"({self.expr(names, depth + 1)} {r.choice(COMPARE)} {self.expr(names, depth + 1)})"
        if k < 0.7:
            return f"({self.expr(names, depth + 1)} {r.choice(['and', 'or'])} {self.expr(names, depth + 1)})"
        if k < 0.75:
            return f"(not {self.expr(names, depth + 1)})"
        if k < 0.8:
            return f"(-{self.expr(names, depth + 1)})"
        if k < 0.85:
            return f"({r.choice(names) if names else 'n'} - {r.randint(1, 2)})"
        if self.functions:
            name, arity = r.choice(self.functions)
            args = ", ".join(self.expr(names, depth + 1) for _ in range(arity))
            return f"{name}({args})"
        return r.choice(CONSTANTS)

    def cond(self, names):
        r = self.rng
        if r.random() < 0.6 and names:
            return f"{r.choice(names)} {r.choice(COMPARE)} {r.choice(['0', '1', '2', '5', '-1'])}"
        return self.expr(names, 1)

    def block(self, names, depth, in_loop, lines, indent):
        r = self.rng
        pad = "  " * indent
        for _ in range(r.randint(1, 4)):
            k = r.random()
            if k < 0.25:
                v = f"v{len(names)}"
                lines.append(f"{pad}let {v} = {self.expr(names)}")
                names = names + [v]
            elif k < 0.45 and names:
                lines.append(f"{pad}{r.choice(names)} {r.choice(['=', '+=', '-=', '*='])} {self.expr(names)}")
            elif k < 0.6 and depth < 2:
                lines.append(f"{pad}if {self.cond(names)} {{")
                self.block(names, depth + 1, in_loop, lines, indent + 1)
                if r.random() < 0.4:
                    lines.append(f"{pad}}} else if {self.cond(names)} {{")
                    self.block(names, depth + 1, in_loop, lines, indent + 1)
                if r.random() < 0.5:
                    lines.append(f"{pad}}} else {{")
                    self.block(names, depth + 1, in_loop, lines, indent + 1)
                lines.append(f"{pad}}}")
            elif k < 0.7 and depth < 2:
                c = f"c{len(lines)}"
                lines.append(f"{pad}let {c} = 0")
                lines.append(f"{pad}while {c} < {r.randint(0, 3)} {{")
                lines.append(f"{pad}  {c} += 1")
                self.block(names + [c], depth + 1, True, lines, indent + 1)
                lines.append(f"{pad}}}")
            elif k < 0.75 and in_loop:
                lines.append(f"{pad}if {self.cond(names)} {{ {r.choice(['break', 'continue'])} }}")
            elif k < 0.85:
                lines.append(f"{pad}if {self.cond(names)} {{ return {self.expr(names)} }}")
            else:
                lines.append(f"{pad}{self.expr(names)}")

    def function(self, index):
        r = self.rng
        arity = r.randint(0, 3)
        params = [f"p{i}" for i in range(arity)]
        name = f"f{index}"
        lines = [f"fn {name}({', '.join(params)}) {{"]
        # A bounded recursion on the first parameter, when there is one.
        if params and r.random() < 0.4:
            lines.append(f"  if p0 < 1 {{ return {self.expr(params)} }}")
            lines.append(f"  let rec = {name}({', '.join(['p0 - 1'] + params[1:])})")
            params = params + ["rec"]
        self.block(params, 0, False, lines, 1)
        lines.append(f"  return {self.expr(params)}")
        lines.append("}")
        self.functions.append((name, arity))
        return lines

    def program(self):
        r = self.rng
        out = []
        for i in range(r.randint(1, 4)):
            out += self.function(i)
        for _ in range(r.randint(2, 6)):
            name, arity = r.choice(self.functions)
            args = ", ".join(r.choice(CONSTANTS[:8]) for _ in range(arity))
            out.append(f"try {{ print({name}({args})) }} catch e {{ print(\"caught\", e) }}")
        name, arity = r.choice(self.functions)
        out.append(f"print({name}({', '.join(r.choice(CONSTANTS[:6]) for _ in range(arity))}))")
        return "\n".join(out) + "\n"


def run(mp, path, bytecode):
    env = dict(os.environ)
    env["MP_BYTECODE"] = "1" if bytecode else "0"
    try:
        p = subprocess.run([mp, path], capture_output=True, text=True, timeout=5, env=env)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", "", ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--programs", type=int, default=0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--mp", default=None)
    ap.add_argument("--keep", default=os.path.join(tempfile.gettempdir(), "mp-bytecode-diff"))
    a = ap.parse_args()
    mp = a.mp or os.environ.get("MP_BINARY") or os.path.join(ROOT, ".build/debug/mp")
    if not os.access(mp, os.X_OK):
        sys.exit("bytecode_diff: no mp binary (build it, or pass --mp)")
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    limit = a.programs or (0 if a.seconds else 200)
    print(f"bytecode_diff: first seed {seed}, {mp}")
    start = time.time()
    n = failed = slow = 0
    with tempfile.TemporaryDirectory() as tmp:
        while (limit and n < limit) or (not limit and time.time() - start < a.seconds):
            src = Gen(random.Random(seed + n)).program()
            path = os.path.join(tmp, f"p{seed + n}.mp")
            with open(path, "w") as f:
                f.write(src)
            fast, closures = run(mp, path, True), run(mp, path, False)
            if "timeout" in (fast[0], closures[0]):
                # Calls in loops of calls can take exponential time: not compared.
                slow += 1
            elif fast != closures:
                failed += 1
                os.makedirs(a.keep, exist_ok=True)
                keep = os.path.join(a.keep, f"p{seed + n}")
                with open(keep + ".mp", "w") as f:
                    f.write(src)
                with open(keep + ".out", "w") as f:
                    f.write(f"bytecode: {fast!r}\nclosures: {closures!r}\n")
                print(f"bytecode_diff: seed {seed + n} differs; kept in {keep}.mp/.out")
            n += 1
    print(f"bytecode_diff: {n} programs, {failed} differed, {slow} over 5 s (not compared), {time.time() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
