import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { registry, setWorkspaceLabels, workspaceLabel } from './metrics';

const ROOT = join(__dirname, '..', '..', '..');

describe('metric catalogue', () => {
  it('is what the Grafana dashboard and docs/operations.md refer to, and nothing else', async () => {
    const declared = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const base = (name: string) => name.replace(/_(bucket|count|sum)$/, '');
    for (const file of ['docker/grafana-dashboard.json', 'docs/operations.md']) {
      const used = new Set([...readFileSync(join(ROOT, file), 'utf8').matchAll(/\bpostbote_[a-z0-9_]+/g)].map((m) => base(m[0])));
      const unknown = [...used].filter((n) => !declared.has(n));
      assert.deepEqual(unknown, [], `${file} names metrics that do not exist`);
    }
    const documented = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const undocumented = [...declared].filter((n) => !documented.includes(n));
    assert.deepEqual(undocumented, [], 'every metric is in docs/operations.md');
  });
});

describe('workspace labels', () => {
  it('keep their id for the first METRICS_WORKSPACE_LABELS workspaces, and count the rest as other', () => {
    setWorkspaceLabels(2);
    assert.deepEqual(['w-a', 'w-b', 'w-c', 'w-a', 'w-d'].map(workspaceLabel), ['w-a', 'w-b', 'other', 'w-a', 'other']);
    setWorkspaceLabels(100);
  });
});
