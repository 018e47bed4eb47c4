// Amplitude's evaluation-proxy over HTTP: flags from the proxy, and cohort memberships asked per user for
// cohorts this process does not hold. Offline: the local server in evaluation-proxy mode stands in for the proxy.
// Run: npm run build:ts && node examples/evaluation-proxy.js
'use strict';
const { LocalEvaluationClient } = require('amplitude-experiment-native');
const { createLocalServer } = require('amplitude-experiment-native/dev-server');

const betaFlag = {
  key: 'beta-dashboard',
  metadata: { deployed: true, evaluationMode: 'local', flagType: 'release', flagVersion: 1 },
  segments: [
    {
      conditions: [[{ op: 'set contains any', selector: ['context', 'user', 'cohort_ids'], values: ['beta-testers'] }]],
      variant: 'on',
    },
    { variant: 'off' },
  ],
  variants: { off: { key: 'off', metadata: { default: true } }, on: { key: 'on', value: 'on' } },
};

async function main() {
  const proxy = await createLocalServer({
    evaluationProxy: true,
    flags: [betaFlag],
    cohorts: [{ cohortId: 'beta-testers', memberIds: ['ada', 'grace'], lastModified: 1 }],
  });
  // No cohortSyncConfig: no cohort is downloaded, every cohort is looked up per user (and cached).
  const client = new LocalEvaluationClient('server-key', {
    serverUrl: 'http://127.0.0.1:9', // Amplitude, used only if the proxy fails (unreachable here on purpose)
    evaluationProxyConfig: { proxyUrl: proxy.url, cohortCacheTtlMillis: 60_000 },
  });
  await client.start();

  // evaluateV2 never waits on the network: a user not looked up yet counts as in no proxy-held cohort...
  console.log(`ada, first evaluateV2: ${client.evaluateV2({ user_id: 'ada' }, ['beta-dashboard'])['beta-dashboard'].key}`);
  // ...prepareUser / evaluateV2Async look the user up first.
  const grace = await client.evaluateV2Async({ user_id: 'grace' }, ['beta-dashboard']);
  console.log(`grace, evaluateV2Async: ${grace['beta-dashboard'].key}`);
  await client.prepareUser({ user_id: 'ada' });
  console.log(`ada, after prepareUser: ${client.evaluateV2({ user_id: 'ada' }, ['beta-dashboard'])['beta-dashboard'].key}`);
  console.log(`linus: ${(await client.evaluateV2Async({ user_id: 'linus' }, ['beta-dashboard']))['beta-dashboard'].key}`);
  console.log(`membership lookups: ${proxy.requests('memberships').length}`);
  await client.close();
  await proxy.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
