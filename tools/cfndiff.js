#!/usr/bin/env node
// cfndiff runs the CDK's own diff engine (@aws-cdk/cloudformation-diff, the
// engine behind `cdk diff`) over pairs of CloudFormation templates and
// prints, as JSON, what it says about each pair: whether anything differs,
// how many resources are added and changed, the text `cdk diff` would show
// (with --text), every resource it adds, and every resource it would
// replace, possibly replace, destroy or orphan with the properties that
// cause it. It reports the
// engine's raw impacts only; internal/guard decides what each means, for
// the gate in `make test` and for `make diff` alike.
//
// usage: node tools/cfndiff.js [--text] PAIRS.json
// PAIRS.json: [{"name": "dev/Database", "before": "path", "after": "path"}, ...]
// A missing or empty path is an empty template (a stack added or removed).
'use strict';
const fs = require('fs');
const { fullDiff, formatDifferences } = require('@aws-cdk/cloudformation-diff');

const destructive = new Set(['WILL_REPLACE', 'MAY_REPLACE', 'WILL_DESTROY', 'WILL_ORPHAN']);

function read(path) {
  return path && fs.existsSync(path) ? JSON.parse(fs.readFileSync(path, 'utf8')) : {};
}

function describe(pair, text) {
  const d = fullDiff(read(pair.before), read(pair.after));
  const out = { name: pair.name, empty: d.isEmpty, added: 0, updated: 0, changes: [], additions: [] };
  d.resources.forEachDifference((logicalId, change) => {
    if (change.isAddition) {
      out.added++;
      out.additions.push({ logicalId, type: change.newResourceType });
    } else if (!change.isRemoval) {
      out.updated++;
    }
    if (!destructive.has(change.changeImpact)) {
      return;
    }
    const properties = [];
    for (const [name, prop] of Object.entries(change.propertyUpdates || {})) {
      if (prop.changeImpact && destructive.has(prop.changeImpact)) {
        properties.push(name);
      }
    }
    out.changes.push({
      logicalId,
      type: change.oldResourceType || change.newResourceType,
      impact: change.changeImpact,
      properties: properties.sort(),
    });
  });
  if (text && !d.isEmpty) {
    let buf = '';
    formatDifferences({ write: (s) => { buf += s; return true; }, columns: 120 }, d);
    out.text = buf;
  }
  return out;
}

const args = process.argv.slice(2);
const text = args[0] === '--text';
const pairs = JSON.parse(fs.readFileSync(args[text ? 1 : 0], 'utf8')) || [];
process.stdout.write(JSON.stringify(pairs.map((p) => describe(p, text))) + '\n');
