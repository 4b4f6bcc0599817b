"""The harness every peer of genlab's benchmarks shares, whatever its framework (bench/run.ts and bench/engines.ts
run the peers; torch_common.py and keras_common.py add what is particular to PyTorch and to Keras 3 / TensorFlow).

The contract: read the float32 file `--data` ([n, 784], the same bytes genlab trains on), train the same model
with the same batch size, optimiser and loss for `--epochs` epochs, and print one line
`BENCH_RESULT {json}` with the seconds (wall and CPU) of every epoch, the last epoch's loss, the RSS after each
epoch, the peak RSS, the implementation and the framework's versions and threads. With `--params` (genlab's trainable
parameter count) a twin checks that its network has as many (check_params). Peers only, never dependencies of
genlab.
"""
import argparse
import json
import resource
import sys
import time

import numpy as np

RESULT_PREFIX = "BENCH_RESULT "
WIDTH = 784


def parse_args(default_threads, threads_help):
    """--data, --epochs, --seed, --threads (0: the framework's default, one thread per core) and --params."""
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True, help="raw little-endian float32 [n, 784]")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=default_threads, help=threads_help)
    p.add_argument("--params", type=int, default=None,
                   help="genlab's trainable parameter count (node dist/bench/child.js params): the twin's must equal it")
    return p.parse_args()


def check_params(args, count):
    """Prints the twin's trainable parameter count beside genlab's (--params) and fails when they differ."""
    print(f"parameters: twin {count}, genlab {args.params if args.params is not None else 'not given'}", file=sys.stderr, flush=True)
    if args.params is not None and count != args.params:
        raise SystemExit(f"the twin has {count} trainable parameters, genlab's model {args.params}: not the same network")


def load(path):
    """The data file as a float32 numpy array [n, 784]."""
    return np.fromfile(path, dtype="<f4").reshape(-1, WIDTH)


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def run(train_epoch, x, args, implementation, framework):
    """Times `train_epoch(x) -> loss` for args.epochs epochs and prints the result line; `framework` (versions,
    threads) is added to it."""
    seconds, cpu, rss_after, loss = [], [], [], float("nan")
    for _ in range(args.epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = float(train_epoch(x))
        seconds.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        rss_after.append(rss_mb())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(RESULT_PREFIX + json.dumps({
        "seconds": seconds, "cpuSeconds": cpu, "finalLoss": loss, "rssAfterEpoch": rss_after, "peakRssMB": peak,
        "implementation": implementation, **framework, "rows": int(x.shape[0]),
    }), flush=True)
