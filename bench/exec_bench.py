#!/usr/bin/env python3
"""Benchmark `batchproc exec` beside xargs, GNU parallel and rush, and what a spawn costs.

Usage: python bench/exec_bench.py [--rounds N] [--files N] [--size BYTES] [--bench-dir DIR]
       python bench/exec_bench.py --spawn-costs [--spawns N] [--rounds N]

The task (issue: `batchproc exec`): N files (default 3,000) of 2 KB in a tree of 30 folders,
each through `gzip -c` into a mirrored tree (a.txt -> OUT/a.txt.gz), 2 jobs:

  batchproc  batchproc exec SRC --out OUT --stdout --name '{/}.gz' --cmd 'gzip -c {}' --jobs 2
  xargs      find . -type f -print0 | xargs -0 -P2 -n1 sh -c 'mkdir -p ... && gzip -c ... > ...'
  parallel   find . -type f -print0 | parallel -0 -j2 'mkdir -p OUT/{//} && gzip -c {} > OUT/{}.gz'
  rush       the same through rush (github.com/shenwei356/rush) when it is on PATH

Each round runs every contender once on a fresh output folder (and, for batchproc, fresh
state), round-robin, the first contender rotating between rounds. The table gives the median
and fastest wall time, the median CPU time of the whole process tree, files/s and the ratio
to batchproc's median; then the issue's two targets with PASS/FAIL. Every output tree is
checked against gzip's own output for a sample of files.

--spawn-costs measures, in this process, what each piece of starting one command costs: fork
vs vfork vs posix_spawn, closing descriptors, copying the environment, batchproc's own
CommandRunner (pipes, deadline, leftovers) and the whole per-file path of a worker (run_task:
stat, temporary, publish), each running /bin/true, alternating, in microseconds per file of
wall time, of this process's own CPU time and of the spawned programs' (exec and start-up).
"""
from __future__ import annotations

import argparse
import gzip
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
FOLDERS = 30


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--bench-dir", default=os.environ.get("BENCH_DIR") or
                        os.path.join(tempfile.gettempdir(), "batchproc-exec-bench"))
    parser.add_argument("--spawn-costs", action="store_true", help="measure the spawn path instead")
    parser.add_argument("--spawns", type=int, default=400, help="spawns per piece and round (--spawn-costs)")
    args = parser.parse_args()
    if args.spawn_costs:
        return spawn_costs(args.spawns, args.rounds)
    return task(args)


# The task.

def task(args) -> int:
    sys.path.insert(0, str(REPOSITORY))
    from batchproc.process_tree import become_subreaper

    become_subreaper()
    bench = Path(args.bench_dir)
    source = build_inputs(bench / "src", args.files, args.size)
    contenders = [(name, command) for name, command in commands(source, bench, args.jobs) if command]
    missing = [name for name, command in commands(source, bench, args.jobs) if command is None]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in contenders}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for round_number in range(args.rounds):
        shift = round_number % len(contenders)
        for name, command in contenders[shift:] + contenders[:shift]:
            out = bench / f"out-{name}"
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(bench / "state", ignore_errors=True)
            out.mkdir(parents=True)
            wall, cpu, code = timed(command, cwd=source, env=env)
            if code != 0:
                print(f"{name} failed (exit {code}): {command}", file=sys.stderr)
                return 1
            check_outputs(source, out)
            times[name].append((wall, cpu))
            print(f"round {round_number + 1}: {name:10s} {wall:7.2f} s", file=sys.stderr, flush=True)
    print_table(times, args.files)
    for name in missing:
        print(f"{name}: not installed, skipped")
    print_targets(times)
    return 0


def commands(source: Path, bench: Path, jobs: int):
    """(name, shell command run in the source folder) for each contender; None if missing."""
    batchproc = Path(sys.executable).parent / "batchproc"
    batchproc = str(batchproc) if batchproc.exists() else f"{sys.executable} -m batchproc"
    out = {name: bench / f"out-{name}" for name in ("batchproc", "xargs", "parallel", "rush")}
    yield "batchproc", (f"{batchproc} exec . --out {out['batchproc']} --stdout --name '{{/}}.gz' "
                        f"--cmd 'gzip -c {{}}' --jobs {jobs} --state {bench / 'state'} --quiet")
    yield "xargs", (f"find . -type f -print0 | xargs -0 -P{jobs} -n1 sh -c "
                    f"'mkdir -p \"$0/${{1%/*}}\" && gzip -c \"$1\" > \"$0/$1.gz\"' {out['xargs']}")
    yield "parallel", (f"find . -type f -print0 | parallel -0 -j{jobs} 'mkdir -p {out['parallel']}/{{//}} "
                       f"&& gzip -c {{}} > {out['parallel']}/{{}}.gz'") if shutil.which("parallel") else None
    # rush (shenwei356/rush) is a Go program that no package registry reachable here carries;
    # Debian's package named rush is GNU Rush, a restricted shell: checked by its --help.
    yield "rush", (f"find . -type f -print0 | rush -0 -j {jobs} 'mkdir -p {out['rush']}/{{/}} "
                   f"&& gzip -c {{}} > {out['rush']}/{{}}.gz'") if is_rush() else None


def is_rush() -> bool:
    if not shutil.which("rush"):
        return False
    done = subprocess.run(["rush", "--help"], capture_output=True, text=True)
    return "parallel" in (done.stdout + done.stderr).lower()


def build_inputs(folder: Path, files: int, size: int) -> Path:
    """The input tree, reused while its file count and size are unchanged."""
    spec = folder.with_name(folder.name + ".spec")
    wanted = f"{files} {size} {FOLDERS}"
    if spec.exists() and spec.read_text() == wanted:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    for index in range(files):
        sub = folder / f"d{index % FOLDERS:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        line = f"line {index} of a small log file that compresses well\n".encode()
        (sub / f"f{index:05d}.log").write_bytes((line * (size // len(line) + 1))[:size])
    spec.write_text(wanted)
    return folder


def timed(command: str, *, cwd: Path, env: dict) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of the whole process tree, exit code.

    This process is a child subreaper (see main): a process the command leaves to finish on its
    own (batchproc's forkserver, which reaps its workers, exits just after batchproc) comes
    back to it and is waited for here, so its CPU time, and its workers', is counted too."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    process = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode:
        sys.stderr.write(err.decode(errors="replace"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                time.sleep(0.005)
        except ChildProcessError:
            break
    return wall, _children_cpu() - cpu_before, process.returncode


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def check_outputs(source: Path, out: Path) -> None:
    """Every input has its .gz, and a sample decompress to their input."""
    inputs = sorted(p.relative_to(source) for p in source.rglob("*.log"))
    outputs = sorted(p.relative_to(out) for p in out.rglob("*.gz"))
    if [Path(f"{p}.gz") for p in inputs] != outputs:
        raise SystemExit(f"{out}: {len(outputs)} outputs for {len(inputs)} inputs")
    for relative in inputs[:: max(1, len(inputs) // 50)]:
        if gzip.decompress((out / f"{relative}.gz").read_bytes()) != (source / relative).read_bytes():
            raise SystemExit(f"{out / relative}.gz does not decompress to its input")


def print_table(times, files: int) -> None:
    base = statistics.median(wall for wall, _ in times["batchproc"])
    print(f"{'contender':12s} {'runs':>4s} {'median s':>9s} {'min s':>7s} {'cpu s':>7s} "
          f"{'files/s':>8s} {'t/t_batchproc':>14s}")
    for name, runs in times.items():
        walls = [wall for wall, _ in runs]
        median = statistics.median(walls)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:12s} {len(runs):4d} {median:9.2f} {min(walls):7.2f} {cpu:7.2f} "
              f"{files / median:8.0f} {median / base:14.2f}")


def print_targets(times) -> None:
    median = {name: statistics.median(w for w, _ in runs) for name, runs in times.items()}
    if "xargs" in median:
        verdict = "PASS" if median["batchproc"] <= median["xargs"] else "FAIL"
        print(f"target: batchproc no slower than xargs: {median['batchproc']:.2f} s vs "
              f"{median['xargs']:.2f} s: {verdict}")
    if "parallel" in median:
        verdict = "PASS" if median["batchproc"] <= median["parallel"] / 2 else "FAIL"
        print(f"target: batchproc at most half of GNU parallel: {median['batchproc']:.2f} s vs "
              f"{median['parallel']:.2f} s / 2: {verdict}")


# The spawn path, piece by piece.

def spawn_costs(spawns: int, rounds: int) -> int:
    sys.path.insert(0, str(REPOSITORY))
    from batchproc_plugins.exec import Exec
    from batchproc_plugins.exec_process import CommandRunner
    from batchproc.execution import run_task
    from batchproc.task import Task, WorkerSpec

    true = shutil.which("true")
    devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
               (os.POSIX_SPAWN_DUP2, devnull, 2)]
    runner = CommandRunner()
    runner.prepare()
    step = Exec(cmd="true {}", no_output=True)
    step.prepare_worker(timeout=None)
    timed_step = Exec(cmd="true {}", no_output=True)
    timed_step.prepare_worker(timeout=60)
    scratch = Path(tempfile.mkdtemp(prefix="batchproc-spawn-"))
    (scratch / "in.txt").write_text("x")
    spec = WorkerSpec("exec", step.settings)
    task = Task(1, str(scratch / "in.txt"), ())
    big_env = {**os.environ, **{f"BATCHPROC_BENCH_{i}": "x" * 40 for i in range(200)}}

    def popen(**options):
        return lambda: subprocess.Popen([true], stdin=devnull, stdout=devnull, stderr=devnull,
                                        **options).wait()

    def spawn(env):
        def run():
            pid = os.posix_spawn(true, [true], env, file_actions=actions, setsid=True)
            os.waitpid(pid, 0)
        return run

    pieces = [
        ("fork + exec (Popen with a preexec_fn)", popen(preexec_fn=lambda: None, start_new_session=True)),
        ("vfork (Popen, close_fds=True, new session)", popen(start_new_session=True)),
        ("vfork (Popen, close_fds=False, new session)", popen(start_new_session=True, close_fds=False)),
        ("vfork (Popen, close_fds=True) + env=dict(os.environ)",
         popen(start_new_session=True, env=dict(os.environ))),
        ("posix_spawn + setsid + dup2 x3, env os.environ", spawn(os.environ)),
        (f"posix_spawn, env of {len(big_env)} variables", spawn(big_env)),
        ("CommandRunner.run (pipes, pidfd, leftovers)", lambda: runner.run([true])),
        ("CommandRunner.run with a deadline", lambda: runner.run([true], deadline=time.monotonic() + 60)),
        ("run_task(exec --no-output 'true {}')", lambda: run_task(step, task, spec)),
        ("run_task(exec ...), --timeout 60", lambda: run_task(timed_step, task, spec)),
    ]
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _ in pieces}
    for name, piece in pieces:  # warm up
        piece()
    for round_number in range(rounds):
        shift = round_number % len(pieces)
        for name, piece in pieces[shift:] + pieces[:shift]:
            cpu_before, child_before = _cpu(), _children_cpu()
            started = time.perf_counter()
            for _ in range(spawns):
                piece()
            wall = (time.perf_counter() - started) / spawns * 1e6
            samples[name].append((wall, (_cpu() - cpu_before) / spawns * 1e6,
                                  (_children_cpu() - child_before) / spawns * 1e6))
    rss = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20
    print(f"spawning {true}, {spawns} times x {rounds} rounds per piece; this process: {rss} MB "
          f"resident, {len(os.environ)} environment variables, Python {sys.version.split()[0]}")
    print(f"{'piece':58s} {'wall us':>8s} {'own cpu us':>11s} {'child cpu us':>13s}")
    for name, _ in pieces:
        wall, cpu, child = (statistics.median(sample[i] for sample in samples[name]) for i in range(3))
        print(f"{name:58s} {wall:8.0f} {cpu:11.0f} {child:13.0f}")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.exit(main())
