// Client events and status: react to flag changes, and a readiness probe for Kubernetes in one call.
// Offline: the local Amplitude-compatible server stands in for Amplitude.
// Run: npm run build:ts && node examples/events.js
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { LocalEvaluationClient } = require('amplitude-experiment-native');
const { createLocalServer } = require('amplitude-experiment-native/dev-server');

/** GET /ready: 200 while the client serves flags (fresh or stale), 503 otherwise. */
function readinessProbe(client) {
  return http.createServer((req, res) => {
    const status = client.status();
    const ok = status.state === 'ready' || status.state === 'stale';
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(status));
  });
}

async function get(port) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/ready' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });
}

async function main() {
  const flags = JSON.parse(fs.readFileSync(path.join(__dirname, 'flags.json'), 'utf8'));
  const server = await createLocalServer({ flags });
  const client = new LocalEvaluationClient('server-key', {
    serverUrl: server.url,
    streamUpdates: true,
    streamServerUrl: server.url,
  });

  client.on('status', (s) => console.log(`status: ${s.state} (source ${s.source}, ${s.flagCount} flags, stale ${s.stale})`));
  client.on('error', (e) => console.log(`error from ${e.source}: ${e.message}`));
  client.on('update', (e) =>
    console.log(`update from ${e.source}: added [${e.added}] removed [${e.removed}] changed [${e.changed}]`),
  );
  const probe = readinessProbe(client).listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  const port = probe.address().port;
  console.log(`readiness before start: ${await get(port)}`);

  await client.start();
  console.log(`readiness after start: ${await get(port)}`);

  const changed = new Promise((resolve) => {
    client.once('update:pricing-page', (e) => {
      console.log(`update:pricing-page ${e.kind}`);
      resolve();
    });
  });

  // Someone edits pricing-page in Amplitude: the stream delivers it, one 'update' event for that flag.
  const next = flags.map((f) => (f.key === 'pricing-page' ? { ...f, metadata: { ...f.metadata, flagVersion: 13 } } : f));
  server.setFlags(next);
  await changed;
  // The same flags again: no event.
  server.setFlags(next);
  await new Promise((resolve) => setTimeout(resolve, 100));

  await client.close();
  console.log(`readiness after close: ${await get(port)}`);
  probe.close();
  await server.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
