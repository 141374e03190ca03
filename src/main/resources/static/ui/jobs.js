'use strict';
// The jobs page: the jobs of GET /jobs, kept live by GET /jobs/events. EventSource cannot send an
// Authorization header, so the event stream is read with fetch() and a stream reader instead, and
// every call carries the token typed in above. The token stays in sessionStorage: it goes with the
// tab, and no other origin can read it.

const TOKEN_KEY = 'blockpull.token';
const FINISHED = new Set(['concluded', 'null']);
// The API lives one level up from /ui/, also behind a proxy that adds a path prefix.
const API = new URL('..', window.location.href);
const rows = new Map();
let lastEventId = null;
let stream = null;

const $ = (selector, root = document) => root.querySelector(selector);

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

function headers(extra) {
  const h = { Accept: 'application/json', ...extra };
  if (token()) {
    h.Authorization = `Bearer ${token()}`;
  }
  return h;
}

/** A call of the API; a problem answer becomes an Error with its detail. */
async function api(path, { method = 'GET', body, type = 'application/json' } = {}) {
  const response = await fetch(new URL(path, API), {
    method,
    headers: headers(body === undefined ? {} : { 'Content-Type': type }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(problemText(response, text));
  }
  return text ? JSON.parse(text) : null;
}

function problemText(response, text) {
  if (response.status === 401) {
    return 'This service needs a bearer token: type it above and press "Use token".';
  }
  try {
    const problem = JSON.parse(text);
    return `${response.status} ${problem.title || ''}: ${problem.detail || ''}`;
  } catch (e) {
    return `${response.status} ${response.statusText}`;
  }
}

function say(text) {
  const message = $('#message');
  message.textContent = text || '';
  message.hidden = !text;
}

// ------------------------------------------------------------------ numbers as people read them

function human(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** 1048576, 512K, 50M, 1.5G: bytes, binary multiples as the CLI and qemu-img read them. */
function parseSize(text) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?(?:\/s)?\s*$/i.exec(text);
  if (!m) {
    throw new Error(`'${text}' is not a speed: write e.g. 1048576, 512K or 50M (0 = no limit)`);
  }
  return Math.round(Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase()));
}

function percent(job) {
  if (job.totalProgress > 0) {
    return Math.min(100, Math.floor((job.currentProgress * 100) / job.totalProgress));
  }
  return job.result === 'completed' ? 100 : 0;
}

function eta(seconds) {
  if (seconds === null || seconds === undefined) {
    return '';
  }
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

// ------------------------------------------------------------------ the table

function rowOf(id) {
  let row = rows.get(id);
  if (!row) {
    row = $('#job-row').content.firstElementChild.cloneNode(true);
    row.dataset.jobId = id;
    $('.id', row).textContent = id;
    for (const button of row.querySelectorAll('button[data-verb]')) {
      button.addEventListener('click', () => verb(id, button.dataset.verb));
    }
    $('form.speed', row).addEventListener('submit', (e) => {
      e.preventDefault();
      setSpeed(id, $('input', e.target).value);
    });
    rows.set(id, row);
    $('#jobs tbody').append(row);
    $('#empty').hidden = true;
  }
  return row;
}

/** Draws a job as the API shows it (a job body, or one patched by a JOB_PROGRESS). */
/**
 * Answers are shown in the order their requests were sent: the answer to a Resume can arrive after
 * the GET that a later status event sent, and must not put the older state back.
 */
let requestsSent = 0;

function show(job, sentAs) {
  const row = rowOf(job.id);
  if (sentAs !== undefined) {
    if (sentAs < (row.sentAs || 0)) {
      return;
    }
    row.sentAs = sentAs;
  }
  const before = row.dataset.status;
  row.job = job;
  row.dataset.status = job.status;
  row.dataset.result = job.result || '';
  const p = percent(job);
  row.dataset.percent = String(p);
  $('.status', row).textContent = job.paused && !FINISHED.has(job.status) && job.status !== 'paused'
    ? `${job.status} (pausing)` : job.status;
  $('.fill', row).style.width = `${p}%`;
  $('.percent', row).textContent = `${p}%`;
  $('.rate', row).textContent = job.bytesPerSecond > 0 ? `${human(job.bytesPerSecond)}/s` : '';
  $('.eta', row).textContent = eta(job.etaSeconds);
  const result = $('.result', row);
  result.textContent = job.result || '';
  if (job.error) {
    const error = document.createElement('div');
    error.className = 'error';
    error.textContent = job.error;
    result.append(error);
  }
  const finished = FINISHED.has(job.status);
  $('button[data-verb="pause"]', row).disabled = finished || job.paused;
  $('button[data-verb="resume"]', row).disabled = finished || !job.paused;
  $('button[data-verb="cancel"]', row).disabled = finished;
  $('form.speed button', row).disabled = finished;
  // The chain changes when a stream finishes (its layers are dropped): read it again then.
  if (before === undefined || (finished && !FINISHED.has(before))) {
    showChain(row, job.device);
  }
}

async function showChain(row, device) {
  const cell = $('.chain', row);
  try {
    const chain = await api(`nodes/${encodeURIComponent(device)}/chain`);
    cell.textContent = chain.map((node) => node.nodeName).join(' → ');
    cell.title = chain.map((node) => `${node.nodeName}: ${node.filename || '-'}`).join('\n');
  } catch (e) {
    cell.textContent = `${device} (closed)`;
  }
}

async function refresh(id) {
  try {
    const sentAs = ++requestsSent;
    show(await api(`jobs/stream/${encodeURIComponent(id)}`), sentAs);
  } catch (e) {
    say(e.message);
  }
}

async function loadJobs() {
  const sentAs = ++requestsSent;
  const jobs = await api('jobs?pageSize=1000');
  for (const job of jobs) {
    show(job, sentAs);
  }
  $('#empty').hidden = rows.size > 0;
}

async function verb(id, name) {
  // The page's Cancel is meant: also for a paused job (block-job-cancel's force).
  const path = `jobs/stream/${encodeURIComponent(id)}/${name === 'cancel' ? 'cancel?force=true' : name}`;
  try {
    const sentAs = ++requestsSent;
    show(await api(path, { method: 'POST' }), sentAs);
    say('');
  } catch (e) {
    say(e.message);
  }
}

async function setSpeed(id, text) {
  try {
    const speed = parseSize(text);
    const sentAs = ++requestsSent;
    show(await api(`jobs/stream/${encodeURIComponent(id)}`,
      { method: 'PATCH', body: { speed }, type: 'application/merge-patch+json' }), sentAs);
    say('');
  } catch (e) {
    say(e.message);
  }
}

// ------------------------------------------------------------------ the event stream

function onEvent(name, data) {
  if (name === 'JOB_PROGRESS') {
    const row = rows.get(data.id);
    if (row && row.job) {
      show({ ...row.job, currentProgress: data.offset, totalProgress: data.len,
        bytesPerSecond: data.bytesPerSecond, etaSeconds: data.etaSeconds });
    }
    return;
  }
  // Status changes and completions: the job body has what changed (paused, result, error).
  refresh(data.id || data.device);
}

/** Reads SSE blocks ("event:", "id:", "data:" lines, a blank line after each) until the end. */
async function readEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return;
    }
    buffer += value.replace(/\r\n/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = null;
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) {
          name = line.slice(6).trim();
        } else if (line.startsWith('id:')) {
          lastEventId = line.slice(3).trim();
        } else if (line.startsWith('data:')) {
          data += line.slice(5).trim();
        }
      }
      if (name) {
        onEvent(name, JSON.parse(data));
      }
    }
  }
}

/** Follows /jobs/events for as long as the page is open; reconnects with Last-Event-ID. */
async function follow() {
  if (stream) {
    stream.abort();
  }
  const controller = new AbortController();
  stream = controller;
  while (!controller.signal.aborted) {
    try {
      const extra = { Accept: 'text/event-stream' };
      if (lastEventId !== null) {
        extra['Last-Event-ID'] = lastEventId;
      }
      const response = await fetch(new URL('jobs/events', API), { headers: headers(extra), signal: controller.signal });
      if (!response.ok) {
        throw new Error(problemText(response, await response.text()));
      }
      // The stream is open before the jobs are read, so no change falls in between.
      await loadJobs();
      $('#connection').textContent = 'live';
      $('#connection').classList.add('live');
      say('');
      await readEvents(response);
    } catch (e) {
      if (controller.signal.aborted) {
        return;
      }
      say(e.message);
    }
    $('#connection').textContent = 'reconnecting…';
    $('#connection').classList.remove('live');
    await new Promise((resolve) => { setTimeout(resolve, 2000); });
  }
}

$('#token').value = token();
$('#token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('#token').value.trim());
  lastEventId = null;
  follow();
});
follow();
