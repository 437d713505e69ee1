#!/usr/bin/env node
// diff prints what a change does to every stack of one environment: each
// stack's `cdk diff` against its golden template, then a summary of stacks
// changed and resources added, changed, replaced and removed, with the
// ones the replacement guard protects (tools/guarded-types.json) marked.
// One Node process for all stacks.
//
// usage: node tools/diff.js ENV GOLDEN_DIR ASSEMBLY_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const { formatDifferences } = require('@aws-cdk/cloudformation-diff');
const { diff, destructiveChanges } = require('./cfndiff');

const [env, goldenDir, assemblyDir] = process.argv.slice(2);
const guarded = JSON.parse(fs.readFileSync(path.join(__dirname, 'guarded-types.json'), 'utf8'));
// The presets' accounts, as config.PlaceholderAccounts reads them.
const placeholderAccounts = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'lib', 'config', 'placeholder-accounts.json'), 'utf8'));
const stacks = new Set();
for (const dir of [goldenDir, assemblyDir]) {
  for (const f of fs.readdirSync(dir)) {
    if (f.endsWith('.template.json')) {
      stacks.add(f.replace(/\.template\.json$/, ''));
    }
  }
}

// Stacks are matched by name, account and region (testdata/ENV/stacks.json
// against the assembly's manifest): a stack whose identity changed is a new,
// empty stack beside an old one whose resources all go.
const identity = (s) => (s ? `${s.stackName} (${s.account}, ${s.region})` : '');
const goldenIds = fs.existsSync(path.join(goldenDir, 'stacks.json'))
  ? JSON.parse(fs.readFileSync(path.join(goldenDir, 'stacks.json'), 'utf8')) : {};
const currentIds = {};
for (const [id, a] of Object.entries(JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8')).artifacts || {})) {
  if (a.type === 'aws:cloudformation:stack') {
    const [account, region] = (a.environment || '').replace('aws://', '').split('/');
    currentIds[id] = { stackName: a.properties.stackName, account, region };
  }
}

const total = { changed: [], added: 0, updated: 0, replaced: [], removed: [] };
for (const stack of [...stacks].sort()) {
  const before = path.join(goldenDir, stack + '.template.json');
  let after = path.join(assemblyDir, stack + '.template.json');
  let what = !fs.existsSync(before) ? ' (new stack)' : !fs.existsSync(after) ? ' (stack removed: everything in it is destroyed)' : '';
  const was = identity(goldenIds[stack]);
  const is = identity(currentIds[stack]);
  // A reviewed placeholder account (config.PlaceholderAccounts) becoming a
  // real one configures the environment; it does not move it.
  const placeholder = placeholderAccounts.includes((goldenIds[stack] || {}).account);
  const moved = was && is && was !== is &&
    !(placeholder && goldenIds[stack].stackName === currentIds[stack].stackName && goldenIds[stack].region === currentIds[stack].region);
  if (moved) {
    what = ` (stack ${was} becomes ${is}: a new, empty stack; everything in the old one is destroyed or orphaned)`;
    after = '';
  }
  const d = diff(before, after);
  process.stdout.write(`== ${stack} (${env})${what}\n`);
  if (d.isEmpty) {
    process.stdout.write('no differences\n\n');
    continue;
  }
  total.changed.push(stack);
  formatDifferences(process.stdout, d);
  process.stdout.write('\n');
  d.resources.forEachDifference((id, change) => {
    if (change.isAddition) {
      total.added++;
    } else if (!change.isRemoval) {
      total.updated++;
    }
  });
  for (const c of destructiveChanges(d)) {
    const mark = guarded[c.type] ? ` [GUARDED: ${guarded[c.type]}]` : '';
    const why = c.properties.length ? ` (${c.properties.join(', ')})` : '';
    const line = `${stack}/${c.logicalId} ${c.type}${why}${mark}`;
    if (c.impact === 'WILL_REPLACE' || c.impact === 'MAY_REPLACE') {
      total.replaced.push(`${c.impact === 'MAY_REPLACE' ? 'may replace' : 'replace'} ${line}`);
    } else {
      total.removed.push(`${c.impact === 'WILL_ORPHAN' ? 'orphan' : 'destroy'} ${line}`);
    }
  }
}

const out = [];
out.push(`Summary (${env}): ${total.changed.length} of ${stacks.size} stacks changed` + (total.changed.length ? `: ${total.changed.join(', ')}` : ''));
out.push(`  resources added: ${total.added}, changed: ${total.updated}, replaced: ${total.replaced.length}, removed: ${total.removed.length}`);
for (const l of [...total.replaced, ...total.removed]) {
  out.push('  ' + l);
}
process.stdout.write(out.join('\n') + '\n');
