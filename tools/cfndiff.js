// cfndiff compares CloudFormation templates with the CDK's own diff engine
// (@aws-cdk/cloudformation-diff, the engine behind `cdk diff`). The
// replacement guard (replacement-guard.js) and `make diff` (diff.js) both
// use it, so review and the gate see the same changes.
'use strict';
const fs = require('fs');
const { fullDiff } = require('@aws-cdk/cloudformation-diff');

const destructive = new Set(['WILL_REPLACE', 'MAY_REPLACE', 'WILL_DESTROY', 'WILL_ORPHAN']);

function read(path) {
  return path && fs.existsSync(path) ? JSON.parse(fs.readFileSync(path, 'utf8')) : {};
}

// diff returns the CDK's TemplateDiff of two template files; a missing
// file is an empty template (a stack added or removed).
function diff(before, after) {
  return fullDiff(read(before), read(after));
}

// destructiveChanges lists every resource the diff would replace, possibly
// replace, destroy or orphan, with the properties that cause it.
function destructiveChanges(d) {
  const out = [];
  d.resources.forEachDifference((logicalId, change) => {
    if (!destructive.has(change.changeImpact)) {
      return;
    }
    const properties = [];
    for (const [name, prop] of Object.entries(change.propertyUpdates || {})) {
      if (prop.changeImpact && destructive.has(prop.changeImpact)) {
        properties.push(name);
      }
    }
    out.push({
      logicalId,
      type: change.oldResourceType || change.newResourceType,
      impact: change.changeImpact,
      properties: properties.sort(),
    });
  });
  return out;
}

module.exports = { diff, destructiveChanges };
