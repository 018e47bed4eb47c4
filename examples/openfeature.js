// OpenFeature: Amplitude flags behind the vendor-neutral OpenFeature API.
// Needs @openfeature/server-sdk (npm install @openfeature/server-sdk).
// Run: npm run build:ts && node examples/openfeature.js
'use strict';
const { OpenFeature } = require('@openfeature/server-sdk');
const { LocalEvaluationClient, TestData } = require('amplitude-experiment-native');
const { AmplitudeProvider } = require('amplitude-experiment-native/openfeature');

async function main() {
  // In production: new AmplitudeProvider(Experiment.initializeLocal('<server deployment key>')).
  const td = new TestData();
  td.update(
    td.flag('new-checkout').variations('on').forUser('ada', 'on').fallthroughVariation('off'),
    td.flag('button-color').variations('blue', 'green').rollout({ blue: 50, green: 50 }, { bucketBy: 'user_id' }),
    td
      .flag('limits')
      .variations({ v1: { value: 'v1', payload: { maxItems: 10 } } })
      .fallthroughVariation('v1'),
  );
  const client = new LocalEvaluationClient('unused', { dataSource: td });
  await OpenFeature.setProviderAndWait(new AmplitudeProvider(client, { closeClient: true }));

  const of = OpenFeature.getClient();
  const ada = { targetingKey: 'ada', plan: 'pro' }; // targetingKey -> user_id; other attributes -> user_properties
  const checkout = await of.getBooleanDetails('new-checkout', false, ada);
  console.log(
    `new-checkout for ada: ${checkout.value} (variant ${checkout.variant}, reason ${checkout.reason}, segment "${checkout.flagMetadata.segmentName}")`,
  );
  const color = await of.getStringDetails('button-color', 'blue', ada);
  console.log(`button-color for ada: ${color.value} (reason ${color.reason})`);
  console.log(`limits: ${JSON.stringify(await of.getObjectValue('limits', {}, ada))}`);
  const missing = await of.getBooleanDetails('no-such-flag', true, ada);
  console.log(`no-such-flag: ${missing.value} (error ${missing.errorCode})`);
  await OpenFeature.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
