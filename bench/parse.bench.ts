// The metadata parser alone, on the drain's corpus: CPU per email of Postbote's parse
// (`parseMetadataOf`: the fast path, the skeleton, mailparser for the rest) against
// mailparser parsing every email whole (`parseMetadata`, the reference), in one process,
// alternated round by round. The drain's parser thread does the former; this isolates it
// from the cores' contention, so a change of a few hundredths of a millisecond shows.
//   npx tsx bench/parse.bench.ts [--messages 3000] [--rounds 5] [--shape mixed|documents]
import { isDeepStrictEqual } from 'node:util';
import { Readable } from 'node:stream';
import { parseMetadata, parseMetadataOf } from '../libs/storage/src/parse-metadata';
import { parseSimple } from '../libs/storage/src/parse-simple';
import { skeletonOf } from '../libs/storage/src/mime-skeleton';
import { message, SHAPES, type Shape } from './corpus';
import { benchArgs, fmt, fmtStats, stats, table } from './harness';

const args = benchArgs();
const MESSAGES = Number(args.get('messages') ?? 3000);
const ROUNDS = Number(args.get('rounds') ?? 5);
const SHAPE = (args.get('shape') ?? 'mixed') as Shape;
if (!SHAPES.includes(SHAPE)) throw new Error(`--shape: one of ${SHAPES.join(', ')}`);
const OPTIONS = { previewChars: 2000, timeoutMs: 60_000 };

type Parse = (raw: Buffer) => Promise<unknown>;
const POSTBOTE: Parse = (raw) => parseMetadataOf(raw, OPTIONS);
const MAILPARSER: Parse = (raw) => parseMetadata(Readable.from([raw]), OPTIONS);

/** CPU (user + system, all threads of this process) per email in ms, for one pass over the corpus. */
async function pass(corpus: readonly Buffer[], parse: Parse): Promise<number> {
  const t0 = process.cpuUsage();
  for (const raw of corpus) await parse(raw);
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1000 / corpus.length;
}

async function main(): Promise<void> {
  const corpus = Array.from({ length: MESSAGES }, (_, i) => message(1, i, SHAPE));
  const bytes = corpus.reduce((n, m) => n + m.length, 0);
  // Which lane each email takes, and whether the two give the same metadata (they must).
  let simple = 0;
  let skeleton = 0;
  let differ = 0;
  for (const raw of corpus) {
    if (parseSimple(raw, OPTIONS.previewChars)) simple++;
    else if (skeletonOf(raw)) skeleton++;
    const [a, b] = [await POSTBOTE(raw), await MAILPARSER(raw)];
    if (!isDeepStrictEqual(a, b)) differ++;
  }
  const ours: number[] = [];
  const reference: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    ours.push(await pass(corpus, POSTBOTE));
    reference.push(await pass(corpus, MAILPARSER));
  }
  const o = stats(ours);
  const m = stats(reference);
  const head = `Metadata parsing alone, ${MESSAGES} emails of the ${SHAPE} corpus (${fmt(bytes / MESSAGES / 1024, 1)} KiB mean), ${ROUNDS} alternated rounds after one of warm-up, medians (min–max), ${new Date().toISOString()}, Node ${process.versions.node}`;
  const rows = [
    ['mailparser, every email whole (reference)', fmtStats(m, 3), '100 %'],
    ['Postbote (fast path, skeleton, mailparser)', fmtStats(o, 3), `${fmt((100 * o.median) / m.median)} %`],
  ];
  const lanes = `lanes: fast path ${simple}, skeleton ${skeleton}, mailparser ${MESSAGES - simple - skeleton}; metadata differing from mailparser's: ${differ}`;
  process.stdout.write(`${head}\n\n${table(['parser', 'CPU ms/email', 'of mailparser'], rows)}\n\n${lanes}\n`);
  if (differ > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
