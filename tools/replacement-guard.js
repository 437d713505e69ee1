#!/usr/bin/env node
// replacement-guard reads pairs of CloudFormation templates (before, after)
// and prints, as JSON, every resource the CDK's own diff engine says would
// be replaced, possibly replaced, destroyed or orphaned. The Go tests decide
// which of those are stateful and whether an allow-list entry covers them.
//
// usage: node tools/replacement-guard.js PAIRS.json
// PAIRS.json: [{"name": "dev/Database", "before": "path", "after": "path"}, ...]
'use strict';
const fs = require('fs');
const { diff, destructiveChanges } = require('./cfndiff');

const pairs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const findings = [];
for (const pair of pairs) {
  for (const change of destructiveChanges(diff(pair.before, pair.after))) {
    findings.push({ name: pair.name, ...change });
  }
}
process.stdout.write(JSON.stringify(findings, null, 1) + '\n');
