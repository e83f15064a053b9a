// Reads V8 CPU profiles (node --cpu-prof) and says where the time went: by package (or our
// lib) and by function, self time.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, table } from './harness';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** "imapflow", "mailparser", "libs/storage", "node:internal", "(garbage collector)"… */
function owner(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  const lib = /\/(libs|apps)\/([^/]+)\//.exec(url);
  if (lib) return `${lib[1]}/${lib[2]}`;
  if (url.startsWith('node:')) return url.split('/')[0] ?? url;
  if (url.includes('dist/apps')) return 'postbote (bundle)';
  return url.split('/').slice(-2).join('/');
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : n.endsWith('.cpuprofile') ? [p] : [];
  });
}

export function summarizeProfiles(dir: string, top = 25): string {
  const out: string[] = [];
  for (const file of files(dir)) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
    const byOwner = new Map<string, number>();
    const byFn = new Map<string, number>();
    for (const [id, t] of self) {
      const f = byId.get(id)?.callFrame;
      if (!f || f.functionName === '(idle)') continue;
      const o = owner(f.url, f.functionName);
      byOwner.set(o, (byOwner.get(o) ?? 0) + t);
      const name = `${f.functionName || '(anonymous)'} ${o}:${f.lineNumber + 1}`;
      byFn.set(name, (byFn.get(name) ?? 0) + t);
    }
    const busy = total - idle;
    const pct = (t: number) => `${fmt((t / busy) * 100, 1)} %`;
    const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
    out.push(`Profile ${file}: ${fmt(total / 1e6, 1)} s sampled, ${fmt((idle / total) * 100)} % idle`);
    out.push('', table(['where (self time)', 'share of busy'], sorted(byOwner).map(([k, t]) => [k, pct(t)])));
    out.push('', table(['function', 'share of busy'], sorted(byFn).map(([k, t]) => [k.replace(/\|/g, '\\|'), pct(t)])), '');
  }
  return out.join('\n');
}

if (require.main === module) process.stdout.write(`${summarizeProfiles(process.argv[2] ?? '.')}\n`);
