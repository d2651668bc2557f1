"""Run the fuzz targets: ``python -m tests.fuzz.run [TARGET ...] [--seconds N]``.

With atheris installed (``pip install atheris``; Linux x86_64 wheels), each target runs
under libFuzzer in its own process, coverage-guided, starting from the seeds in
`tests.fuzz.seeds`, with a per-input timeout and a memory limit; a crash, hang or
out-of-memory stops it and leaves the input in ``--artifacts``. Without atheris, a
seeded random mutator (bit flips, truncations, splices, repeated and inserted tokens)
drives the same targets under the same limits. Exit status 0 means nothing broke.

    python -m tests.fuzz.run --seconds 600              # a long run of every target
    python -m tests.fuzz.run iter_images --seconds 3600  # one target, an hour
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from tests.fuzz.seeds import seeds
from tests.fuzz.targets import TARGETS

PER_INPUT_SECONDS = 10
MEMORY_MB = 3072
_TOKENS = [
    b'"type": "image_generation_call"',
    b'"result": ',
    b'"inlineData": {"mimeType": "image/png", "data": ',
    b"data: ",
    b"\n\n",
    b"\\ud83d",
    b"9" * 5000,
    b"[" * 300,
    b"\x00",
    b"\xff\xfe",
    b"IHDR",
    b"IDAT",
    b"acTL",
    b"NETSCAPE2.0",
    b"ANMF",
    b'"candidates": [',
    b"data:image/png;base64,",
]


def main(argv: list[str] | None = None) -> int:
    """Fuzz the chosen targets for ``--seconds`` each; 0 if nothing broke."""
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__)
    parser.add_argument("targets", nargs="*", help=f"default: all ({', '.join(TARGETS)})")
    parser.add_argument("--seconds", type=float, default=60.0, help="time per target")
    parser.add_argument("--engine", choices=("auto", "atheris", "mutate"), default="auto")
    parser.add_argument("--artifacts", type=Path, default=Path("fuzz-artifacts"))
    parser.add_argument("--seed", type=int, default=0, help="random seed (mutate engine)")
    args = parser.parse_args(argv)
    names = args.targets or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}")
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if importlib.util.find_spec("atheris") else "mutate"
    args.artifacts.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names:
        start = time.monotonic()
        if engine == "atheris":
            ok = _atheris(name, args.seconds, args.artifacts)
        else:
            ok = _mutate(name, args.seconds, args.artifacts, args.seed)
        took = time.monotonic() - start
        print(f"{name}: {'ok' if ok else 'FAILED'} ({engine}, {took:.0f} s)", flush=True)
        if not ok:
            failed.append(name)
    if failed:
        print(f"broken targets: {', '.join(failed)}; inputs in {args.artifacts}/", flush=True)
    return 1 if failed else 0


def _atheris(name: str, seconds: float, artifacts: Path) -> bool:
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{name}-") as corpus:
        for n, seed in enumerate(seeds(name)):
            Path(corpus, f"seed-{n:03d}").write_bytes(seed)
        argv = [
            sys.executable,
            "-m",
            "tests.fuzz.atheris_main",
            name,
            f"-max_total_time={max(1, int(seconds))}",
            f"-timeout={PER_INPUT_SECONDS}",
            f"-rss_limit_mb={MEMORY_MB}",
            f"-artifact_prefix={artifacts}/{name}-",
            "-print_final_stats=1",
            corpus,
        ]
        done = subprocess.run(argv, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            sys.stdout.write(done.stderr[-4000:])
        return done.returncode == 0


class _Hang(BaseException):
    """An input ran past the per-input time limit (BaseException: never caught by a target)."""


def _mutate(name: str, seconds: float, artifacts: Path, seed: int) -> bool:
    """Mutation fuzzing in a child process (its own memory limit)."""
    argv = [sys.executable, "-m", "tests.fuzz.run", "--_child", name, str(seconds), str(seed)]
    done = subprocess.run([*argv, str(artifacts)], check=False, capture_output=True, text=True)
    sys.stdout.write(done.stdout[-4000:])
    if done.returncode != 0:
        sys.stdout.write(done.stderr[-4000:])
    return done.returncode == 0


def _child(name: str, seconds: float, seed: int, artifacts: Path) -> int:
    limit = MEMORY_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def on_alarm(signum: int, frame: object) -> None:
        raise _Hang

    signal.signal(signal.SIGALRM, on_alarm)
    target = TARGETS[name]
    pool = seeds(name)
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    runs = 0
    while time.monotonic() < deadline:
        data = pool[runs % len(pool)] if runs < len(pool) else _mutated(rng, pool)
        runs += 1
        signal.alarm(PER_INPUT_SECONDS)
        try:
            target(data)
        except _Hang:
            return _save(artifacts, name, data, f"hang: over {PER_INPUT_SECONDS} s")
        except BaseException:
            return _save(artifacts, name, data, traceback.format_exc())
        finally:
            signal.alarm(0)
    print(f"  {name}: {runs} inputs", flush=True)
    return 0


def _save(artifacts: Path, name: str, data: bytes, why: str) -> int:
    path = artifacts / f"{name}-crash-{os.getpid()}"
    path.write_bytes(data)
    print(f"  {name}: {why.strip().splitlines()[-1]}\n  input: {path}\n{why}", flush=True)
    return 1


def _mutated(rng: random.Random, pool: list[bytes]) -> bytes:
    data = bytearray(rng.choice(pool))
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(7)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:  # flip a byte
            data[pos % len(data)] ^= 1 << rng.randrange(8)
        elif op == 1:  # truncate
            del data[pos:]
        elif op == 2:  # insert a token
            data[pos:pos] = rng.choice(_TOKENS)
        elif op == 3:  # splice in part of another seed
            other = rng.choice(pool)
            a = rng.randrange(len(other) + 1)
            data[pos:pos] = other[a : a + rng.randint(1, 4096)]
        elif op == 4 and data:  # repeat a slice
            end = min(len(data), pos + rng.randint(1, 64))
            data[pos:pos] = data[pos:end] * rng.randint(2, 50)
        elif op == 5:  # random bytes
            data[pos:pos] = rng.randbytes(rng.randint(1, 16))
        elif data:  # overwrite with an interesting number
            number = rng.choice([0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF])
            chunk = number.to_bytes(4, rng.choice(["big", "little"]))
            data[pos : pos + 4] = chunk
    return bytes(data)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_child":
        _, _, name, secs, seed, folder = sys.argv
        sys.exit(_child(name, float(secs), int(seed), Path(folder)))
    sys.exit(main())
