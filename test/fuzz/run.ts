// The long fuzz run: both fuzzers for a given time, reporting what
// RELIABILITY.md quotes. Not part of `npm test` (test/fuzz.test.ts runs a
// short, fixed slice of the same cases there).
//
//   node --import tsx test/fuzz/run.ts [--seconds 600] [--seed 1]
//
// Each failure is printed with its (seed, case) and input; rerun one case
// with --seed S --from I --to I+1. Exit status 1 if anything failed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parseArgs as parseNodeArgs} from 'node:util';
import {fuzzArgs, fuzzRecordings, newTally, seedRecordings, type Tally} from './harness.js';

const {values} = parseNodeArgs({
	options: {
		seconds: {type: 'string', default: '600'},
		seed: {type: 'string', default: '1'},
		from: {type: 'string', default: '0'},
		to: {type: 'string'},
	},
});
const seconds = Number(values.seconds);
const seed = Number(values.seed);
const from = Number(values.from);
const to = values.to === undefined ? Infinity : Number(values.to);

const root = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heaptop-fuzz-'));
process.on('exit', () => fs.rmSync(dir, {recursive: true, force: true}));
const seeds = seedRecordings(root);
const file = path.join(dir, 'case.jsonl');

const args = newTally();
const recordings = newTally();
const started = Date.now();
const deadline = started + seconds * 1000;
const batch = 200;
let argsMs = 0;
let recordingsMs = 0;
// Alternate batches, so that both fuzzers get time whatever the deadline.
for (let i = from; i < to && Date.now() < deadline; i += batch) {
	const end = Math.min(to, i + batch);
	let t = Date.now();
	fuzzArgs(seed, i, end, dir, args);
	argsMs += Date.now() - t;
	t = Date.now();
	await fuzzRecordings(seed, i, end, seeds, file, recordings);
	recordingsMs += Date.now() - t;
}

function report(name: string, tally: Tally, ms: number) {
	console.log(
		`${name}: ${tally.cases} cases in ${(ms / 1000).toFixed(0)} s (${((tally.cases / ms) * 1000).toFixed(0)}/s), ` +
			`${tally.accepted} accepted, ${tally.refused} refused with ${tally.messages.size} distinct messages, ${tally.failures.length} failures`,
	);
	for (const f of tally.failures.slice(0, 20)) console.log(`  FAIL seed ${seed} case ${f.case}: ${f.failure.split('\n').slice(0, 6).join('\n    ')}\n    input: ${JSON.stringify(f.input).slice(0, 400)}`);
}
console.log(`heaptop fuzz: seed ${seed}, ${((Date.now() - started) / 1000).toFixed(0)} s on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}`);
report('command line', args, argsMs);
report('recordings', recordings, recordingsMs);
process.exitCode = args.failures.length + recordings.failures.length > 0 ? 1 : 0;
