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
		'heaptop  pid 16247  go1.26.8  /tmp/heaptop-record-iGx63O/demo       replay ended',
		'heap live 22.1 MiB / goal 44.4 MiB   objects 38,410   goroutines 13',
		'GC 23 cycles, 0.33% CPU',
		'end of recording snapshots/demo.jsonl',
		'',
		'GC pause    ▁▁▁▁▆▁█▅▃▅▃▁▁▁▁▁▁▁▁▁ min    96.9 µs  max     102 ms  last    5.28 ms',
		'heap live   ▁▁▁▁▁▁▁▁▁▁▁▁▁▅▅▅▃███ min   13.5 MiB  max   22.1 MiB  last   22.1 MiB',
		'alloc rate  ▁▁▁▁▂▆▆▄▁▅▅▄█▆▁▂▇█▂▂ min 1.17 MiB/s  max 14.8 MiB/s  last 2.50 MiB/s',
		'last 20 samples (20 s) and last 20 GC pauses',
		'',
		'Snapshot #2  captured 4 s ago',
		'heap 16.0 MiB in 29,464 objects   pause 9.38 ms   analysis 180 ms',
		'allocation sites for 95.3% of objects, 98.0% of bytes (all recorded)',
		'',
	]);
	// The demo's planted bugs, as the recording's snapshot has them.
	t.true(lines.includes('Findings  34 dangling, 2 dangling soon, 256 leak, 1 suspect'), run.stdout);
	t.true(lines.includes('main.planted.evicted[0] holds 0x2377589ab140 as uintptr: free 48 B slot'), run.stdout);
	t.true(lines.every(line => [...line].length <= 80), run.stdout);
});
