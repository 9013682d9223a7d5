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

test.serial('replay - --replay --once prints the recording’s final state', async t => {
	const run = await runHeaptop(replay, {NO_COLOR: '1'});
	t.is(
		run.stdout,
		[
			'heaptop  pid 15247  go1.26.8  /tmp/heaptop-record-ndpJie/demo                           replay ended',
			'heap live 24.3 MiB / goal 48.9 MiB   objects 84,623   goroutines 13   GC 23 cycles, 0.00% CPU',
			'end of recording snapshots/demo.jsonl',
			'',
			'GC pause                     ▁▁▁▁▁▁▁▁▁▃▁▁▁▁▇▁▁▂▁▁▁█▁ min     324 µs  max    48.8 ms  last    2.28 ms',
			'heap live   ▁▁▁▁▁▁▁▁▁▁▁▁▁▄▄▄▂▂▂▂▂▂▂▂▂▂▂▂▂▂▂▅▅▅▅▅████ min   13.8 MiB  max   24.3 MiB  last   24.3 MiB',
			'alloc rate  ██▅▂▂▁▂▅▆▁▄▁▂▄▂▂▁▁▁▁▂▂▂▁▁▂▂▁▄▁▁▆▄▃▆▃▇▅▂▂ min  184 KiB/s  max 6.67 MiB/s  last 1.10 MiB/s',
			'last 40 samples (40 s) and last 23 GC pauses',
			'',
		].join('\n'),
	);
});
