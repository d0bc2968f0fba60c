// releasemgr's browser view: the history of system versions, one version's
// services, the diff of two, a service's periods, the audit log of reports
// and the drift between two environments, all from the JSON API of this
// same server. Every text that comes from the server (service names,
// metadata, event ids) is put in the page with textContent or a text node,
// never parsed as HTML.
'use strict';

const PAGE = 50;            // versions per page of history, reports per page of events
const POLL_MS = 5000;       // how often /status is asked for news
const OUTCOMES = ['applied', 'unchanged', 'duplicate', 'stale', 'removed'];
const ENVIRONMENT = /^[A-Za-z0-9._-]{1,64}$/;
const NUMBER = /^[1-9][0-9]*$/;

const state = {
  environment: 'default',
  environments: ['default'], // every environment known, for the drift's pickers
  view: null,               // 'history', 'version', 'diff', 'service', 'events' or 'drift'
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
  return (await apiPage(path, params)).body;
}

// GET a JSON resource and the URL of its next page (its Link rel="next",
// or null); throws as api() does.
async function apiPage(path, params) {
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
  const next = /<([^>]*)>\s*;\s*rel="?next"?/.exec(response.headers.get('Link') || '');
  return { body, next: next ? next[1] : null };
}

// A time as the viewer's local time, with the UTC instant on hover.
function timeCell(instant) {
  const cell = el('td', instant ? new Date(instant).toLocaleString() : '');
  if (instant) cell.title = instant + ' (UTC)';
  return cell;
}

function link(text, hash) {
  const a = el('a', text);
  a.href = hash;
  return a;
}

// A service's name as a link to its periods in the environment.
function serviceLink(name, environment) {
  return link(name, serviceHash(environment || state.environment, name));
}

// "by ci · hotfix · release 9f2c" from a change or report, or null.
function metadataLine(item) {
  const details = [];
  if (item.deployedBy !== undefined) details.push('by ' + item.deployedBy);
  if (item.reason !== undefined) details.push(item.reason);
  if (item.releaseHash !== undefined) details.push('release ' + item.releaseHash);
  return details.length ? el('span', details.join(' · '), 'metadata') : null;
}

// "Service A 1 → 2", "Service A new at 1" or "removed Service A (was 4)",
// the name a link to its periods, with the metadata under it.
function changeCell(change) {
  const cell = el('td', null, 'name');
  const what = el('span');
  if (change.version === null) {
    what.className = 'removal';
    what.append('removed ', serviceLink(change.name),
      ' (was ' + change.previousVersion + ')');
  } else if (change.previousVersion === null) {
    what.append(serviceLink(change.name), ' new at ' + change.version);
  } else {
    what.append(serviceLink(change.name),
      ' ' + change.previousVersion + ' → ' + change.version);
  }
  cell.append(what);
  const metadata = metadataLine(change);
  if (metadata) cell.append(metadata);
  return cell;
}

function envHash(environment) {
  return '#/' + encodeURIComponent(environment);
}

function serviceHash(environment, name) {
  return envHash(environment) + '/services/' + encodeURIComponent(name);
}

function eventsHash(environment, before) {
  return envHash(environment) + '/events' + (before ? '?before=' + before : '');
}

// #/A/drift, #/A/drift/B, or with versions #/A/drift/B/N..M (either may
// be left out: that environment's current version).
function driftHash(environment, other, from, to) {
  let hash = envHash(environment) + '/drift';
  if (other) hash += '/' + encodeURIComponent(other);
  if (other && (from || to)) hash += '/' + (from || '') + '..' + (to || '');
  return hash;
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

// The section each view shows: the drift shares the diff's.
const SECTIONS = {
  history: 'history-view', version: 'version-view', diff: 'diff-view',
  service: 'service-view', events: 'events-view', drift: 'diff-view',
};

function showView(view) {
  state.view = view;
  for (const id of new Set(Object.values(SECTIONS))) $(id).hidden = SECTIONS[view] !== id;
  $('drift-form').hidden = view !== 'drift';
}

// The header's links to the views of the environment shown.
function updateNav(view) {
  const targets = {
    'nav-history': [envHash(state.environment), ['history', 'version', 'diff', 'service']],
    'nav-events': [eventsHash(state.environment), ['events']],
    'nav-drift': [driftHash(state.environment), ['drift']],
  };
  for (const [id, [hash, views]] of Object.entries(targets)) {
    $(id).href = hash;
    if (views.includes(view)) $(id).setAttribute('aria-current', 'page');
    else $(id).removeAttribute('aria-current');
  }
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
  state.environments = names;
  select.replaceChildren(...names.map((name) => new Option(name, name)));
  select.value = state.environment;
}

function historyRow(item) {
  const version = item.systemVersion;
  const row = document.createElement('tr');
  row.dataset.name = item.change.name;
  if (item.change.version === null) row.className = 'removal';
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

// A service's name cell: the name as a link to its periods.
function nameCell(name, environment) {
  const cell = el('td', null, 'name');
  cell.append(serviceLink(name, environment));
  return cell;
}

async function showVersion(version) {
  const doc = await api('/systemversions/' + version, { environment: state.environment });
  $('version-title').textContent = 'System version ' + doc.systemVersion + ' of ' + state.environment;
  const meta = $('version-meta');
  meta.replaceChildren(el('span', 'Created ' + new Date(doc.createdAt).toLocaleString() + ': '));
  meta.title = doc.createdAt + ' (UTC)';
  const change = changeCell(doc.change);
  meta.append(...change.childNodes);
  if (typeof doc.digest === 'string') {
    // "sha256:" and the first 12 hex digits; all of it on hover
    const digest = el('span', 'digest ' + doc.digest.slice(0, 19) +
      (doc.digest.length > 19 ? '…' : ''), 'metadata digest');
    digest.title = doc.digest;
    meta.append(digest);
  }
  $('version-back').href = envHash(state.environment);
  const body = $('services').querySelector('tbody');
  body.replaceChildren(...doc.services.map((service) => {
    const row = document.createElement('tr');
    row.dataset.name = service.name;
    if (service.name === doc.change.name) row.className = 'changed';
    row.append(nameCell(service.name), el('td', service.version, 'number'));
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

// Fills the diff view, for two versions of one environment or the drift
// between two: every service of `after` (the list of the "to" side) and
// every one `diff` names (GET /diff's answer), the latter highlighted.
// labels: title, from and to (the columns), same (the text when nothing
// differs), fromEnvironment and toEnvironment (where a name links to: the
// "to" side's when it runs the service there).
function renderDiff(diff, after, labels) {
  $('diff-title').textContent = labels.title;
  $('diff-from').textContent = labels.from;
  $('diff-to').textContent = labels.to;
  $('diff-back').href = envHash(labels.fromEnvironment);
  const rows = new Map();
  for (const service of after) rows.set(service.name, { from: service.version, to: service.version, changed: false });
  for (const change of diff) rows.set(change.name, { from: change.from, to: change.to, changed: true });
  const body = $('diff').querySelector('tbody');
  body.replaceChildren(...Array.from(rows.keys()).sort(byBytes).map((name) => {
    const entry = rows.get(name);
    const row = document.createElement('tr');
    row.dataset.name = name;
    if (entry.changed) row.className = 'changed';
    row.append(nameCell(name, entry.to === null ? labels.fromEnvironment : labels.toEnvironment),
      el('td', versionText(entry.from), 'number' + (entry.from === null ? ' absent' : '')),
      el('td', versionText(entry.to), 'number' + (entry.to === null ? ' absent' : '')));
    return row;
  }));
  $('diff-wrap').hidden = false;
  $('diff-empty').textContent = labels.same;
  $('diff-empty').hidden = diff.length > 0;
  applyFilter();
}

async function showDiff(from, to) {
  const [diff, after] = await Promise.all([
    api('/diff', { environment: state.environment, from, to }),
    api('/services', { environment: state.environment, systemVersion: to }),
  ]);
  renderDiff(diff, after, {
    title: 'System versions ' + from + ' and ' + to + ' of ' + state.environment,
    from: 'At ' + from,
    to: 'At ' + to,
    same: 'These two versions ran the same services at the same versions.',
    fromEnvironment: state.environment,
    toEnvironment: state.environment,
  });
}

// "prod at 40", or "prod" for its current version.
function sideLabel(environment, version) {
  return version ? environment + ' at ' + version : environment + ' (current)';
}

// The drift's pickers show the route; with another environment picked,
// the services that differ between the two.
async function showDrift(route) {
  const options = () => state.environments.map((name) => new Option(name, name));
  $('drift-from-env').replaceChildren(...options());
  $('drift-to-env').replaceChildren(new Option('pick one', ''), ...options());
  $('drift-from-env').value = route.environment;
  $('drift-to-env').value = route.other || '';
  $('drift-from-version').value = route.from || '';
  $('drift-to-version').value = route.to || '';
  if (!route.other) {
    $('diff-title').textContent = 'Drift from ' + route.environment;
    $('diff-back').href = envHash(route.environment);
    $('diff-wrap').hidden = true;
    $('diff-empty').textContent = 'Pick the environment to compare with.';
    $('diff-empty').hidden = false;
    return;
  }
  const params = { fromEnvironment: route.environment, toEnvironment: route.other };
  if (route.from) params.from = route.from;
  if (route.to) params.to = route.to;
  const afterParams = { environment: route.other };
  if (route.to) afterParams.systemVersion = route.to;
  const [diff, after] = await Promise.all([api('/diff', params), api('/services', afterParams)]);
  const from = sideLabel(route.environment, route.from);
  const to = sideLabel(route.other, route.to);
  renderDiff(diff, after, {
    title: 'Drift from ' + from + ' to ' + to,
    from,
    to,
    same: 'Both ran the same services at the same versions.',
    fromEnvironment: route.environment,
    toEnvironment: route.other,
  });
}

function pickedVersion(id) {
  const value = $(id).value.trim();
  if (value && !NUMBER.test(value)) throw new Error('A system version is a whole number from 1.');
  return value;
}

function goDrift() {
  try {
    const other = $('drift-to-env').value;
    if (!other) throw new Error('Pick the environment to compare with.');
    location.hash = driftHash($('drift-from-env').value, other,
      pickedVersion('drift-from-version'), pickedVersion('drift-to-version'));
  } catch (err) {
    showError(err.message);
  }
}

// A system version as a link to it, or the text "current" for null.
function versionLinkCell(version, environment) {
  const cell = el('td', null, 'number');
  if (version === null) cell.append(el('span', 'current', 'current'));
  else cell.append(link(String(version), versionHash(environment, version)));
  return cell;
}

// The periods during which a service ran, newest first. A period that
// ends where no newer one starts ended with the service's removal.
async function showService(name) {
  const environment = state.environment;
  const periods = await api('/services/' + encodeURIComponent(name) + '/history', { environment });
  $('service-title').replaceChildren('History of ', el('span', name, 'name'), ' in ' + environment);
  $('service-back').href = envHash(environment);
  const body = $('periods').querySelector('tbody');
  body.replaceChildren(...periods.map((period, i) => {
    const row = document.createElement('tr');
    const until = versionLinkCell(period.toSystemVersion, environment);
    if (period.toSystemVersion === null) {
      row.className = 'current';
    } else if (i === 0 || periods[i - 1].fromSystemVersion !== period.toSystemVersion) {
      row.className = 'removal';
      until.append(el('span', ' removed', 'removal'));
    }
    row.append(el('td', period.version, 'number'),
      versionLinkCell(period.fromSystemVersion, environment), timeCell(period.from),
      until, timeCell(period.to));
    return row;
  }));
  $('periods-empty').hidden = periods.length > 0;
}

function eventRow(event) {
  const row = document.createElement('tr');
  row.dataset.name = event.name;
  const known = OUTCOMES.includes(event.outcome);
  if (known) row.className = 'event-' + event.outcome;
  const outcome = el('td');
  outcome.append(el('span', event.outcome, 'outcome' + (known ? ' outcome-' + event.outcome : '')));
  const report = el('td', null, 'name');
  const what = el('span');
  if (event.version === null) {
    what.className = 'removal';
    what.append('removed ', serviceLink(event.name));
  } else {
    what.append(serviceLink(event.name), ' ' + event.version);
  }
  report.append(what);
  const metadata = metadataLine(event);
  if (metadata) report.append(metadata);
  const key = el('td', null, 'key');
  if (event.eventId !== undefined) key.append(el('span', 'event ' + event.eventId, 'metadata'));
  if (event.sequence !== undefined) key.append(el('span', 'sequence ' + event.sequence, 'metadata'));
  if (event.deployedAt !== undefined) {
    const at = el('span', 'deployed ' + new Date(event.deployedAt).toLocaleString(), 'metadata');
    at.title = event.deployedAt + ' (UTC)';
    key.append(at);
  }
  const answered = el('td', null, 'number');
  if (event.systemVersion > 0) {
    answered.append(link(String(event.systemVersion), versionHash(state.environment, event.systemVersion)));
  } else {
    answered.textContent = versionText(event.systemVersion);
  }
  row.append(el('td', event.id, 'number'), timeCell(event.receivedAt), outcome, report, key, answered);
  return row;
}

// One page of the audit log, newest first: before `before` when given.
// "Older" leads to the page the Link header names next.
async function showEvents(before) {
  const environment = state.environment;
  const params = { environment, limit: PAGE };
  if (before) params.before = before;
  const page = await apiPage('/events', params);
  $('events-title').textContent = 'Reports to ' + environment + (before ? ' before #' + before : '');
  $('events').querySelector('tbody').replaceChildren(...page.body.map(eventRow));
  $('events-empty').hidden = page.body.length > 0;
  $('events-newest').href = eventsHash(environment);
  $('events-newest').hidden = !before;
  const next = page.next ? new URL(page.next, location.href).searchParams.get('before') : null;
  $('older').hidden = !(next && NUMBER.test(next));
  if (!$('older').hidden) $('older').href = eventsHash(environment, next);
  applyFilter();
}

// Reads the view from the hash: #/ENV, #/ENV/N, #/ENV/diff/A..B,
// #/ENV/services/NAME, #/ENV/events[?before=ID] or #/ENV/drift[/OTHER[/A..B]]
// (NAME and the environments percent-encoded).
function parseHash() {
  const [path, search] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').map((p) => {
    try { return decodeURIComponent(p); } catch (err) { return p; }
  });
  const query = new URLSearchParams(search || '');
  const route = { environment: parts[0] || 'default', view: 'history' };
  if (parts.length === 2 && NUMBER.test(parts[1])) {
    route.view = 'version';
    route.version = parts[1];
  } else if (parts.length === 3 && parts[1] === 'diff' && /^[1-9][0-9]*\.\.[1-9][0-9]*$/.test(parts[2])) {
    route.view = 'diff';
    [route.from, route.to] = parts[2].split('..');
  } else if (parts.length === 3 && parts[1] === 'services' && parts[2]) {
    route.view = 'service';
    route.name = parts[2];
  } else if (parts.length === 2 && parts[1] === 'events') {
    route.view = 'events';
    if (NUMBER.test(query.get('before') || '')) route.before = query.get('before');
  } else if (parts[1] === 'drift' && (parts.length === 2 ||
      (parts.length <= 4 && ENVIRONMENT.test(parts[2]) &&
       (parts.length === 3 || /^([1-9][0-9]*)?\.\.([1-9][0-9]*)?$/.test(parts[3]))))) {
    route.view = 'drift';
    route.other = parts[2] || null;
    if (parts.length === 4) [route.from, route.to] = parts[3].split('..');
  }
  return route;
}

async function render() {
  const route = parseHash();
  const environmentChanged = route.environment !== state.environment;
  state.environment = route.environment;
  if ($('environment').value !== state.environment) await loadEnvironments();
  updateNav(route.view);
  showError('');
  try {
    if (route.view === 'version') {
      showView('version');
      await showVersion(route.version);
    } else if (route.view === 'diff') {
      showView('diff');
      await showDiff(route.from, route.to);
    } else if (route.view === 'service') {
      showView('service');
      await showService(route.name);
    } else if (route.view === 'events') {
      showView('events');
      await showEvents(route.before);
    } else if (route.view === 'drift') {
      showView('drift');
      await showDrift(route);
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
    // the events and a service's periods stay in view; the rest go to the history
    const route = parseHash();
    const environment = event.target.value;
    if (route.view === 'events') location.hash = eventsHash(environment);
    else if (route.view === 'service') location.hash = serviceHash(environment, route.name);
    else if (route.view === 'drift') location.hash = driftHash(environment, route.other);
    else location.hash = envHash(environment);
  });
  $('drift-form').addEventListener('submit', (event) => { event.preventDefault(); goDrift(); });
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
