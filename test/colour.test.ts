// Colour on the command line, through the real bin entry: the --once report of
// the committed recording, under each way of asking for or against colour.
import test from 'ava';
import {runHeaptop} from './helpers/heaptop.js';

const replay = ['--replay', 'snapshots/demo.jsonl', '--once'];
const esc = '\u001B[';

const cases: Array<[string, Record<string, string>, string[], boolean]> = [
	// Plain FORCE_COLOR=1, NO_COLOR=1 and piped output: once.test.ts, against the live demo.
	['FORCE_COLOR wins over NO_COLOR', {FORCE_COLOR: '1', NO_COLOR: '1'}, [], true],
	['--no-color wins over FORCE_COLOR=1', {FORCE_COLOR: '1'}, ['--no-color'], false],
	['--color wins over NO_COLOR=1', {NO_COLOR: '1'}, ['--color'], true],
];

for (const [title, env, flags, coloured] of cases) {
	test.serial(`colour - ${title}`, async t => {
		const run = await runHeaptop([...replay, ...flags], env);
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout.includes(esc), coloured);
	});
}

test.serial('replay - --replay --once prints the recording’s final state, its snapshot dated by the recording', async t => {
	const run = await runHeaptop(replay, {NO_COLOR: '1'});
	t.is(run.code, 0, run.stderr);
	const lines = run.stdout.split('\n');
	t.deepEqual(lines.slice(0, 14), [
		'heaptop  pid 15247  go1.26.8  /tmp/heaptop-record-ndpJie/demo       replay ended',
		'heap live 24.3 MiB / goal 48.9 MiB   objects 84,623   goroutines 13',
		'GC 23 cycles, 0.00% CPU',
		'end of recording snapshots/demo.jsonl',
		'',
		'GC pause    ▁▁▁▁▁▁▃▁▁▁▁▇▁▁▂▁▁▁█▁ min     324 µs  max    48.8 ms  last    2.28 ms',
		'heap live   ▁▁▁▁▁▁▁▁▁▁▁▄▄▄▄▄████ min   15.6 MiB  max   24.3 MiB  last   24.3 MiB',
		'alloc rate  ▃▂▂▁▁▂▂▁▅▁▁▇▅▃█▃█▇▂▂ min  440 KiB/s  max 5.35 MiB/s  last 1.10 MiB/s',
		'last 20 samples (20 s) and last 20 GC pauses',
		'',
		'Snapshot #2  captured 24 s ago',
		'heap 15.8 MiB in 28,312 objects   pause 114 ms   analysis 5.10 s',
		'allocation sites for 95.1% of objects, 98.0% of bytes (all recorded)',
		'',
	]);
	// The demo's planted bugs, as the recording's snapshot has them.
	t.true(lines.includes('Findings  42 dangling, 2 dangling soon, 1 unprotected, 256 leak, 3 suspect'), run.stdout);
	t.true(lines.includes('main.planted.evicted[1] holds 0x1493f8ee2480 as uintptr: free 48 B slot'), run.stdout);
	t.true(lines.every(line => [...line].length <= 80), run.stdout);
});
