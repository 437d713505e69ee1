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
const stacks = new Set();
for (const dir of [goldenDir, assemblyDir]) {
  for (const f of fs.readdirSync(dir)) {
    if (f.endsWith('.template.json')) {
      stacks.add(f.replace(/\.template\.json$/, ''));
    }
  }
}

const total = { changed: [], added: 0, updated: 0, replaced: [], removed: [] };
for (const stack of [...stacks].sort()) {
  const before = path.join(goldenDir, stack + '.template.json');
  const after = path.join(assemblyDir, stack + '.template.json');
  const d = diff(before, after);
  const what = !fs.existsSync(before) ? ' (new stack)' : !fs.existsSync(after) ? ' (stack removed: everything in it is destroyed)' : '';
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
