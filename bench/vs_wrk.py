"""Runs unruly, wrk (and oha, hey if present) in turns and prints medians.

Each run is measured by GNU time for CPU (user+sys) and peak RSS; requests/s and
latency come from each tool's own output. Called by bench/vs-wrk.sh.
"""
import argparse
import json
import re
import shutil
import statistics
import subprocess
import tempfile


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (stdout, cpu_seconds, peak_rss_kib)."""
    with tempfile.NamedTemporaryFile("r") as t:
        out = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", t.name] + cmd,
                             capture_output=True, text=True, check=False)
        user, sys_, rss = t.read().split()[-3:]
    return out.stdout, float(user) + float(sys_), int(rss)


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run_wrk(url, conns, secs):
    out, cpu, rss = timed(["wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--latency", url])
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    return dict(rps=rps, p50=p50, p99=p99, requests=total, cpu=cpu, rss=rss)


def run_unruly(binary, url, conns, secs):
    out, cpu, rss = timed([binary, "load", url, "-c", str(conns), "-d", f"{secs}s",
                           "--threads", "1", "--json", "-q"])
    stats = json.loads(out)["stats"]["overall"]
    lat = stats["latency_ms"]
    return dict(rps=stats["rps"], p50=lat["p50"], p99=lat["p99"],
                requests=stats["requests"], cpu=cpu, rss=rss)


def run_oha(url, conns, secs):
    out, cpu, rss = timed(["oha", "--no-tui", "-j", "-c", str(conns), "-z", f"{secs}s", url])
    doc = json.loads(out)
    total = sum(doc.get("statusCodeDistribution", {}).values())
    return dict(rps=doc["summary"]["requestsPerSec"],
                p50=doc["latencyPercentiles"]["p50"] * 1000,
                p99=doc["latencyPercentiles"]["p99"] * 1000,
                requests=total, cpu=cpu, rss=rss)


def run_hey(url, conns, secs):
    out, cpu, rss = timed(["hey", "-c", str(conns), "-z", f"{secs}s", url])
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = float(re.search(r"50%+ in ([\d.]+) secs", out).group(1)) * 1000
    p99 = float(re.search(r"99%+ in ([\d.]+) secs", out).group(1)) * 1000
    total = int(rps * secs)
    return dict(rps=rps, p50=p50, p99=p99, requests=total, cpu=cpu, rss=rss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unruly", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, nargs="+", default=[50, 1000])
    args = ap.parse_args()
    tools = {"unruly": lambda c: run_unruly(args.unruly, args.url, c, args.duration),
             "wrk": lambda c: run_wrk(args.url, c, args.duration)}
    if shutil.which("oha"):
        tools["oha"] = lambda c: run_oha(args.url, c, args.duration)
    if shutil.which("hey"):
        tools["hey"] = lambda c: run_hey(args.url, c, args.duration)
    print(f"target {args.url}; {args.duration}s per run, {args.rounds} rounds, one thread each; medians")
    for conns in args.connections:
        results = {name: [] for name in tools}
        for _ in range(args.rounds):
            for name, run in tools.items():
                results[name].append(run(conns))
        print(f"\n{conns} connections")
        print(f"{'tool':8} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'CPU µs/req':>11} {'peak RSS MiB':>13}")
        med = {}
        for name, runs in results.items():
            m = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99", "rss")}
            m["cpu_us"] = statistics.median(r["cpu"] / max(r["requests"], 1) * 1e6 for r in runs)
            med[name] = m
            print(f"{name:8} {m['rps']:>10.0f} {m['p50']:>8.3f} {m['p99']:>8.3f} {m['cpu_us']:>11.2f} {m['rss'] / 1024:>13.1f}")
        u, w = med["unruly"], med["wrk"]
        print(f"unruly/wrk: req/s {u['rps'] / w['rps']:.2f}x, p50 {u['p50'] / w['p50']:.2f}x, "
              f"CPU/req {u['cpu_us'] / w['cpu_us']:.2f}x, RSS {u['rss'] / w['rss']:.2f}x")


if __name__ == "__main__":
    main()
