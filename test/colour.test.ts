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
		'heaptop  pid 9549  go1.26.8  /tmp/heaptop-record-hhNTeh/demo        replay ended',
		'heap live 21.2 MiB / goal 42.6 MiB   objects 54,781   goroutines 13',
		'GC 34 cycles, 0.00% CPU',
		'end of recording snapshots/demo.jsonl',
		'',
		'GC pause    ▁▁▁▁▁▂▁▁▁▁▁▁▁█▃▂▁▁▄▁ min     170 µs  max    15.7 ms  last    1.46 ms',
		'heap live   ▁▁▁▁▁▁▁▁▁▁▁▅▇▇▇▇▇███ min   2.99 MiB  max   21.2 MiB  last   21.2 MiB',
		'alloc rate  ▁▁▁▁▁▁▁▁▁▁▁█▄▁▁▁▄▄▁▁ min 1.57 MiB/s  max 27.4 MiB/s  last 1.62 MiB/s',
		'last 20 samples (20 s) and last 20 GC pauses',
		'',
		'Snapshot #2  captured 4 s ago',
		'heap 18.3 MiB in 30,759 objects   pause 13.9 ms   analysis 283 ms',
		'allocation sites for 95.4% of objects, 98.3% of bytes (all recorded)',
		'',
	]);
	// The demo's planted bugs, as the recording's snapshot has them.
	t.true(lines.includes('Findings  63 dangling, 1 dangling soon, 256 leak, 2 suspect'), run.stdout);
	t.true(lines.includes('main.planted.evicted[0] holds 0x239d5485f020 as uintptr: free 48 B slot'), run.stdout);
	t.true(lines.every(line => [...line].length <= 80), run.stdout);
});
