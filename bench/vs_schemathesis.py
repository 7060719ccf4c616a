"""Reads the reports of Schemathesis and unruly explore runs and prints what each found.

Called by bench/vs-schemathesis.sh, which runs the tools:

    vs_schemathesis.py summarize --out DIR --runs N --budget S --planted bugs.rs [--unruly-ran]
    vs_schemathesis.py proxy --listen PORT --upstream PORT --count-file FILE

A bug is a distinct (operation, kind) pair, kinds being unruly's finding kinds: Schemathesis
failure codes are mapped to them (CODE_KIND). One rule applies to both tools: a response
conformance failure on a 5xx answer is the server error itself, so it counts as
server_error, not as a second bug. Cases are HTTP requests: Schemathesis' recorded
interactions (its NDJSON report), unruly's stats.overall.requests; or, with
COUNT_AT_SERVER=1, requests counted by the proxy in front of the demo.
"""
import argparse
import asyncio
import glob
import json
import os
import re
import signal
import statistics

# Schemathesis 4 failure codes (`st explain CODE`) -> unruly finding kinds. Codes with no
# unruly counterpart keep their Schemathesis check name, prefixed `st:`.
CODE_KIND = {
    "ST101": "server_error",               # not_a_server_error
    "ST102": "server_error",               # 5xx for an undeclared Content-Type
    "ST103": "response_schema_violation",  # status_code_conformance
    "ST104": "response_schema_violation",  # content_type_conformance: missing
    "ST105": "response_schema_violation",  # content_type_conformance: undocumented
    "ST106": "response_schema_violation",  # malformed media type
    "ST107": "response_schema_violation",  # response_headers_conformance
    "ST108": "response_schema_violation",  # response_schema_conformance
    "ST109": "response_schema_violation",  # body is not valid JSON
    "ST110": "response_schema_violation",  # body the parser cannot read
    "ST111": "response_schema_violation",  # discriminator mismatch
    "ST112": "slow_response",              # max_response_time
    "ST201": "accepted_invalid_input",     # negative_data_rejection
    "ST203": "accepted_invalid_input",     # missing_required_header
    "ST202": "st:positive_data_acceptance",
    "ST204": "st:unsupported_method",
    "ST205": "st:allow_header_conformance",
    "ST301": "st:use_after_free",
    "ST302": "st:ensure_resource_availability",
    "ST401": "st:ignored_auth",
    "ST402": "st:object_level_authorization",
}


def kind_of(kind, status):
    """The kind a bug counts as: conformance failures of a 5xx are the server error."""
    if kind == "response_schema_violation" and status is not None and status >= 500:
        return "server_error"
    return kind


def read_number(path):
    try:
        with open(path) as f:
            return float(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def read_schemathesis(run_dir):
    """One Schemathesis run: its bugs {(operation, kind): set of codes}, requests, wall time."""
    ndjson = glob.glob(os.path.join(run_dir, "report", "ndjson-*.ndjson"))
    summary = glob.glob(os.path.join(run_dir, "report", "json-*.json"))
    if not ndjson or not summary:
        return None
    with open(summary[0]) as f:
        doc = json.load(f)
    bugs, requests = {}, 0
    with open(ndjson[0]) as f:
        for line in f:
            event = json.loads(line)
            scenario = event.get("ScenarioFinished")
            if not scenario:
                continue
            recorder = scenario["recorder"]
            interactions = recorder.get("interactions", {})
            requests += len(interactions)
            for case_id, checks in recorder.get("checks", {}).items():
                response = (interactions.get(case_id) or {}).get("response") or {}
                status = response.get("status_code")
                for check in checks:
                    if check.get("status") != "failure":
                        continue
                    failure = check["failure_info"]["failure"]
                    code = failure["code"]
                    kind = CODE_KIND.get(code, "st:" + check["name"])
                    operation = failure.get("operation") or recorder["label"]
                    label = code if kind_of(kind, status) == kind else f"{code} on {status}"
                    bugs.setdefault((operation, kind_of(kind, status)), set()).add(label)
    server = read_number(os.path.join(run_dir, "server-requests"))
    return dict(
        bugs=bugs,
        requests=int(server) if server is not None else requests,
        tool_requests=requests,
        elapsed=read_number(os.path.join(run_dir, "elapsed")),
        exit=read_number(os.path.join(run_dir, "exit")),
        version=doc.get("schemathesis_version"),
        running_time=doc.get("running_time"),
        stop_reason=doc.get("stop_reason"),
        generated=doc.get("test_cases", {}).get("generated"),
        errors=[f"{e['title']} x{e['count']}" for e in doc.get("errors", [])],
        phases={k: v.get("status") for k, v in doc.get("phases", {}).items()},
    )


def read_unruly(run_dir):
    """One unruly explore run: its bugs {(operation, kind): set of finding ids}, requests, wall time."""
    try:
        with open(os.path.join(run_dir, "report", "report.json")) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    bugs = {}
    for finding in doc.get("findings", []):
        status = (finding.get("evidence") or {}).get("status")
        kind = kind_of(finding["kind"], status)
        label = finding.get("id", "?") if kind == finding["kind"] else f"{finding.get('id', '?')} {finding['kind']} on {status}"
        bugs.setdefault((finding["operation"], kind), set()).add(label)
    server = read_number(os.path.join(run_dir, "server-requests"))
    return dict(
        bugs=bugs,
        requests=int(server) if server is not None else doc["stats"]["overall"]["requests"],
        tool_requests=doc["stats"]["overall"]["requests"],
        elapsed=read_number(os.path.join(run_dir, "elapsed")),
        exit=read_number(os.path.join(run_dir, "exit")),
    )


def planted_bugs(path):
    """(operation, kind) of every PLANTED_BUGS entry in crates/unruly-demo/src/bugs.rs."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return []
    return re.findall(r'operation:\s*"([^"]+)",\s*kind:\s*"([^"]+)"', text)


def summarize(args):
    tools = {"schemathesis": read_schemathesis, "unruly": read_unruly}
    results = {name: [] for name in tools}
    for run in range(1, args.runs + 1):
        for name, read in tools.items():
            run_dir = os.path.join(args.out, f"run{run}", name)
            if os.path.isdir(run_dir):
                r = read(run_dir)
                if r is None:
                    print(f"{name} run {run}: no report in {run_dir} (see stdout.txt/stderr.txt there)")
                else:
                    results[name].append(r)
    planted = planted_bugs(args.planted)
    counting = "counted at the server" if any(
        os.path.exists(os.path.join(args.out, f"run{i}", n, "server-requests"))
        for i in range(1, args.runs + 1) for n in tools) else "as each tool reports them"

    st = results["schemathesis"]
    print(f"\ndemo shop (unruly demo --serve, fresh per tool and run), budget {args.budget}s per tool, "
          f"{args.runs} run(s){', medians' if args.runs > 1 else ''}; requests {counting}")
    if st:
        print(f"Schemathesis {st[0]['version']}: {open(os.path.join(args.out, 'run1', 'schemathesis', 'command')).read().strip()}")
        for i, r in enumerate(st, 1):
            print(f"  run {i}: stop reason {r['stop_reason']}, running time {r['running_time']:.1f}s, "
                  f"{r['generated']} test cases generated, phases "
                  + ", ".join(f"{k} {v}" for k, v in r["phases"].items())
                  + (f"; errors: {'; '.join(r['errors'])}" if r["errors"] else ""))
    if results["unruly"]:
        print(f"unruly: {open(os.path.join(args.out, 'run1', 'unruly', 'command')).read().strip()}")
    print(f"\n{'tool':13} {'bugs':>5} {'planted hit':>12} {'cases':>9} {'elapsed s':>10} {'cases/s':>9}")
    med = {}
    for name, runs in results.items():
        if not runs:
            continue
        m = dict(
            bugs=statistics.median(len(r["bugs"]) for r in runs),
            planted=statistics.median(len(set(planted) & set(r["bugs"])) for r in runs),
            requests=statistics.median(r["requests"] for r in runs),
            elapsed=statistics.median(r["elapsed"] for r in runs),
            rate=statistics.median(r["requests"] / r["elapsed"] for r in runs),
        )
        med[name] = m
        print(f"{name:13} {m['bugs']:>5g} {m['planted']:>7g} of {len(planted):<2} {m['requests']:>9.0f} "
              f"{m['elapsed']:>10.1f} {m['rate']:>9.1f}")
    if counting.startswith("counted"):
        for name, runs in results.items():
            if runs:
                print(f"  {name}: requests reported by the tool itself "
                      + ", ".join(str(r["tool_requests"]) for r in runs)
                      + "; counted at the server " + ", ".join(str(r["requests"]) for r in runs))
    if "unruly" in med and "schemathesis" in med:
        u, s = med["unruly"], med["schemathesis"]
        bugs_ratio = f"{u['bugs'] / s['bugs']:.2f}x" if s["bugs"] else "n/a (Schemathesis found none)"
        print(f"unruly/Schemathesis: bugs {bugs_ratio}, cases/s {u['rate'] / s['rate']:.1f}x "
              f"(goal: more bugs, at least 20x cases/s)")
    elif not args.unruly_ran:
        print("unruly: explore not available yet (no `unruly explore` subcommand): no unruly figures, no ratios")

    for name, runs in results.items():
        if not runs:
            continue
        seen = {}
        for r in runs:
            for bug, how in r["bugs"].items():
                seen.setdefault(bug, [0, set()])
                seen[bug][0] += 1
                seen[bug][1] |= how
        print(f"\n{name}: distinct bugs (operation, kind){' found in n of the runs' if len(runs) > 1 else ''}")
        for (operation, kind), (count, how) in sorted(seen.items()):
            mark = "planted" if (operation, kind) in planted else ""
            runs_note = f"{count}/{len(runs)} " if len(runs) > 1 else ""
            print(f"  {runs_note}{operation:22} {kind:28} {mark:8} ({', '.join(sorted(how))})")
    print(f"\nplanted bugs (PLANTED_BUGS in crates/unruly-demo/src/bugs.rs): {len(planted)}")
    for operation, kind in planted:
        hits = [n for n, runs in results.items() if any((operation, kind) in r["bugs"] for r in runs)]
        print(f"  {operation:22} {kind:28} found by: {', '.join(hits) or '-'}")
    missed = [
        f"{operation} {kind}"
        for operation, kind in planted
        if not any((operation, kind) in r["bugs"] for runs in results.values() for r in runs)
    ]
    if missed:
        print(f"(found by neither: {'; '.join(missed)}: the orders race needs a stock near zero, "
              "which only a scenario burst sets up, and the leak a watched process)")


# The counting proxy: forwards bytes both ways unchanged and counts the HTTP/1.1 requests
# that pass from client to server (framing by Content-Length or chunked encoding).
class RequestCounter:
    def __init__(self):
        self.count = 0

    def parser(self):
        """A generator fed with chunks of the client's byte stream; counts requests."""
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                buf += yield
            head, buf = buf.split(b"\r\n\r\n", 1)
            self.count += 1
            length, chunked = 0, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    try:
                        length = int(value.strip())
                    except ValueError:
                        length = 0
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            if chunked:
                while True:
                    while b"\r\n" not in buf:
                        buf += yield
                    size_line, buf = buf.split(b"\r\n", 1)
                    size = int(size_line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:  # then trailers, up to an empty line
                        while True:
                            while b"\r\n" not in buf:
                                buf += yield
                            line, buf = buf.split(b"\r\n", 1)
                            if not line:
                                break
                        break
                    while len(buf) < size + 2:
                        buf += yield
                    buf = buf[size + 2:]
            else:
                while len(buf) < length:
                    buf += yield
                buf = buf[length:]


async def pump(reader, writer, feed=None):
    try:
        while data := await reader.read(65536):
            if feed:
                try:
                    feed(data)
                except (ValueError, StopIteration):
                    feed = None  # unparseable framing: stop counting this connection
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


def proxy(args):
    counter = RequestCounter()

    def save():
        with open(args.count_file + ".tmp", "w") as f:
            f.write(f"{counter.count}\n")
        os.replace(args.count_file + ".tmp", args.count_file)

    async def handle(client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", args.upstream)
        except OSError:
            client_writer.close()
            return
        parser = counter.parser()
        next(parser)
        await asyncio.gather(pump(client_reader, up_writer, parser.send), pump(up_reader, client_writer))

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        server = await asyncio.start_server(handle, "127.0.0.1", args.listen)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 1)
            except asyncio.TimeoutError:
                save()
        server.close()
        save()

    asyncio.run(main())


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summarize")
    s.add_argument("--out", required=True)
    s.add_argument("--runs", type=int, default=1)
    s.add_argument("--budget", type=int, default=30)
    s.add_argument("--planted", required=True)
    s.add_argument("--unruly-ran", action="store_true")
    p = sub.add_parser("proxy")
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--count-file", required=True)
    args = ap.parse_args()
    summarize(args) if args.command == "summarize" else proxy(args)


if __name__ == "__main__":
    main()
