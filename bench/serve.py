#!/usr/bin/python3
"""emsync serve under load, on loopback. Prints a markdown table.

usage: serve.py EMSYNC WORKDIR

- re-render: a 1-minute clip is uploaded and rendered; then a plan with one cut moved is PUT and
  the time until the job is done again is measured (music only: no new analysis), best of 3;
- polls: while a job runs, GET /api/jobs/ID at 200 requests a second for 30 s from 4 threads;
  latency percentiles, errors, and the server's peak memory (VmHWM);
- uploads: 20 uploads in a row of the same clip, all queued at once; every job must end done with
  the same MIDI as `emsync score` gives that clip (no job lost or corrupted).
Only the standard library: http.client, threads.
"""
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid


def make_clip(path, seconds, cut_every):
    if os.path.exists(path):
        return
    parts = []
    n = max(1, int(seconds // cut_every))
    for i in range(n):
        parts.append(f"testsrc2=s=320x180:r=25:d={cut_every}" if i % 2 == 0
                     else f"mandelbrot=s=320x180:r=25:end_scale={i + 1}")
    inputs = []
    for p in parts:
        inputs += ["-f", "lavfi", "-i", p]
    chain = "".join(f"[{i}:v]trim=duration={cut_every},setpts=PTS-STARTPTS,format=yuv420p[v{i}];"
                    for i in range(n))
    chain += "".join(f"[v{i}]" for i in range(n)) + f"concat=n={n}[v]"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *inputs,
                    "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={seconds}",
                    "-filter_complex", chain, "-map", "[v]", "-map", f"{n}:a",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-c:a", "aac", "-shortest",
                    path + ".tmp.mp4"], check=True)
    os.rename(path + ".tmp.mp4", path)


class Server:
    def __init__(self, binary, jobs):
        self.proc = subprocess.Popen([binary, "serve", "--port", "0", "--jobs", jobs, "--max-upload", "64M"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"http://([0-9.]+):([0-9]+)/", line)
        if not m:
            raise SystemExit(f"serve.py: the server did not start ({line!r})")
        self.host, self.port = m.group(1), int(m.group(2))
        page = self.request("GET", "/")[1].decode()
        self.token = re.search(r'name="emsync-token" content="([0-9a-f]{32})"', page).group(1)

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        h = dict(headers or {})
        if method != "GET":
            h["X-Emsync-Token"] = self.token
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def upload(self, path):
        boundary = uuid.uuid4().hex
        with open(path, "rb") as f:
            video = f.read()
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; "
                f"filename=\"{os.path.basename(path)}\"\r\nContent-Type: video/mp4\r\n\r\n").encode() + video + \
            f"\r\n--{boundary}--\r\n".encode()
        status, data = self.request("POST", "/api/jobs", body,
                                    {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        if status != 201:
            raise SystemExit(f"serve.py: upload answered {status}: {data[:200]!r}")
        return json.loads(data)["id"]

    def job(self, job_id):
        return json.loads(self.request("GET", f"/api/jobs/{job_id}")[1])

    def wait(self, job_id, cond, timeout=600):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            j = self.job(job_id)
            if cond(j):
                return j
            if j.get("state") == "failed":
                raise SystemExit(f"serve.py: job failed: {j.get('error')}")
            time.sleep(0.02)
        raise SystemExit(f"serve.py: job {job_id} timed out")

    def peak_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def poll_load(server, job_id, rate, seconds, threads=4):
    """GET the job at `rate` requests a second in all, spread over `threads`, for `seconds`."""
    lat, errors = [], [0]
    lock = threading.Lock()
    start = time.monotonic()

    def worker(k):
        c = http.client.HTTPConnection(server.host, server.port, timeout=10)
        n = 0
        while True:
            due = start + (n * threads + k) / rate
            if due - start >= seconds:
                break
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t0 = time.monotonic()
            try:
                c.request("GET", f"/api/jobs/{job_id}")
                r = c.getresponse()
                body = r.read()
                ok = r.status == 200 and json.loads(body).get("id") == job_id
            except (OSError, http.client.HTTPException, ValueError):
                ok = False
                c.close()
                c = http.client.HTTPConnection(server.host, server.port, timeout=10)
            with lock:
                lat.append(time.monotonic() - t0)
                if not ok:
                    errors[0] += 1
            n += 1
        c.close()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return lat, errors[0], time.monotonic() - start


def main():
    binary, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    long_clip = os.path.join(work, "serve-60s.mp4")
    short_clip = os.path.join(work, "serve-6s.mp4")
    make_clip(long_clip, 60, 6)
    make_clip(short_clip, 6, 3)
    jobs = os.path.join(work, "serve-jobs")
    shutil.rmtree(jobs, ignore_errors=True)
    expected = os.path.join(work, "serve-expected.mid")
    subprocess.run([binary, "score", short_clip, "-o", os.path.join(work, "serve-expected.mp4"),
                    "--midi", expected, "-q", "-y"], check=True)

    server = Server(binary, jobs)
    rows = []
    try:
        # re-render of the 1-minute clip
        t0 = time.monotonic()
        job_id = server.upload(long_clip)
        job = server.wait(job_id, lambda j: j.get("state") == "done" and j.get("revision", 0) >= 1)
        first = time.monotonic() - t0
        bounds = job["analysis"]["cuts"]["boundaries"]
        rows.append(("1-minute clip: upload, analysis and first render, s", f"{first:.2f}"))

        def rerender(composer):
            """The plan the page sends after a cut is moved: every cut, every scene's mood."""
            nonlocal job
            times = []
            for k in range(3):
                cuts = [round(bounds[0] + 0.5 * (k + 1), 3)] + bounds[1:]
                scenes = [{"start": t, "valence": round(0.6 - 0.2 * (i % 5), 2), "arousal": 0.1}
                          for i, t in enumerate([0] + cuts)]
                plan = {"boundaries": cuts, "scenes": scenes, "composer": composer}
                rev = job["revision"]
                t0 = time.monotonic()
                status, data = server.request("PUT", f"/api/jobs/{job_id}/plan", json.dumps(plan).encode(),
                                              {"Content-Type": "application/json"})
                if status != 202:
                    raise SystemExit(f"serve.py: plan answered {status}: {data[:200]!r}")
                job = server.wait(job_id, lambda j: j.get("revision", 0) > rev and j.get("state") == "done")
                times.append(time.monotonic() - t0)
            return min(times)

        for composer, name in (("auto", "default composer"), ("rules", "built-in composer")):
            rows.append((f"1-minute clip: re-render after moving a cut, {name}, best of 3, s (target <= 2)",
                         f"{rerender(composer):.2f}"))

        # polls while a job runs: a long render keeps the worker busy
        busy = server.upload(long_clip)
        server.wait(busy, lambda j: j.get("state") == "running")
        lat, errors, took = poll_load(server, busy, 200, 30)
        rows.append((f"polls during a job: requests in {took:.0f} s (200/s asked)", f"{len(lat)}"))
        rows.append(("polls: failed or wrong answers", f"{errors}"))
        rows.append(("polls: latency p50 / p99 / max, ms",
                     f"{percentile(lat, 50) * 1e3:.1f} / {percentile(lat, 99) * 1e3:.1f} / {max(lat) * 1e3:.1f}"))
        server.wait(busy, lambda j: j.get("state") == "done")

        # 20 uploads in a row, then every job must finish with the expected MIDI
        t0 = time.monotonic()
        ids = [server.upload(short_clip) for _ in range(20)]
        upload_s = time.monotonic() - t0
        with open(expected, "rb") as f:
            want = f.read()
        same = 0
        for i in ids:
            server.wait(i, lambda j: j.get("state") in ("done", "failed") and j.get("revision", 0) >= 1)
            status, midi = server.request("GET", f"/api/jobs/{i}/midi")
            same += status == 200 and midi == want
        rows.append(("20 uploads in a row (6 s clip): uploading, s", f"{upload_s:.2f}"))
        rows.append(("20 uploads: all done, s", f"{time.monotonic() - t0:.2f}"))
        rows.append(("20 uploads: jobs done with score's exact MIDI", f"{same}/20"))
        rows.append(("server peak RSS (VmHWM), MB", f"{server.peak_kb() / 1024:.1f}"))
    finally:
        server.stop()
        shutil.rmtree(jobs, ignore_errors=True)

    print("| figure | value |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
