// releasemgr's browser view: the history of system versions, one version's
// services, the diff of two, all from the JSON API of this same server.
// Every text that comes from the server (service names, metadata) is put in
// the page with textContent, never parsed as HTML.
'use strict';

const PAGE = 50;            // versions per page of history
const POLL_MS = 5000;       // how often /status is asked for news

const state = {
  environment: 'default',
  view: null,               // 'history', 'version' or 'diff'
  newest: 0,                // the newest system version shown or known
  oldestShown: 0,           // the oldest version in the history table
  selected: new Set(),      // versions picked for a diff
};

const $ = (id) => document.getElementById(id);

// An element with text (as text, never HTML) and an optional class.
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = !message;
}

function showNotice(message, action) {
  const box = $('notice');
  box.replaceChildren();
  box.hidden = !message;
  if (!message) return;
  box.append(el('span', message + ' '));
  if (action) {
    const button = el('button', action.label);
    button.type = 'button';
    button.addEventListener('click', action.run);
    box.append(button);
  }
}

// GET a JSON resource; throws an Error whose message is fit to show.
async function api(path, params) {
  const query = new URLSearchParams(params || {}).toString();
  let response;
  try {
    response = await fetch(path + (query ? '?' + query : ''), { cache: 'no-cache' });
  } catch (err) {
    throw new Error('The release manager cannot be reached. Retrying when you act again.');
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  if (!response.ok) {
    const detail = body && typeof body.detail === 'string' ? body.detail : response.statusText;
    const error = new Error(detail || ('HTTP ' + response.status));
    error.status = response.status;
    throw error;
  }
  return body;
}

// A time as the viewer's local time, with the UTC instant on hover.
function timeCell(instant) {
  const cell = el('td', instant ? new Date(instant).toLocaleString() : '');
  if (instant) cell.title = instant + ' (UTC)';
  return cell;
}

// "Service A 1 → 2", or "Service A new at 1", with the metadata under it.
function changeCell(change) {
  const cell = el('td', null, 'name');
  const what = change.previousVersion === null
    ? change.name + ' new at ' + change.version
    : change.name + ' ' + change.previousVersion + ' → ' + change.version;
  cell.append(el('span', what));
  const details = [];
  if (change.deployedBy !== undefined) details.push('by ' + change.deployedBy);
  if (change.reason !== undefined) details.push(change.reason);
  if (change.releaseHash !== undefined) details.push('release ' + change.releaseHash);
  if (details.length) cell.append(el('span', details.join(' · '), 'metadata'));
  return cell;
}

function link(text, hash) {
  const a = el('a', text);
  a.href = hash;
  return a;
}

function envHash(environment) {
  return '#/' + encodeURIComponent(environment);
}

function versionHash(environment, version) {
  return envHash(environment) + '/' + version;
}

function diffHash(environment, from, to) {
  return envHash(environment) + '/diff/' + from + '..' + to;
}

// Hides the rows whose name does not contain the filter (any case).
function applyFilter() {
  const needle = $('filter').value.trim().toLowerCase();
  for (const row of document.querySelectorAll('tbody tr[data-name]')) {
    const hit = !needle || row.dataset.name.toLowerCase().includes(needle);
    row.classList.toggle('hidden-by-filter', !hit);
  }
}

function showView(view) {
  state.view = view;
  $('history-view').hidden = view !== 'history';
  $('version-view').hidden = view !== 'version';
  $('diff-view').hidden = view !== 'diff';
}

async function loadEnvironments() {
  const select = $('environment');
  let names = ['default'];
  try {
    const environments = await api('/environments');
    names = Array.from(new Set(['default', ...environments.map((e) => e.name)]));
  } catch (err) {
    showError(err.message);
  }
  if (!names.includes(state.environment)) names.push(state.environment);
  names.sort();
  select.replaceChildren(...names.map((name) => new Option(name, name)));
  select.value = state.environment;
}

function historyRow(item) {
  const version = item.systemVersion;
  const row = document.createElement('tr');
  row.dataset.name = item.change.name;
  const pick = document.createElement('input');
  pick.type = 'checkbox';
  pick.checked = state.selected.has(version);
  pick.setAttribute('aria-label', 'Select system version ' + version + ' to compare');
  pick.addEventListener('change', () => {
    if (pick.checked) state.selected.add(version); else state.selected.delete(version);
    $('compare').disabled = state.selected.size !== 2;
  });
  const pickCell = el('td');
  pickCell.append(pick);
  const versionCell = el('td', null, 'number');
  versionCell.append(link(String(version), versionHash(state.environment, version)));
  row.append(pickCell, versionCell, timeCell(item.createdAt), changeCell(item.change));
  return row;
}

async function loadHistory(reset) {
  const body = $('history').querySelector('tbody');
  const params = { environment: state.environment, limit: PAGE };
  if (!reset && state.oldestShown > 1) params.before = state.oldestShown;
  const items = await api('/systemversions', params);
  if (reset) {
    body.replaceChildren();
    state.selected.clear();
    $('compare').disabled = true;
    state.newest = items.length ? items[0].systemVersion : 0;
  }
  for (const item of items) body.append(historyRow(item));
  if (items.length) state.oldestShown = items[items.length - 1].systemVersion;
  $('history-empty').hidden = body.children.length > 0;
  $('more').hidden = items.length < PAGE || state.oldestShown <= 1;
  applyFilter();
}

async function showVersion(version) {
  const doc = await api('/systemversions/' + version, { environment: state.environment });
  $('version-title').textContent = 'System version ' + doc.systemVersion + ' of ' + state.environment;
  const meta = $('version-meta');
  meta.replaceChildren(el('span', 'Created ' + new Date(doc.createdAt).toLocaleString() + ': '));
  meta.title = doc.createdAt + ' (UTC)';
  const change = changeCell(doc.change);
  meta.append(...change.childNodes);
  $('version-back').href = envHash(state.environment);
  const body = $('services').querySelector('tbody');
  body.replaceChildren(...doc.services.map((service) => {
    const row = document.createElement('tr');
    row.dataset.name = service.name;
    if (service.name === doc.change.name) row.className = 'changed';
    row.append(el('td', service.name, 'name'), el('td', service.version, 'number'));
    return row;
  }));
  applyFilter();
}

// Bytewise order of names, as the server sorts them.
const encoder = new TextEncoder();
function byBytes(a, b) {
  const x = encoder.encode(a), y = encoder.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

function versionText(value) {
  return value === null || value === undefined ? '—' : String(value);
}

async function showDiff(from, to) {
  const [diff, after] = await Promise.all([
    api('/diff', { environment: state.environment, from, to }),
    api('/services', { environment: state.environment, systemVersion: to }),
  ]);
  $('diff-title').textContent = 'System versions ' + from + ' and ' + to + ' of ' + state.environment;
  $('diff-from').textContent = 'At ' + from;
  $('diff-to').textContent = 'At ' + to;
  $('diff-back').href = envHash(state.environment);
  // every service of either side: the changed ones from the diff
  const rows = new Map();
  for (const service of after) rows.set(service.name, { from: service.version, to: service.version, changed: false });
  for (const change of diff) rows.set(change.name, { from: change.from, to: change.to, changed: true });
  const body = $('diff').querySelector('tbody');
  body.replaceChildren(...Array.from(rows.keys()).sort(byBytes).map((name) => {
    const entry = rows.get(name);
    const row = document.createElement('tr');
    row.dataset.name = name;
    if (entry.changed) row.className = 'changed';
    row.append(el('td', name, 'name'),
      el('td', versionText(entry.from), 'number' + (entry.from === null ? ' absent' : '')),
      el('td', versionText(entry.to), 'number' + (entry.to === null ? ' absent' : '')));
    return row;
  }));
  $('diff-empty').hidden = diff.length > 0;
  applyFilter();
}

// Reads the view from the hash: #/ENV, #/ENV/N or #/ENV/diff/A..B.
function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map((p) => {
    try { return decodeURIComponent(p); } catch (err) { return p; }
  });
  const route = { environment: parts[0] || 'default', view: 'history' };
  if (parts.length === 2 && /^[1-9][0-9]*$/.test(parts[1])) {
    route.view = 'version';
    route.version = parts[1];
  } else if (parts.length === 3 && parts[1] === 'diff' && /^[1-9][0-9]*\.\.[1-9][0-9]*$/.test(parts[2])) {
    route.view = 'diff';
    [route.from, route.to] = parts[2].split('..');
  }
  return route;
}

async function render() {
  const route = parseHash();
  const environmentChanged = route.environment !== state.environment;
  state.environment = route.environment;
  if ($('environment').value !== state.environment) await loadEnvironments();
  showError('');
  try {
    if (route.view === 'version') {
      showView('version');
      await showVersion(route.version);
    } else if (route.view === 'diff') {
      showView('diff');
      await showDiff(route.from, route.to);
    } else {
      const wasHistory = state.view === 'history';
      showView('history');
      if (environmentChanged || !wasHistory || !$('history').querySelector('tbody').children.length) {
        state.oldestShown = 0;
        await loadHistory(true);
      }
    }
    document.body.dataset.ready = route.view;
  } catch (err) {
    showError(err.status === 404 ? 'Not found: ' + err.message : err.message);
    document.body.dataset.ready = 'error';
  }
}

// Asks /status (revalidated with its ETag) whether new versions arrived.
async function poll() {
  try {
    const status = await api('/status', { environment: state.environment });
    if (status.systemVersion > state.newest && state.newest > 0) {
      const count = status.systemVersion - state.newest;
      showNotice(count + (count === 1 ? ' new system version' : ' new system versions') +
        ' in ' + state.environment + '.', {
        label: 'Show',
        run: () => {
          showNotice('');
          location.hash = envHash(state.environment);
          state.oldestShown = 0;
          loadHistory(true).catch((err) => showError(err.message));
        },
      });
    } else if (state.newest === 0) {
      state.newest = status.systemVersion;
    }
  } catch (err) {
    // the next poll tries again; a visible error comes with the next action
  }
}

async function goAsOf() {
  const value = $('as-of').value;
  if (!value) {
    showError('Pick a date and time first.');
    return;
  }
  try {
    const found = await api('/systemversions', {
      environment: state.environment, at: new Date(value).toISOString(),
    });
    if (!found.length) {
      showError('No system version was in force then in ' + state.environment + '.');
      return;
    }
    location.hash = versionHash(state.environment, found[0].systemVersion);
  } catch (err) {
    showError(err.message);
  }
}

function start() {
  $('environment').addEventListener('change', (event) => {
    location.hash = envHash(event.target.value);
  });
  $('filter').addEventListener('input', applyFilter);
  $('go-as-of').addEventListener('click', goAsOf);
  $('controls').addEventListener('submit', (event) => { event.preventDefault(); goAsOf(); });
  $('more').addEventListener('click', () => loadHistory(false).catch((err) => showError(err.message)));
  $('compare').addEventListener('click', () => {
    const [a, b] = Array.from(state.selected).sort((x, y) => x - y);
    location.hash = diffHash(state.environment, a, b);
  });
  window.addEventListener('hashchange', render);
  state.environment = parseHash().environment;
  loadEnvironments().then(render);
  setInterval(poll, POLL_MS);
}

start();
