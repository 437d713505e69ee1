#!/usr/bin/env node
// replacement-guard reads pairs of CloudFormation templates (before, after)
// and prints, as JSON, every resource the CDK's own diff engine
// (@aws-cdk/cloudformation-diff, the engine behind `cdk diff`) says would be
// replaced, possibly replaced, destroyed or orphaned. The Go tests decide
// which of those are stateful and whether an allow-list entry covers them.
//
// usage: node tools/replacement-guard.js PAIRS.json
// PAIRS.json: [{"name": "dev/Database", "before": "path", "after": "path"}, ...]
'use strict';
const fs = require('fs');
const { fullDiff } = require('@aws-cdk/cloudformation-diff');

const destructive = new Set(['WILL_REPLACE', 'MAY_REPLACE', 'WILL_DESTROY', 'WILL_ORPHAN']);
const pairs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const findings = [];
for (const pair of pairs) {
  const read = (p) => (p ? JSON.parse(fs.readFileSync(p, 'utf8')) : {});
  const diff = fullDiff(read(pair.before), read(pair.after));
  diff.resources.forEachDifference((logicalId, change) => {
    if (!destructive.has(change.changeImpact)) {
      return;
    }
    const replacedBy = [];
    for (const [name, prop] of Object.entries(change.propertyUpdates || {})) {
      if (prop.changeImpact && destructive.has(prop.changeImpact)) {
        replacedBy.push(name);
      }
    }
    findings.push({
      name: pair.name,
      logicalId,
      type: change.oldResourceType || change.newResourceType,
      impact: change.changeImpact,
      properties: replacedBy.sort(),
    });
  });
}
process.stdout.write(JSON.stringify(findings, null, 1) + '\n');
