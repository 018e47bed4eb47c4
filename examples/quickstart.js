#!/usr/bin/env node
// Quick start, offline: serve the bundled example flags from the project's
// local Amplitude-compatible server on 127.0.0.1, start a local-evaluation
// client against it, and evaluate a few users. Run with `npm start`.
'use strict';
const fs = require('fs');
const path = require('path');
const { Experiment, diagnose } = require('amplitude-experiment-native');
const { createLocalServer } = require('amplitude-experiment-native/dev-server');

const DEPLOYMENT_KEY = 'server-quickstart-key';

const users = [
  { user_id: 'ada@example.com', device_id: 'device-ada', user_properties: { plan: 'premium' } },
  { user_id: 'grace', device_id: 'device-grace', platform: 'iOS', version: '2.3.1' },
  { user_id: 'linus', device_id: 'device-linus', platform: 'Android', version: '1.9.0' },
  {
    user_id: 'margaret',
    device_id: 'device-margaret',
    groups: { org: ['apollo'] },
    group_properties: { org: { apollo: { tier: 'enterprise' } } },
  },
];

function describe(variant) {
  if (!variant) return '(none)';
  const payload = variant.payload === undefined ? '' : ' payload=' + JSON.stringify(variant.payload);
  const segment = variant.metadata && variant.metadata.segmentName ? ` [${variant.metadata.segmentName}]` : '';
  return `${variant.key}${payload}${segment}`;
}

async function main() {
  const flags = fs.readFileSync(path.join(__dirname, 'flags.json'), 'utf8');
  const server = await createLocalServer({ flags, apiKeys: [DEPLOYMENT_KEY] });
  const client = Experiment.initializeLocal(DEPLOYMENT_KEY, { serverUrl: server.url });
  try {
    await client.start();
    const d = diagnose();
    console.log(`engine: ${d.engine}${d.binary ? ' (' + path.relative(process.cwd(), d.binary) + ')' : ''}`);
    console.log(`flags from ${server.url}: ${client.flagKeys().join(', ')}\n`);
    for (const user of users) {
      const variants = client.evaluateV2(user);
      console.log(user.user_id);
      for (const [flagKey, variant] of Object.entries(variants)) {
        console.log(`  ${flagKey.padEnd(16)} ${describe(variant)}`);
      }
    }
    const one = client.evaluateV2(users[1], ['search-ranking']);
    console.log(`\nevaluateV2(grace, ['search-ranking']) returns ${Object.keys(one).join(' + ')} (the flag and its dependency)`);

    const remote = Experiment.initializeRemote(DEPLOYMENT_KEY, { serverUrl: server.url });
    const fetched = await remote.fetchV2(users[0], { flagKeys: ['pricing-page'] });
    console.log(`remote fetchV2(ada, ['pricing-page']): ${describe(fetched['pricing-page'])}`);
    await remote.close();
  } finally {
    await client.close();
    await server.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
