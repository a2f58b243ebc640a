/* emsync serve: the page. Uploads a video, follows the job, shows and edits the timeline (cuts
 * and per-scene moods), sends the edited plan and plays the result. Plain ES2017, no libraries:
 * everything comes from the emsync binary. */
'use strict';

const $ = (id) => document.getElementById(id);
const TOKEN = document.querySelector('meta[name="emsync-token"]').content;
const POLL_MS = 500;
const MIN_GAP = 0.1;          /* seconds between two cuts, and between a cut and either end */
const PAD_STEP = 0.05;

const state = {
  config: null,
  jobId: null,
  job: null,                  /* the last GET /api/jobs/ID answer */
  editing: false,             /* the analysis is in: the editor is shown */
  duration: 0,
  cuts: [],                   /* the edited boundaries, ascending seconds */
  moods: [],                  /* one {v, a, parts} per scene: cuts.length + 1; parts are the
                                 analysis's mood changes inside the scene ({start, v, a}, a
                                 shot between two cuts), kept until the scene's mood is set;
                                 set: the user chose the scene's mood */
  selected: 0,                /* the scene the mood controls edit */
  selectedCut: -1,
  thumbs: [],                 /* {from, to, href}: fractions of the duration */
  chords: [],                 /* {time, name} of the last render */
  shownRevision: -1,
  pollTimer: 0,
  lastPhrase: '',
  sending: false,             /* a plan is on its way */
};

/* ---- small helpers ---- */

const round3 = (x) => Math.round(x * 1000) / 1000;
const round2 = (x) => Math.round(x * 100) / 100;
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
const fmtTime = (t) => `${t.toFixed(2)} s`;
const fmtBytes = (n) => (n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GB` : `${(n / (1 << 20)).toFixed(1)} MB`);
const signed = (x) => (x >= 0 ? '+' : '\u2212') + Math.abs(x).toFixed(2);

function el(tag, props, children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children || []) e.append(c);
  return e;
}

function svgEl(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

/* JSON in and out; the server's {"error"} becomes the thrown message. Changes carry the token. */
async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (method !== 'GET') opts.headers['X-Emsync-Token'] = TOKEN;
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  if (r.status === 204) return null;
  let data = null;
  try { data = await r.json(); } catch (e) { /* not JSON: reported below */ }
  if (!r.ok) {
    const err = new Error((data && data.error) || `${method} ${path}: HTTP ${r.status}`);
    err.status = r.status;
    throw err;
  }
  return data;
}

function jobUrl(what) {
  return `/api/jobs/${state.jobId}${what ? '/' + what : ''}`;
}

/* ---- status, errors, announcements ---- */

/* The live region only gets a new phrase when the stage changes, so screen readers are not
 * flooded by every percent; the bar shows the percent. */
function setStatus(phrase, progress) {
  if (phrase !== state.lastPhrase) {
    $('status').textContent = phrase;
    state.lastPhrase = phrase;
  }
  const wrap = $('progress-wrap');
  if (progress === null || progress === undefined) {
    wrap.hidden = true;
    return;
  }
  wrap.hidden = false;
  const bar = $('progress');
  if (progress < 0) {
    bar.removeAttribute('value');     /* indeterminate */
    $('progress-pct').textContent = '';
  } else {
    bar.value = progress;
    $('progress-pct').textContent = `${Math.round(progress * 100)}%`;
  }
}

function showError(message) {
  const e = $('error');
  e.textContent = message || '';
  e.hidden = !message;
}

function announce(text) {
  $('announce').textContent = text;
}

/* ---- config ---- */

function fillSelect(select, items, labelOf) {
  select.replaceChildren(...items.map((it) => {
    const [value, label] = labelOf ? labelOf(it) : [it, it];
    return el('option', { value, textContent: label });
  }));
}

async function loadConfig() {
  const c = await api('GET', '/api/config');
  state.config = c;
  fillSelect($('composer'), c.composers);
  fillSelect($('original-audio'), c.original_audio);
  fillSelect($('soundfont'), c.soundfonts, (s) => [s.path, s.name]);
  $('soundfont').disabled = !c.soundfonts.length;
  fillSelect($('emotion'), ['', ...c.emotions], (n) => [n, n || '(custom)']);
  $('version').textContent = `emsync ${c.version}`;
}

/* ---- upload ---- */

function uploadFile(file) {
  showError('');
  const max = state.config ? state.config.max_upload : Infinity;
  if (file.size > max) {
    showError(`${file.name} is ${fmtBytes(file.size)}; this server takes at most ${fmtBytes(max)}.`);
    return;
  }
  resetJob();
  $('job-name').textContent = file.name;
  $('job-head').hidden = false;
  $('drop').hidden = true;
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/jobs');
  xhr.setRequestHeader('X-Emsync-Token', TOKEN);
  xhr.responseType = 'json';
  xhr.upload.onprogress = (ev) => {
    setStatus(`Uploading ${file.name}\u2026`, ev.lengthComputable ? ev.loaded / ev.total : -1);
  };
  xhr.onload = () => {
    const body = xhr.response || {};
    if (xhr.status !== 201 || !body.id) {
      uploadFailed(body.error || `the upload failed (HTTP ${xhr.status})`);
      return;
    }
    openJob(body.id);
  };
  xhr.onerror = () => uploadFailed('the upload failed: the server did not answer');
  setStatus(`Uploading ${file.name}\u2026`, 0);
  const form = new FormData();
  form.append('video', file, file.name);
  xhr.send(form);
}

function uploadFailed(message) {
  setStatus('Upload failed.', null);
  showError(message);
  showDrop();
}

/* back to "choose a video" (the job, if any, stays on the server) */
function showDrop() {
  $('drop').hidden = false;
  $('job-head').hidden = true;
}

function setupDrop() {
  const drop = $('drop');
  $('file').addEventListener('change', (e) => {
    if (e.target.files.length) uploadFile(e.target.files[0]);
    e.target.value = '';      /* choosing the same file again still uploads it */
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files.length) uploadFile(e.dataTransfer.files[0]);
  });
  /* a file dropped beside the zone must not make the browser leave the page */
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
}

/* ---- following a job ---- */

function resetJob() {
  clearTimeout(state.pollTimer);
  Object.assign(state, {
    jobId: null, job: null, editing: false, duration: 0, cuts: [], moods: [], selected: 0, selectedCut: -1,
    thumbs: [], chords: [], shownRevision: -1, lastPhrase: '',
  });
  for (const id of ['timeline-card', 'mood-card', 'music-card', 'result-card']) $(id).hidden = true;
  $('video').removeAttribute('src');
  $('video').load();
  setStatus('', null);
  showError('');
  if (location.hash) history.replaceState(null, '', location.pathname);
}

function openJob(id) {
  state.jobId = id;
  /* the job stays in the address, so a reload comes back to it */
  history.replaceState(null, '', `#job=${id}`);
  poll();
}

function schedulePoll() {
  clearTimeout(state.pollTimer);
  state.pollTimer = setTimeout(poll, POLL_MS);
}

async function poll() {
  const id = state.jobId;
  if (!id) return;
  let job;
  try {
    job = await api('GET', jobUrl());
  } catch (e) {
    if (id !== state.jobId) return;
    /* the server said no (the job is gone): stop; a network hiccup: try again */
    if (e.status) {
      resetJob();
      showDrop();
      showError(`That job is no longer there (${e.message}). Choose a video.`);
    } else {
      setStatus('Reconnecting to the server\u2026', -1);
      state.pollTimer = setTimeout(poll, 4 * POLL_MS);
    }
    return;
  }
  if (id !== state.jobId) return;   /* another video was chosen meanwhile */
  onJob(job);
  if (job.state === 'queued' || job.state === 'running') schedulePoll();
}

const STAGE_WORDS = { upload: 'Uploaded', analyze: 'Analysing the video', render: 'Making the music' };
/* the steps that emsync itself reports */
const STEP_WORDS = { decode: 'reading the video', compose: 'composing', render: 'synthesising the audio', mux: 'writing the video' };

function onJob(job) {
  state.job = job;
  $('job-name').textContent = job.name || 'video';
  $('job-head').hidden = false;
  $('drop').hidden = true;
  const stage = STAGE_WORDS[job.stage] || job.stage || 'Working';
  const step = job.step ? `: ${STEP_WORDS[job.step] || job.step}` : '';
  if (job.state === 'queued') setStatus(`${stage}: waiting for its turn\u2026`, -1);
  else if (job.state === 'running') setStatus(`${stage}${step}\u2026`, job.progress || 0);
  else if (job.state === 'failed') setStatus('Failed.', null);
  else setStatus(`Done (render ${job.revision}). Play or download the result below.`, null);
  showError(job.state === 'failed' ? job.error || 'the job failed' : '');
  if (job.analysis && !state.editing) startEditing(job);
  if (job.state === 'done' && job.revision !== state.shownRevision) showResult(job);
}

/* ---- the edited plan ---- */

const moodOf = (s) => ({ v: clamp(Number(s.valence) || 0, -1, 1), a: clamp(Number(s.arousal) || 0, -1, 1) });

/* One mood per scene of the given cuts, taken from whichever given scene covers its start, and
 * the given scenes that start inside it as its parts. The cuts are rounded to 3 places and the
 * given starts are not (a 29.97 fps cut at 4.12913 s is the cut at 4.129), so they are compared
 * rounded. */
function moodsFor(cuts, scenes) {
  const starts = [0, ...cuts];
  return starts.map((t, i) => {
    const end = i < cuts.length ? cuts[i] : Infinity;
    let m = scenes[0] || { valence: 0, arousal: 0 };
    for (const s of scenes) if (round3(s.start) <= t) m = s;
    const parts = scenes.filter((s) => round3(s.start) > t && round3(s.start) < end)
      .map((s) => Object.assign({ start: Number(s.start) }, moodOf(s)));
    return Object.assign(moodOf(m), { parts });
  });
}

/* Scene i's moods over time: its own from its start, then its parts inside its span. */
function moodSteps(i) {
  const start = sceneStarts()[i], end = sceneEnd(i), m = state.moods[i];
  const inside = (m.parts || []).filter((p) => p.start >= start + MIN_GAP && p.start <= end - MIN_GAP);
  return [{ start, v: m.v, a: m.a }, ...inside];
}

function analysisPlan(analysis) {
  const cuts = (analysis.cuts && analysis.cuts.boundaries) || [];
  const scenes = (analysis.emotion && analysis.emotion.scenes) || [];
  return { boundaries: cuts, scenes };
}

/* The editor starts from the stored plan (the page was reloaded) or from the analysis. */
function startEditing(job) {
  state.editing = true;
  state.duration = Number(job.analysis.duration) || 0;
  const plan = job.plan && job.plan.boundaries ? job.plan : analysisPlan(job.analysis);
  const fallback = analysisPlan(job.analysis).scenes;
  const scenes = plan.scenes && plan.scenes.length ? plan.scenes : fallback;
  setModel(plan.boundaries.filter((t) => t > 0 && t < state.duration), scenes);
  applySettings(job.plan || {});
  for (const id of ['timeline-card', 'mood-card', 'music-card']) $(id).hidden = false;
  if (job.outputs && job.outputs.timeline) loadThumbs();
  renderAll();
}

function setModel(cuts, scenes) {
  state.cuts = cuts.map(round3);
  state.moods = moodsFor(state.cuts, scenes);
  state.selected = 0;
  state.selectedCut = -1;
}

function applySettings(p) {
  const setIf = (id, v) => {
    const s = $(id);
    if (v !== undefined && [...s.options].some((o) => o.value === String(v))) s.value = String(v);
  };
  setIf('composer', p.composer);
  setIf('original-audio', p.original_audio);
  setIf('soundfont', p.soundfont);
  if (Number.isInteger(p.seed)) $('seed').value = p.seed;
}

function sceneStarts() {
  return [0, ...state.cuts];
}

function sceneEnd(i) {
  return i < state.cuts.length ? state.cuts[i] : state.duration;
}

function sceneAt(t) {
  let i = 0;
  while (i < state.cuts.length && t >= state.cuts[i]) i++;
  return i;
}

function buildPlan() {
  const seed = Number($('seed').value);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2147483647) throw new Error('the seed must be a whole number from 0 to 2147483647');
  const plan = {
    boundaries: state.cuts.slice(),
    scenes: sceneStarts().flatMap((start, i) => moodSteps(i).map((p) => ({ start: p.start, valence: p.v, arousal: p.a }))),
    composer: $('composer').value,
    seed,
    original_audio: $('original-audio').value,
  };
  if ($('soundfont').value) plan.soundfont = $('soundfont').value;
  return plan;
}

async function rerender(e) {
  e.preventDefault();
  if (!state.jobId || !state.editing || state.sending) return;
  let plan;
  try {
    plan = buildPlan();
  } catch (err) {
    showError(err.message);
    $('seed').focus();
    return;
  }
  showError('');
  /* not `disabled`: that would drop the keyboard focus from the button */
  state.sending = true;
  $('rerender').setAttribute('aria-busy', 'true');
  try {
    await api('PUT', jobUrl('plan'), plan);
    setStatus('Making the music: waiting for its turn\u2026', -1);
    poll();
  } catch (err) {
    showError(err.message);
  } finally {
    state.sending = false;
    $('rerender').removeAttribute('aria-busy');
  }
}

/* ---- editing cuts ---- */

/* Where cut k may go: between its neighbours (or the ends), MIN_GAP away. */
function cutRange(k) {
  const lo = (k > 0 ? state.cuts[k - 1] : 0) + MIN_GAP;
  const hi = (k + 1 < state.cuts.length ? state.cuts[k + 1] : state.duration) - MIN_GAP;
  return [round3(lo), round3(hi)];
}

/* The analysis's mood changes stay at their times, in whichever of the two scenes they fall,
 * unless that scene's mood was set. */
function moveCut(k, t) {
  const [lo, hi] = cutRange(k);
  state.cuts[k] = round3(clamp(t, lo, hi));
  const open = [state.moods[k], state.moods[k + 1]].filter((m) => !m.set);
  const pool = [];
  for (const m of open) for (const p of m.parts || []) if (!pool.some((q) => q.start === p.start)) pool.push(p);
  pool.sort((a, b) => a.start - b.start);
  for (const m of open) m.parts = pool.slice();
  positionCuts();
  renderThumbs();
  renderCurves();
  renderSceneSelect();
}

/* A new cut splits its scene; the new half starts with the mood in force at the cut, and both
 * keep the mood changes inside them. Returns its index, or -1. */
function addCut(t) {
  t = round3(t);
  const i = sceneAt(t);
  const lo = i > 0 ? state.cuts[i - 1] : 0;
  if (t - lo < MIN_GAP || sceneEnd(i) - t < MIN_GAP) return -1;
  const m = state.moods[i];
  let now = { v: m.v, a: m.a };
  for (const p of m.parts || []) if (p.start <= t) now = { v: p.v, a: p.a };
  state.cuts.splice(i, 0, t);
  state.moods.splice(i + 1, 0, Object.assign(now, { parts: (m.parts || []).slice(), set: m.set }));
  if (state.selected > i) state.selected++;
  return i;
}

/* Removing cut k merges scene k+1 into scene k, which keeps its own mood. */
function removeCut(k) {
  state.cuts.splice(k, 1);
  state.moods.splice(k + 1, 1);
  if (state.selected > k) state.selected--;
  state.selectedCut = -1;
}

/* "Add cut": at the player's time when that makes a new scene, else in the middle of the
 * selected scene (or of the longest one if that is too short). */
function addCutButton() {
  const v = $('video');
  const candidates = [];
  if (v.currentSrc && v.currentTime > 0) candidates.push(v.currentTime);
  const mid = (i) => (sceneStarts()[i] + sceneEnd(i)) / 2;
  candidates.push(mid(state.selected));
  let longest = 0;
  for (let i = 1; i <= state.cuts.length; i++) if (sceneEnd(i) - sceneStarts()[i] > sceneEnd(longest) - sceneStarts()[longest]) longest = i;
  candidates.push(mid(longest));
  for (const t of candidates) {
    const k = addCut(t);
    if (k >= 0) {
      renderAll();
      focusCut(k);
      announce(`Cut added at ${fmtTime(state.cuts[k])}.`);
      return;
    }
  }
  announce('No room for another cut.');
}

function removeCutAndFocus(k) {
  const t = state.cuts[k];
  removeCut(k);
  renderAll();
  /* keep the keyboard where it was: the next cut, else the previous, else the Add button */
  if (state.cuts.length) focusCut(Math.min(k, state.cuts.length - 1));
  else $('add-cut').focus();
  announce(`Cut at ${fmtTime(t)} removed.`);
}

function focusCut(k) {
  const b = $('cuts').children[k];
  if (b) b.focus();
}

/* ---- editing moods ---- */

/* The chosen mood holds for the whole scene: the analysis's changes inside it are dropped. */
function setMood(v, a) {
  const m = state.moods[state.selected];
  m.v = round3(clamp(v, -1, 1));   /* 3 places: an emotion's mood is kept exactly */
  m.a = round3(clamp(a, -1, 1));
  m.parts = [];
  m.set = true;
  renderPad();
  renderCurves();
}

function selectScene(i) {
  state.selected = clamp(i, 0, state.cuts.length);
  renderSceneSelect();
  renderPad();
  renderThumbs();
}

function emotionOf(m) {
  const moods = (state.config && state.config.emotion_moods) || {};
  for (const [name, va] of Object.entries(moods))
    if (Math.abs(va[0] - m.v) < 0.005 && Math.abs(va[1] - m.a) < 0.005) return name;
  return '';
}

/* ---- drawing ---- */

function renderAll() {
  renderThumbs();
  renderCurves();
  renderChords();
  renderCuts();
  renderAxis();
  renderSceneSelect();
  renderPad();
  $('remove-cut').disabled = state.selectedCut < 0;
}

const pct = (t) => `${(100 * t / (state.duration || 1)).toFixed(3)}%`;

function thumbFor(from, to) {
  const mid = (from + to) / 2 / (state.duration || 1);
  const t = state.thumbs.find((x) => mid >= x.from && mid <= x.to);
  return t ? t.href : null;
}

/* Scene boxes are updated in place: a drag redraws them on every move, and rebuilding would
 * decode every thumbnail again. */
function renderThumbs() {
  const box = $('thumbs');
  const starts = sceneStarts();
  while (box.children.length > starts.length) box.lastChild.remove();
  while (box.children.length < starts.length) {
    box.append(el('div', { className: 'scene' }, [el('img', { className: 'thumb', alt: '' }), el('span', { className: 'scene-no' })]));
  }
  starts.forEach((start, i) => {
    const scene = box.children[i];
    const end = sceneEnd(i);
    scene.classList.toggle('selected', i === state.selected);
    scene.style.left = pct(start);
    scene.style.width = pct(end - start);
    scene.lastChild.textContent = String(i + 1);
    const img = scene.firstChild;
    const href = thumbFor(start, end);
    img.hidden = !href;
    if (href && img.getAttribute('src') !== href) img.src = href;
  });
}

/* Valence and arousal as steps, scene by scene; y = 0 is +1, y = 100 is -1. */
function renderCurves() {
  const svg = $('curves');
  const y = (x) => (50 - 46 * x).toFixed(2);
  const xs = (t) => (1000 * t / (state.duration || 1)).toFixed(2);
  const line = (key) => {
    const pts = [];
    sceneStarts().forEach((start, i) => {
      const steps = moodSteps(i);
      steps.forEach((p, k) => pts.push(`${xs(p.start)},${y(p[key])}`, `${xs(k + 1 < steps.length ? steps[k + 1].start : sceneEnd(i))},${y(p[key])}`));
    });
    return pts.join(' ');
  };
  const sel = state.selected;
  svg.replaceChildren(
    svgEl('rect', { class: 'sel', x: xs(sceneStarts()[sel]), y: 0, width: xs(sceneEnd(sel) - sceneStarts()[sel]), height: 100 }),
    svgEl('line', { class: 'zero', x1: 0, x2: 1000, y1: 50, y2: 50 }),
    svgEl('polyline', { class: 'valence', points: line('v') }),
    svgEl('polyline', { class: 'arousal', points: line('a') }),
  );
}

/* Chord names of the last render; a name that would overlap the one before is left out. */
function renderChords() {
  const box = $('chords');
  const width = box.clientWidth || 300;
  let lastRight = -Infinity;
  const items = [];
  for (const c of state.chords) {
    const x = width * c.time / (state.duration || 1);
    const w = 7 * c.name.length + 8;
    if (x < lastRight || c.time > state.duration) continue;
    lastRight = x + w;
    const s = el('span', { className: 'chord', textContent: c.name, title: `${c.name} at ${fmtTime(c.time)}` });
    s.style.left = pct(c.time);
    items.push(s);
  }
  box.replaceChildren(...items);
  box.hidden = !state.chords.length;
  $('chord-key').hidden = !state.chords.length;
}

function cutLabel(k) {
  return `Cut ${k + 1} at ${fmtTime(state.cuts[k])}`;
}

function renderCuts() {
  const box = $('cuts');
  box.replaceChildren(...state.cuts.map((t, k) => {
    const b = el('button', { type: 'button', className: 'cut' }, [el('span', { className: 'cut-time' })]);
    b.setAttribute('aria-describedby', 'timeline-help');
    b.dataset.cut = k;
    return b;
  }));
  positionCuts();
}

function positionCuts() {
  [...$('cuts').children].forEach((b, k) => {
    b.style.left = pct(state.cuts[k]);
    b.setAttribute('aria-label', cutLabel(k));
    b.firstChild.textContent = state.cuts[k].toFixed(1);
    b.classList.toggle('selected', k === state.selectedCut);
  });
}

/* Round tick steps (1, 2, 5 x 10^n s) with about one label per 70 px. */
function renderAxis() {
  const box = $('axis');
  const d = state.duration || 1;
  const n = Math.max(2, Math.floor((box.clientWidth || 300) / 70));
  let step = 1e-3;
  for (const m of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]) {
    step = m * 0.1;
    if (d / step <= n) break;
  }
  const ticks = [];
  for (let t = 0; t <= d - step * 0.3; t += step) ticks.push(t);
  box.replaceChildren(...ticks.map((t) => {
    const s = el('span', { textContent: `${+t.toFixed(1)} s` });
    s.style.left = pct(t);
    return s;
  }), el('span', { className: 'end', textContent: `${+d.toFixed(1)} s` }));
}

function renderSceneSelect() {
  const s = $('scene');
  const starts = sceneStarts();
  fillSelect(s, starts.map((t, i) => i), (i) => [String(i), `Scene ${i + 1}: ${starts[i].toFixed(1)}\u2013${sceneEnd(i).toFixed(1)} s`]);
  s.value = String(state.selected);
}

function renderPad() {
  const m = state.moods[state.selected];
  if (!m) return;
  const dot = $('pad-dot');
  dot.style.left = `${(m.v + 1) * 50}%`;
  dot.style.top = `${(1 - m.a) * 50}%`;
  const pad = $('pad');
  const text = `valence ${signed(m.v)}, arousal ${signed(m.a)}`;
  pad.setAttribute('aria-valuenow', String(m.v));
  pad.setAttribute('aria-valuetext', text);
  pad.setAttribute('aria-label', `Mood of scene ${state.selected + 1}: valence left to right, arousal bottom to top`);
  const more = moodSteps(state.selected).slice(1);
  $('mood-readout').textContent = `Scene ${state.selected + 1}: ${text}` + (more.length
    ? `; then as analysed from ${more.map((p) => fmtTime(p.start)).join(', ')} (a new mood replaces ${more.length > 1 ? 'these' : 'it'})`
    : '');
  $('emotion').value = emotionOf(m);
}

/* ---- timeline and pad input ---- */

function timeAtX(clientX) {
  const r = $('track').getBoundingClientRect();
  return clamp((clientX - r.left) / (r.width || 1), 0, 1) * state.duration;
}

function setupTimeline() {
  const cuts = $('cuts');
  /* dragging a cut: the pointer is captured so it may leave the marker */
  cuts.addEventListener('pointerdown', (e) => {
    const b = e.target.closest('.cut');
    if (!b) return;
    e.preventDefault();
    b.focus();
    b.setPointerCapture(e.pointerId);
    b.classList.add('dragging');
    selectCut(Number(b.dataset.cut));
  });
  cuts.addEventListener('pointermove', (e) => {
    const b = e.target.closest('.cut');
    if (b && b.hasPointerCapture(e.pointerId)) moveCut(Number(b.dataset.cut), timeAtX(e.clientX));
  });
  const endDrag = (e) => {
    const b = e.target.closest('.cut');
    if (b) b.classList.remove('dragging');
  };
  cuts.addEventListener('pointerup', endDrag);
  cuts.addEventListener('pointercancel', endDrag);
  cuts.addEventListener('keydown', cutKey);
  cuts.addEventListener('focusin', (e) => {
    const b = e.target.closest('.cut');
    if (b) selectCut(Number(b.dataset.cut));
  });
  /* a click beside the cuts picks that scene and moves the player there */
  $('track').addEventListener('click', (e) => {
    if (e.target.closest('.cut')) return;
    const t = timeAtX(e.clientX);
    selectScene(sceneAt(t));
    const v = $('video');
    if (v.currentSrc) v.currentTime = t;
  });
  $('add-cut').addEventListener('click', addCutButton);
  $('remove-cut').addEventListener('click', () => {
    if (state.selectedCut >= 0) removeCutAndFocus(state.selectedCut);
  });
  $('reset-edits').addEventListener('click', () => {
    const p = analysisPlan(state.job.analysis);
    setModel(p.boundaries.filter((t) => t > 0 && t < state.duration), p.scenes);
    renderAll();
    announce('Cuts and moods are back to the analysis.');
  });
  /* chords and ticks depend on the width in pixels */
  if (window.ResizeObserver) new ResizeObserver(() => { if (state.duration) { renderChords(); renderAxis(); } }).observe($('track'));
}

function selectCut(k) {
  state.selectedCut = k;
  $('remove-cut').disabled = k < 0;
  positionCuts();
}

function cutKey(e) {
  const b = e.target.closest('.cut');
  if (!b) return;
  const k = Number(b.dataset.cut);
  const step = e.shiftKey ? 1 : 0.1;
  if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
    moveCut(k, state.cuts[k] + (e.key === 'ArrowRight' ? step : -step));
  } else if (e.key === 'Delete' || e.key === 'Backspace') {
    removeCutAndFocus(k);
  } else {
    return;
  }
  e.preventDefault();
}

function padFromPointer(e) {
  const r = $('pad').getBoundingClientRect();
  const v = ((e.clientX - r.left) / r.width) * 2 - 1;
  const a = 1 - ((e.clientY - r.top) / r.height) * 2;
  setMood(round2(v), round2(a));
}

function setupMood() {
  const pad = $('pad');
  pad.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    pad.focus();
    pad.setPointerCapture(e.pointerId);
    padFromPointer(e);
  });
  pad.addEventListener('pointermove', (e) => {
    if (pad.hasPointerCapture(e.pointerId)) padFromPointer(e);
  });
  pad.addEventListener('keydown', (e) => {
    const m = state.moods[state.selected];
    const step = e.shiftKey ? 0.25 : PAD_STEP;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    const d = moves[e.key];
    if (!d || !m) return;
    e.preventDefault();
    setMood(m.v + d[0], m.a + d[1]);
  });
  $('emotion').addEventListener('change', (e) => {
    const va = state.config.emotion_moods[e.target.value];
    if (va) setMood(va[0], va[1]);
  });
  $('scene').addEventListener('change', (e) => selectScene(Number(e.target.value)));
}

/* ---- results ---- */

const stem = (name) => (name || 'video').replace(/\.[^.]*$/, '');

function showResult(job) {
  state.shownRevision = job.revision;
  const r = `?r=${job.revision}`;
  const out = job.outputs || {};
  const v = $('video');
  if (out.video) v.src = jobUrl('video') + r;  /* a new revision is a new URL: the player reloads */
  const links = { 'dl-video': ['video', ''], 'dl-midi': ['midi', '.mid'], 'dl-wav': ['wav', '.wav'], 'dl-json': ['json', '.json'] };
  for (const [id, [what, ext]] of Object.entries(links)) {
    const a = $(id);
    if (out[what]) {
      a.href = jobUrl(what) + r;
      a.download = ext ? `${stem(job.name)}.emsync${ext}` : '';
      a.removeAttribute('aria-disabled');
    } else {
      a.removeAttribute('href');
      a.setAttribute('aria-disabled', 'true');
    }
  }
  $('result-card').hidden = false;
  if (out.timeline) loadThumbs();
  if (out.json) loadReport();
}

/* Thumbnails from the server's timeline picture: one <image class="thumb"> per scene, placed
 * by its scene's rectangle, so they can be reused whatever the edited cuts are. */
async function loadThumbs() {
  const id = state.jobId;
  try {
    const r = await fetch(jobUrl('timeline.svg'));
    if (!r.ok) return;
    const doc = new DOMParser().parseFromString(await r.text(), 'image/svg+xml');
    if (id !== state.jobId) return;
    state.thumbs = thumbsFromSvg(doc);
    renderThumbs();
  } catch (e) { /* no thumbnails: the timeline works without them */ }
}

const hrefOf = (img) => img && (img.getAttribute('href') || img.getAttributeNS('http://www.w3.org/1999/xlink', 'href'));

/* {from, to, href} per scene of the picture, as fractions of the duration: the scenes'
 * rectangles span the time axis, whatever its pixel size. */
function thumbsFromSvg(doc) {
  const scenes = [...doc.querySelectorAll('g.scene')].map((g) => {
    const rect = g.querySelector('rect');
    return {
      x: rect ? parseFloat(rect.getAttribute('x')) : NaN,
      w: rect ? parseFloat(rect.getAttribute('width')) : NaN,
      href: hrefOf(g.querySelector('image.thumb')),
    };
  });
  let placed = scenes.length > 0 && scenes.every((s) => isFinite(s.x) && isFinite(s.w));
  const left = placed ? Math.min(...scenes.map((s) => s.x)) : 0;
  const span = placed ? Math.max(...scenes.map((s) => s.x + s.w)) - left : 0;
  placed = placed && span > 0;
  const list = placed ? scenes : [...doc.querySelectorAll('image.thumb')].map((img) => ({ href: hrefOf(img) }));
  const out = list.map((s, i) => (placed
    ? { from: (s.x - left) / span, to: (s.x + s.w - left) / span, href: s.href }
    : { from: i / list.length, to: (i + 1) / list.length, href: s.href }));
  return out.filter((t) => /^data:image\//.test(t.href || ''));
}

async function loadReport() {
  const id = state.jobId;
  try {
    const report = await api('GET', jobUrl('json'));
    if (id !== state.jobId) return;
    const chords = report && report.music && report.music.chords;
    state.chords = Array.isArray(chords) ? chords.filter((c) => typeof c.time === 'number' && c.name) : [];
    /* with no plan yet, the settings show what the first render used */
    const music = (report && report.music) || {};
    if (!state.job.plan) applySettings({ seed: music.seed, soundfont: music.soundfont });
    renderChords();
  } catch (e) { /* no chords: nothing to show */ }
}

function setupPlayer() {
  const v = $('video');
  const head = $('playhead');
  v.addEventListener('timeupdate', () => {
    if (!state.duration) return;
    head.hidden = false;
    head.style.left = pct(Math.min(v.currentTime, state.duration));
  });
}

/* ---- start ---- */

async function deleteJob() {
  if (!state.jobId || !window.confirm('Delete this video and its results from the server?')) return;
  try {
    await api('DELETE', jobUrl());
    resetJob();
    showDrop();
    announce('Deleted.');
    $('file').focus();
  } catch (e) {
    showError(e.message);
  }
}

async function main() {
  setupDrop();
  setupTimeline();
  setupMood();
  setupPlayer();
  $('settings').addEventListener('submit', rerender);
  $('new-video').addEventListener('click', () => {
    resetJob();
    showDrop();
    $('file').focus();
  });
  $('delete-job').addEventListener('click', deleteJob);
  try {
    await loadConfig();
  } catch (e) {
    showError(`Cannot reach the server: ${e.message}`);
    return;
  }
  const m = /^#job=([0-9a-f]{32})$/.exec(location.hash);
  if (m) openJob(m[1]);
}

main();
