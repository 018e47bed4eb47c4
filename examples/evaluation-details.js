// Evaluation details: each variant and why (segment, conditions, bucketing hash, dependencies).
// Run: npm run build:ts && node examples/evaluation-details.js
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { LocalEvaluationClient } = require('amplitude-experiment-native');

const flags = fs.readFileSync(path.join(__dirname, 'flags.json'), 'utf8');
const client = new LocalEvaluationClient('unused', { bootstrap: flags });
const user = { user_id: 'grace', device_id: 'device-grace', platform: 'iOS', version: '2.3.1' };

const details = client.evaluateV2Details(user);
for (const d of Object.values(details)) {
  let why = d.reason;
  if (d.segmentName) why += ` in segment ${d.segmentIndex} "${d.segmentName}"`;
  if (d.matchedConditions)
    why += `; matched ${d.matchedConditions.map((c) => `${c.selector.slice(2).join('.')} ${c.op} ${JSON.stringify(c.values)}`).join(' and ')}`;
  if (d.bucket && d.bucket.value !== null)
    why += `; hash ${d.bucket.hash} -> allocation ${d.bucket.allocationValue}, distribution ${d.bucket.distributionValue}`;
  console.log(`${d.flagKey}: ${d.variant ? d.variant.key : '(none)'} (${why})`);
}

// The variants are exactly evaluateV2's (the same objects).
const variants = client.evaluateV2(user);
const same = Object.keys(variants).every((k) => details[k].variant === variants[k]);
console.log(`same variants as evaluateV2: ${same}`);
client.close();
