"""imgcall's library with an engine: ``save_images(..., engine=...)`` on one input.

Usage: python imgcall_engine.py INPUT OUT_DIR ENGINE WORKERS

Prints {"seconds", "images", "cpu_self", "cpu_workers", "worker_rss_mb"}: the run's
wall time, CPU seconds of this process (the run: naming, linking, the manifest) and of
its worker processes, and the largest peak RSS of one worker (``ru_maxrss`` of the
children; forked workers count the pages they share with this process, so it is an
upper bound).
"""

import json
import resource
import sys
import time

import imgcall
import imgcall.engines.processes
import imgcall.saving
import imgcall.shards


def main() -> None:
    src, out, engine, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    report = imgcall.save_images(src, out, engine=engine, workers=workers)
    seconds = time.perf_counter() - start
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "images": len(report.saved),
                "cpu_self": me.ru_utime + me.ru_stime - before.ru_utime - before.ru_stime,
                "cpu_workers": kids.ru_utime + kids.ru_stime,
                "worker_rss_mb": kids.ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
