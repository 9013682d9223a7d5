// The fuzzers of test/fuzz/harness.ts on a fixed slice of their cases (the
// same inputs on every run), and the bugs they found, each as a test of its
// own. The long run is test/fuzz/run.ts (RELIABILITY.md gives its figures).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import {UsageError, parseArgs} from '../source/cli/args.js';
import {RecordingError, Replay, readRecording} from '../source/client/recording.js';
import {TargetError, parseTarget} from '../source/client/target.js';
import {WatchEvent} from '../source/gen/heaptop/v1/heaptop.js';
import {renderReport} from '../source/report/render.js';
import {Store} from '../source/store/store.js';
import {fuzzArgs, fuzzRecordings, seedRecordings, type Tally} from './fuzz/harness.js';
import {root, tempDir} from './helpers/demo.js';

/** The seed of the slice `npm test` runs. */
const seed = 1;

function assertClean(t: import('ava').ExecutionContext, tally: Tally, cases: number) {
	t.is(tally.cases, cases);
	t.deepEqual(
		tally.failures.map(f => `case ${f.case}: ${f.failure.split('\n')[0]}`),
		[],
		tally.failures.map(f => JSON.stringify(f.input).slice(0, 300)).join('\n'),
	);
	t.true(tally.accepted > 0 && tally.refused > 0, `${tally.accepted} accepted, ${tally.refused} refused: the generator reaches both outcomes`);
}

test('fuzz - 5,000 command lines: each accepted or refused with a typed one-line error', t => {
	assertClean(t, fuzzArgs(seed, 0, 5_000, tempDir()), 5_000);
});

test('fuzz - 1,500 damaged recordings: each refused with a one-line error naming the file, or replayed and drawn cleanly', async t => {
	const tally = await fuzzRecordings(seed, 0, 1_500, seedRecordings(root), path.join(tempDir(), 'case.jsonl'));
	assertClean(t, tally, 1_500);
	t.true(tally.messages.size >= 30, `${tally.messages.size} distinct refusals: the damage reaches most of the reader's checks`);
});

// Regressions: what the fuzzers found.

test('args - an option or a target with a line break is quoted, and a long list of targets is cut', t => {
	t.throws(() => parseArgs(['--x\ny']), {instanceOf: UsageError, message: 'unknown option "--x\\ny" (see heaptop --help)'});
	t.throws(() => parseArgs(['a\u001b[2Jb', 'c']), {instanceOf: UsageError, message: 'one target at most, got 2: "a\\u001b[2Jb" c'});
	t.throws(() => parseArgs(['1', '2', '3', '4', '5']), {instanceOf: UsageError, message: 'one target at most, got 5: 1 2 3 …'});
});

test('target - a pid beyond 2^31-1 is not a pid (kill(2) takes 32 bits; Node threw and heaptop took the process for alive)', t => {
	t.is(parseTarget('2147483647').kind, 'pid');
	for (const arg of ['2147483648', '4294967297']) t.throws(() => parseTarget(arg), {instanceOf: TargetError, message: `not a pid: ${arg}`});
});

/** The committed recording with its header changed by `edit`, written to a file of its own. */
function withHeader(edit: (header: Record<string, unknown>) => void): string {
	const lines = fs.readFileSync(path.join(root, 'snapshots/demo.jsonl'), 'utf8').trimEnd().split('\n');
	const header = JSON.parse(lines[0]!) as Record<string, unknown>;
	edit(header);
	const file = path.join(tempDir(), 'edited.jsonl');
	fs.writeFileSync(file, [JSON.stringify(header), ...lines.slice(1)].join('\n') + '\n');
	return file;
}

test('recording - a header value with a line break, or of 2,000 characters, is quoted in one short line', t => {
	const broken = withHeader(h => (h['version'] = 'line\nbreak'));
	t.throws(() => readRecording(broken), {
		instanceOf: RecordingError,
		message: `recording ${broken} line 1: recording format version "line\\nbreak", this heaptop reads versions 1 and 2`,
	});
	const long = withHeader(h => (h['schemaVersion'] = 'x'.repeat(2_000)));
	t.throws(() => readRecording(long), {
		instanceOf: RecordingError,
		message: `recording ${long} line 1: recorded with heaptop schema version "${'x'.repeat(59)}…, this heaptop speaks version 1`,
	});
});

test('report - control characters the agent sent never reach the terminal', async t => {
	const lines = fs.readFileSync(path.join(root, 'snapshots/demo.jsonl'), 'utf8').trimEnd().split('\n');
	const hello = JSON.parse(lines[1]!) as {t: number; event: string};
	const event = WatchEvent.decode(Buffer.from(hello.event, 'base64'));
	event.hello!.target!.executable = '/srv/\u001b]0;owned\u0007\u009b2Jsvc\rX';
	event.hello!.target!.goVersion = 'go1\u001b[8m';
	hello.event = Buffer.from(WatchEvent.encode(event).finish()).toString('base64');
	const file = path.join(tempDir(), 'control.jsonl');
	fs.writeFileSync(file, [lines[0], JSON.stringify(hello), ...lines.slice(2)].join('\n') + '\n');

	const store = new Store();
	await new Replay(readRecording(file), file, {paced: false}).start(u => store.apply(u));
	t.is(store.snapshot.target?.executable, '/srv/\uFFFD]0;owned\uFFFD\uFFFD2Jsvc\uFFFDX');
	const report = renderReport(store.snapshot, {columns: 100, nowMs: 0});
	t.true(report.split('\n')[0]!.includes('go1\uFFFD[8m'), report.split('\n')[0]);
	t.false(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(report.replace(/\u001b\[[\d;]*m/g, '')), 'no control character but colours and line ends');
});
