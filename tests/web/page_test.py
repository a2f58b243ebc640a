#!/usr/bin/python3
"""The page of `emsync serve` in a real browser (headless Chromium through chromedriver).

usage: page_test.py BASE_URL VIDEO [--timeout S] [--screenshots DIR] [--emsync BIN]

Against a running server: the page loads with no console error and asks no other host for
anything; a video uploaded through the file input shows its progress in the live region; the
timeline has one thumbnail per scene and one marker per cut; with the keyboard alone a cut moves
by +0.5 s, another is removed, a scene's emotion becomes "joy", the composer "rules", and
Re-render sends that plan (with the analysis's mood changes between cuts where no mood was set);
the new render reloads the player and, checked by `emsync eval` (--emsync), has a chord onset
within 0.1 s of the moved cut; the timeline shows the chords; the MIDI link gives a MIDI file;
at 375 px the page does not scroll sideways. Prints what failed and exits 1, else exits 0.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

failures = []
started = time.monotonic()
EMSYNC = None  # the binary, with --emsync: the new MIDI is checked with its eval command


def ok(what):
    print(f"ok [{time.monotonic() - started:5.1f} s]: {what}", flush=True)


def fail(what):
    print(f"FAIL [{time.monotonic() - started:5.1f} s]: {what}", flush=True)
    failures.append(what)


def check(cond, what):
    (ok if cond else fail)(what)
    return cond


class Fatal(Exception):
    """A step the rest depends on failed."""


def first(paths):
    return next((p for p in paths if os.path.exists(p)), None)


def start_browser():
    opts = webdriver.ChromeOptions()
    binary = first(["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"])
    if binary:
        opts.binary_location = binary
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,1000", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-default-apps", "--disable-sync",
              "--mute-audio", "--autoplay-policy=no-user-gesture-required"]:
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver_path = first(["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"])
    service = Service(executable_path=driver_path) if driver_path else Service()
    return webdriver.Chrome(service=service, options=opts)


def wait(driver, timeout, cond, what):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: cond(d))
    except TimeoutException:
        raise Fatal(f"timed out after {timeout:.0f} s waiting for: {what}")


def get_job(base, job_id):
    with urllib.request.urlopen(f"{base}api/jobs/{job_id}", timeout=30) as r:
        return json.load(r)


def wait_job(base, job_id, cond, timeout, what):
    end = time.time() + timeout
    job = None
    while time.time() < end:
        job = get_job(base, job_id)
        if cond(job):
            return job
        if job.get("state") == "failed":
            raise Fatal(f"the job failed while waiting for {what}: {job.get('error')}")
        time.sleep(0.2)
    raise Fatal(f"timed out after {timeout:.0f} s waiting for {what}; the job: "
                f"{ {k: job.get(k) for k in ('state', 'stage', 'revision', 'error')} if job else None}")


def active(driver, script):
    """Evaluates `script` (an expression of `a`, document.activeElement)."""
    return driver.execute_script(f"const a = document.activeElement; return {script};")


def press(driver, *keys):
    ActionChains(driver).send_keys(*keys).perform()


def tab_to(driver, test, what, limit=80):
    """Presses Tab (only Tab) until the focused element passes `test` (a JS expression of a)."""
    for _ in range(limit):
        press(driver, Keys.TAB)
        if active(driver, test):
            return
    raise Fatal(f"{limit} presses of Tab never reached {what}")


def console_errors(driver):
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def foreign_requests(driver, base):
    """URLs the page asked for from anywhere but the server (data: and blob: are local)."""
    own = urllib.parse.urlsplit(base)
    bad = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") not in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            continue
        url = msg["params"].get("request", {}).get("url") or msg["params"].get("url", "")
        u = urllib.parse.urlsplit(url)
        if u.scheme in ("data", "blob", "about", "chrome", "devtools"):
            continue
        if (u.scheme, u.hostname, u.port) != (own.scheme, own.hostname, own.port):
            bad.append(url)
    return bad


def close(a, b, tol=1e-6):
    return abs(a - b) <= tol


def run(driver, base, video, timeout, shots):
    def shot(name):
        if shots:
            driver.save_screenshot(os.path.join(shots, f"{name}.png"))

    # the page
    driver.get(base)
    wait(driver, 30, lambda d: d.find_element(By.ID, "version").text.strip(), "the page to load /api/config")
    check(driver.title == "emsync", "the page's title")
    errors = console_errors(driver)
    check(not errors, f"no console error on load {errors if errors else ''}")
    config = driver.execute_async_script(
        "const done = arguments[0]; fetch('/api/config').then(r => r.json()).then(done, e => done(null));")
    if not config:
        raise Fatal("GET /api/config from the page failed")
    shot("1-empty")

    # the upload, its progress in the live region
    driver.execute_script("""
        window.__seen = [];
        const s = document.getElementById('status');
        new MutationObserver(() => window.__seen.push(s.textContent))
            .observe(s, {childList: true, characterData: true, subtree: true});""")
    driver.find_element(By.ID, "file").send_keys(os.path.abspath(video))
    job_id = wait(driver, 60, lambda d: d.execute_script(
        "return /^#job=[0-9a-f]{32}$/.test(location.hash) && location.hash.slice(5)"),
        "the upload to give a job id (in the page's address)")
    ok(f"uploaded through the file input: job {job_id}")
    job = wait_job(base, job_id, lambda j: j.get("state") == "done" and j.get("revision", 0) >= 1,
                   timeout, "the first render")
    seen = driver.execute_script("return window.__seen")
    progress = [t for t in seen if any(w in t.lower() for w in ("upload", "analys", "render", "waiting"))]
    check(progress, f"progress appears in the live region (saw {seen[:6]})")
    wait(driver, 30, lambda d: "Done" in d.find_element(By.ID, "status").text, "the live region to say Done")

    # the timeline: a thumbnail per scene, a marker per cut
    bounds = job["analysis"]["cuts"]["boundaries"]
    n = len(bounds)
    thumbs = "#thumbs img.thumb[src^='data:image/']"
    try:
        wait(driver, 30, lambda d: len(d.find_elements(By.CSS_SELECTOR, thumbs)) == n + 1, "one thumbnail per scene")
        ok(f"{n + 1} thumbnails for {n + 1} scenes")
    except Fatal as e:
        fail(f"{e} (found {len(driver.find_elements(By.CSS_SELECTOR, thumbs))})")
    markers = driver.find_elements(By.CSS_SELECTOR, "#cuts .cut")
    check(len(markers) == n, f"one marker per cut ({len(markers)} markers, {n} cuts)")
    shown = driver.execute_script("return [...document.querySelectorAll('#thumbs .scene')]"
                                  ".filter(s => s.querySelector('img.thumb:not([hidden])')).length")
    check(shown == n + 1, f"every scene shows its thumbnail ({shown} of {n + 1})")
    shot("2-timeline")

    # keyboard only: from the top of the page
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    expected = [float(b) for b in bounds]
    if n < 2:  # one cut to move and one to remove: make a second with the Add cut button
        tab_to(driver, "a.id === 'add-cut'", "the Add cut button")
        press(driver, Keys.ENTER)
        if not active(driver, "a.classList.contains('cut')"):
            raise Fatal("Add cut did not focus the new cut")
        expected = driver.execute_script("return [...document.querySelectorAll('#cuts .cut')]"
                                         ".map(b => parseFloat(b.getAttribute('aria-label').split(' at ')[1]))")
        driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    tab_to(driver, "a.classList.contains('cut')", "a cut marker")
    check(active(driver, "a.dataset.cut") == "0", "Tab reaches the first cut marker first")
    label = active(driver, "a.getAttribute('aria-label')")
    check(label and "Cut 1" in label, f"the cut marker has a label ({label!r})")
    check(active(driver, "getComputedStyle(a).outlineStyle") != "none", "the focused cut shows a focus ring")
    for _ in range(5):
        press(driver, Keys.ARROW_RIGHT)
    moved = round(expected[0] + 0.5, 3)
    label = active(driver, "a.getAttribute('aria-label')")
    check(label and f"{moved:.2f} s" in label, f"Right x5 moved the cut to {moved:.2f} s ({label!r})")
    expected[0] = moved
    last = len(expected) - 1
    tab_to(driver, f"a.classList.contains('cut') && a.dataset.cut === '{last}'", "the last cut marker")
    press(driver, Keys.DELETE)
    del expected[last]
    count = len(driver.find_elements(By.CSS_SELECTOR, "#cuts .cut"))
    check(count == len(expected), f"Delete removed a cut ({count} markers left, want {len(expected)})")
    check(active(driver, "a !== document.body"), "the focus stays in the page after Delete")
    thumbs = len(driver.find_elements(By.CSS_SELECTOR, "#thumbs .scene"))
    check(thumbs == len(expected) + 1, f"the scenes follow the cuts ({thumbs} scenes)")

    # the first scene's emotion: joy (typed into the focused select)
    driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    tab_to(driver, "a.id === 'emotion'", "the emotion select")
    check(active(driver, "a.labels.length > 0 && a.labels[0].textContent.trim()") == "Emotion",
          "the emotion select has a label")
    press(driver, "joy")
    check(driver.execute_script("return document.getElementById('emotion').value") == "joy",
          "typing 'joy' chose joy")
    joy = config["emotion_moods"]["joy"]
    pad = driver.find_element(By.ID, "pad")
    text = pad.get_attribute("aria-valuetext") or ""
    check(f"{joy[0]:+.2f}".replace("-", "\u2212") in text, f"the pad moved to joy's valence ({text!r})")
    tab_to(driver, "a.id === 'pad'", "the mood pad")
    press(driver, Keys.ARROW_UP)
    press(driver, Keys.ARROW_DOWN)  # and back: the arrows work, the mood stays joy's
    check(pad.get_attribute("aria-valuetext") == text, "arrow keys on the pad change and restore the mood")

    # the built-in composer, chosen with the keyboard: it puts a chord on every cut, which the
    # check of the new MIDI below relies on (the learned model is free not to)
    tab_to(driver, "a.id === 'composer'", "the composer select")
    press(driver, "rules")
    check(driver.execute_script("return document.getElementById('composer').value") == "rules",
          "typing 'rules' chose the built-in composer")

    # Re-render with Enter on the focused button
    old_src = driver.execute_script("return document.getElementById('video').src")
    revision = get_job(base, job_id)["revision"]
    tab_to(driver, "a.id === 'rerender'", "the Re-render button")
    shot("3-edited")
    press(driver, Keys.ENTER)
    job = wait_job(base, job_id, lambda j: j.get("revision", 0) > revision and j.get("state") == "done",
                   timeout, "the re-render")
    ok(f"the revision went from {revision} to {job['revision']}")
    plan = job.get("plan") or {}
    got = plan.get("boundaries")
    check(got is not None and len(got) == len(expected) and all(close(a, b) for a, b in zip(got, expected)),
          f"the plan sent has the edited cuts (sent {got}, want {expected})")
    scenes = plan.get("scenes") or []
    # the analysis's mood changes between two boundaries (a shot of its own) stay where no mood
    # was set: not in scene 1 (joy), nor after the removed cut (its scene merged into the one
    # before, which keeps its own moods)
    removed = float(bounds[-1]) if n >= 2 else float("inf")
    analysed = {float(s["start"]): s for s in job["analysis"]["emotion"]["scenes"]}
    inner = [t for t in analysed if t > expected[0] + 0.1 and t < removed - 0.1
             and all(abs(t - float(b)) > 1e-6 for b in bounds)]
    check(inner, f"the analysis has a mood change between two cuts to keep ({sorted(analysed)})")
    starts = sorted([0.0] + expected + inner)
    check(len(scenes) == len(starts) and all(close(s["start"], t) for s, t in zip(scenes, starts)),
          f"the plan's scenes start at 0, at each cut and at the analysis's mood changes between "
          f"cuts {inner} ({[s.get('start') for s in scenes]})")
    for t in inner:
        got_t = [s for s in scenes if close(s["start"], t)]
        check(got_t and close(got_t[0]["valence"], analysed[t]["valence"], 1e-3)
              and close(got_t[0]["arousal"], analysed[t]["arousal"], 1e-3),
              f"the mood analysed from {t:.2f} s is in the plan ({got_t[:1]})")
    check(scenes and close(scenes[0]["valence"], joy[0], 1e-3) and close(scenes[0]["arousal"], joy[1], 1e-3),
          f"scene 1 is joy in the plan ({scenes[0] if scenes else None}, joy = {joy})")
    check(all(k in plan for k in ("composer", "seed", "original_audio")), f"the plan has the settings ({sorted(plan)})")
    check(plan.get("composer") == "rules", f"the plan asks for the chosen composer ({plan.get('composer')})")
    try:
        wait(driver, 30, lambda d: f"r={job['revision']}" in d.execute_script(
            "return document.getElementById('video').src"), "the player to load the new render")
        ok("the player loads the new render")
    except Fatal as e:
        fail(str(e))
    new_src = driver.execute_script("return document.getElementById('video').src")
    check(new_src != old_src and new_src, f"the video's src changed ({old_src} -> {new_src})")
    head = driver.execute_async_script("""
        const done = arguments[0], a = document.getElementById('dl-midi');
        if (!a.href || !a.hasAttribute('download')) return done('no download link');
        fetch(a.href).then(r => r.arrayBuffer())
            .then(b => done(String.fromCharCode(...new Uint8Array(b.slice(0, 4)))), e => done(String(e)));""")
    check(head == "MThd", f"the MIDI link gives a MIDI file (starts with {head!r})")
    moved_at = expected[0]
    if EMSYNC:  # a second route: emsync eval on the served MIDI finds a chord onset at the moved cut
        with tempfile.TemporaryDirectory() as tmp:
            mid = os.path.join(tmp, "rerender.mid")
            with urllib.request.urlopen(f"{base}api/jobs/{job_id}/midi", timeout=30) as r, open(mid, "wb") as f:
                f.write(r.read())
            got = subprocess.run([EMSYNC, "eval", mid, "--cuts", f"{moved_at:g}", "--json", "-", "-q"],
                                 capture_output=True, text=True)
            hit = json.loads(got.stdout).get("hit_rate_100ms") if got.returncode == 0 else None
            check(hit == 1, f"the new MIDI has a chord within 0.1 s of the moved cut at {moved_at:g} s "
                            f"(hit rate {hit}; {got.stderr.strip()[:200]})")
    names = driver.execute_script("return [...document.querySelectorAll('#chords .chord')].map(c => c.textContent)")
    check(names, f"the timeline shows the render's chords ({names[:8]})")
    for link in ("dl-video", "dl-wav", "dl-json"):
        href = driver.find_element(By.ID, link).get_attribute("href")
        check(href and f"/api/jobs/{job_id}/" in href, f"the {link[3:]} download link ({href})")
    shot("4-result")

    # a phone's width
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 375, "height": 800, "deviceScaleFactor": 2, "mobile": True})
    time.sleep(0.5)
    w = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth,"
                              " document.getElementById('track').getBoundingClientRect().right]")
    check(w[1] == 375, f"the window is 375 px wide ({w[1]})")
    check(w[0] <= w[1], f"no sideways scrolling at 375 px (scrollWidth {w[0]}, innerWidth {w[1]})")
    check(w[2] <= w[1], f"the timeline fits the width ({w[2]:.0f} px)")
    shot("5-phone")
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    edit_model_checks(driver)
    errors = console_errors(driver)
    check(not errors, f"no console error {errors if errors else ''}")
    foreign = foreign_requests(driver, base)
    check(not foreign, f"no request to another host {foreign[:5] if foreign else ''}")
    return job_id, driver.execute_script(
        "return document.querySelector('meta[name=\"emsync-token\"]').content")


def edit_model_checks(driver):
    """The editor's model on an analysis whose times are not round (a 29.97 fps video): the
    page's cuts are rounded to 3 places, the analysis's starts are not."""
    got = driver.execute_script("""
        const saved = JSON.stringify({cuts: state.cuts, moods: state.moods, selected: state.selected,
                                      duration: state.duration});
        const scenes = [{start: 0, valence: -0.1, arousal: 0}, {start: 4.12913, valence: 0.38, arousal: 0.26},
                        {start: 6.47313, valence: 0.06, arousal: 0.12}, {start: 8.38271, valence: -0.18, arousal: 0.12}];
        const m = moodsFor([4.129, 8.383], scenes);
        const out = {moods: m.map((x) => [x.v, x.parts.map((p) => p.start)])};
        state.duration = 11.3;
        state.cuts = [4.129, 8.383];
        state.moods = JSON.parse(JSON.stringify(m));
        moveCut(1, 6);        /* the change at 6.47 s now falls in the last scene */
        out.afterMove = [moodSteps(1).map((p) => p.start), moodSteps(2).map((p) => p.start)];
        state.selected = 2;
        setMood(0.5, 0.5);    /* the last scene's mood is set: it holds its whole scene */
        moveCut(1, 7);
        out.afterSet = [moodSteps(1).map((p) => p.start), moodSteps(2).map((p) => [p.start, p.v])];
        const back = JSON.parse(saved);
        Object.assign(state, back);
        renderAll();
        return out;""")
    moods = got["moods"]
    check(moods[1][0] == 0.38 and moods[1][1] == [6.47313] and moods[2][0] == -0.18 and moods[2][1] == []
          and moods[0][1] == [], f"a 29.97 fps analysis: each cut's scene starts with the mood analysed "
          f"at that cut, the shot between two cuts is a part ({moods})")
    check(got["afterMove"] == [[4.129], [6, 6.47313]],
          f"moving a cut before a mood change moves the change to the next scene ({got['afterMove']})")
    check(got["afterSet"] == [[4.129, 6.47313], [[7, 0.5]]],
          f"a scene whose mood was set holds it; the other keeps the change ({got['afterSet']})")


def delete_job(base, job_id, token):
    req = urllib.request.Request(f"{base}api/jobs/{job_id}", method="DELETE",
                                 headers={"X-Emsync-Token": token})
    try:
        urllib.request.urlopen(req, timeout=30).close()
    except OSError:
        pass  # the job expires anyway


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("base_url")
    ap.add_argument("video")
    ap.add_argument("--timeout", type=float, default=240,
                    help="seconds to wait for each render, the analysis included (240: sanitizer builds are slow)")
    ap.add_argument("--screenshots", metavar="DIR", help="save screenshots there")
    ap.add_argument("--keep-job", action="store_true", help="do not delete the job at the end")
    ap.add_argument("--emsync", metavar="BIN", help="check the re-rendered MIDI with BIN eval")
    args = ap.parse_args()
    global EMSYNC
    EMSYNC = args.emsync
    base = args.base_url if args.base_url.endswith("/") else args.base_url + "/"
    if not os.path.isfile(args.video):
        print(f"page_test: {args.video}: no such file", file=sys.stderr)
        return 2
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
    try:
        driver = start_browser()
    except WebDriverException as e:
        print(f"FAIL: cannot start headless Chromium: {e.msg}", flush=True)
        return 1
    job = None
    try:
        job = run(driver, base, args.video, args.timeout, args.screenshots)
    except Fatal as e:
        fail(str(e))
        if args.screenshots:
            driver.save_screenshot(os.path.join(args.screenshots, "failed.png"))
        for m in console_errors(driver):
            print(f"console: {m}")
    except WebDriverException as e:
        fail(f"the browser: {e.msg}")
    except OSError as e:  # the server stopped answering
        fail(f"the server: {e}")
    finally:
        driver.quit()
    if job and not args.keep_job:
        delete_job(base, *job)
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        return 1
    print("page test: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
