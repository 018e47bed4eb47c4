// TestData: unit-test code that uses flags, with no server. The flags are real v2 flag configs.
// Run: npm run build:ts && node examples/test-data.js
'use strict';
const assert = require('node:assert');
const { LocalEvaluationClient, TestData } = require('amplitude-experiment-native');

// The code under test: takes a client, decides what to show.
function checkoutPage(client, user) {
  const variant = client.evaluateV2(user, ['new-checkout'])['new-checkout'];
  return variant?.value === 'on' ? 'new checkout' : 'old checkout';
}

const td = new TestData();
td.update(
  td
    .flag('new-checkout')
    .variations('on')
    .forUser('ada', 'on') // individual inclusion
    .ifMatch('user_properties.plan', 'is', ['premium'], 'on', 'Premium users') // a targeting rule
    .fallthroughVariation('off'), // everyone else: Amplitude's default 'off' variant
);
const client = new LocalEvaluationClient('test', { dataSource: td });

assert.strictEqual(checkoutPage(client, { user_id: 'ada' }), 'new checkout');
assert.strictEqual(checkoutPage(client, { user_id: 'bob', user_properties: { plan: 'premium' } }), 'new checkout');
assert.strictEqual(checkoutPage(client, { user_id: 'bob' }), 'old checkout');

// Change the flag mid-test: every client created with `td` sees it at once.
td.update(td.flag('new-checkout').off());
assert.strictEqual(checkoutPage(client, { user_id: 'ada' }), 'old checkout');

// A 50/50 rollout, bucketed by user_id exactly as Amplitude buckets.
td.update(td.flag('new-checkout').on().variations('on').rollout({ on: 50, off: 50 }, { bucketBy: 'user_id' }));
let on = 0;
for (let i = 0; i < 1000; i++) if (checkoutPage(client, { user_id: `u${i}` }) === 'new checkout') on++;
assert.ok(on > 400 && on < 600, `about half: ${on}`);

console.log('all assertions passed');
console.log(`rollout: ${on} of 1000 users in "on"`);
client.close();
