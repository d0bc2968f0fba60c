// The customer status page: an environment's current system version, large,
// and when it changed. status.html?environment=E (default: "default").
'use strict';

const POLL_MS = 10000;
const environment = new URLSearchParams(location.search).get('environment') || 'default';

function show(version, since) {
  document.getElementById('environment').textContent = environment;
  document.getElementById('version').textContent = version;
  const sinceLine = document.getElementById('since');
  sinceLine.textContent = since ? 'since ' + new Date(since).toLocaleString() : '';
  sinceLine.title = since ? since + ' (UTC)' : '';
}

async function refresh() {
  try {
    const response = await fetch('/status?' + new URLSearchParams({ environment }),
      { cache: 'no-cache' });
    if (response.status === 404) {
      show('unknown', null);
    } else if (!response.ok) {
      throw new Error('HTTP ' + response.status);
    } else {
      const status = await response.json();
      show(status.systemVersion === 0 ? 'none yet' : 'v' + status.systemVersion, status.updatedAt);
    }
    document.body.dataset.ready = 'status';
  } catch (err) {
    // keep what is shown; the next poll tries again
    document.getElementById('since').textContent = 'cannot reach the release manager; retrying';
  }
}

refresh();
setInterval(refresh, POLL_MS);
