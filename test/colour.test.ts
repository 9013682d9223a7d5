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

test.serial('replay - --replay --once prints the recording’s final state in 80 columns, and says it carries no heap snapshot', async t => {
	const run = await runHeaptop(replay, {NO_COLOR: '1'});
	t.is(
		run.stdout,
		[
			'heaptop  pid 25332  go1.26.8  /tmp/heaptop-record-Tq3dgl/demo       replay ended',
			'heap live 2.48 MiB / goal 5.21 MiB   objects 11,081   goroutines 13',
			'GC 14 cycles, 0.00% CPU',
			'end of recording snapshots/demo.jsonl',
			'',
			'GC pause          ▂█▂▂▄▂▁▁▁▁▁▁▂▁ min     193 µs  max    4.05 ms  last     360 µs',
			'heap live   ▁▃▃▇▇██████▇████████ min   2.01 MiB  max   2.53 MiB  last   2.48 MiB',
			'alloc rate  ██▆█▄▇▅██▄▆██▅█▅█▆▇▆ min  586 KiB/s  max 1.53 MiB/s  last 1.14 MiB/s',
			'last 20 samples (20 s) and last 14 GC pauses',
			'',
			'no heap snapshot: the recording carries none',
			'',
		].join('\n'),
	);
});
