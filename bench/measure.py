"""Runs a command and prints its wall time and peak RSS as JSON (for bench/index.ts)."""
import json, resource, subprocess, sys, time

start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.perf_counter() - start
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": done.returncode, "seconds": wall, "rss_mb": rss_kb / 1024}))
