import test from 'ava';
import {UsageError, parseArgs, usage} from '../source/cli/args.js';

test('args - target and flags in any order, --flag=value and --flag value', t => {
	t.deepEqual(parseArgs(['4242', '--once', '--ascii', '--record=out.jsonl']), {
		target: '4242',
		once: true,
		ascii: true,
		record: 'out.jsonl',
		replay: undefined,
		tls: false,
		ca: undefined,
		tokenFile: undefined,
		help: false,
		version: false,
		json: false,
		failOn: [],
		maxAgeMs: undefined,
		exports: [],
		finding: undefined,
		noCapture: false,
		confirmCost: false,
	});
	t.is(parseArgs(['--replay', 'r.jsonl']).replay, 'r.jsonl');
	t.true(parseArgs(['4242', '--once', '--confirm-cost']).confirmCost);
	t.is(parseArgs(['--', '-weird-socket-name']).target, '-weird-socket-name');
});

test('args - --json, --fail-on, --export and --max-age imply --once; --export takes a kind and a file, and repeats', t => {
	const o = parseArgs(['--json', '--fail-on', 'dangling,leak', '--max-age', '90s', '--export', 'pprof', 'p.pb.gz', '--export=dot', 'g.dot', '--finding', 'k']);
	t.true(o.once);
	t.true(o.json);
	t.deepEqual(o.failOn, ['dangling', 'leak']);
	t.is(o.maxAgeMs, 90_000);
	t.deepEqual(o.exports, [
		{kind: 'pprof', file: 'p.pb.gz'},
		{kind: 'dot', file: 'g.dot'},
	]);
	t.is(o.finding, 'k');
	for (const [age, ms] of [['500ms', 500], ['2m', 120_000], ['1.5h', 5_400_000], ['30', 30_000]] as const) t.is(parseArgs(['--max-age', age]).maxAgeMs, ms, age);
	for (const flags of [['--fail-on', 'leak'], ['--export', 'svg', 'x.svg'], ['--max-age', '1m']]) t.true(parseArgs(flags).once, flags.join(' '));
	t.false(parseArgs([]).once);
});

test('args - chalk colour flags are accepted', t => {
	for (const flag of ['--color', '--color=256', '--color=16m', '--no-color']) t.notThrows(() => parseArgs([flag]));
});

test('args - mistakes are UsageErrors with one line', t => {
	const cases: Array<[string[], string]> = [
		[['--bogus'], 'unknown option --bogus (see heaptop --help)'],
		[['--record'], '--record needs a FILE'],
		[['1', '2'], 'one target at most, got 2: 1 2'],
		[['1', '--replay', 'x'], '--replay shows a recording; it takes no target'],
		[['--replay', 'x', '--record', 'y'], '--replay and --record cannot be combined'],
		[['--replay', 'x', '--tls'], '--replay reads a file; --tls, --ca and --token-file are for a live agent'],
		[['--token-file'], '--token-file needs a FILE'],
		[['--ca='], '--ca needs a FILE'],
		[['--fail-on', 'dangling,oops'], '--fail-on: no finding kind oops (kinds: dangling, dangling-soon, stack, unprotected, leak, suspect)'],
		[['--fail-on'], '--fail-on needs a KIND[,KIND]'],
		[['--max-age', '5 minutes'], '--max-age: not an age: 5 minutes (e.g. 30s, 5m, 1h; at most a week)'],
		[['--max-age', '0s'], '--max-age: not an age: 0s (e.g. 30s, 5m, 1h; at most a week)'],
		[['--export', 'png', 'x.png'], '--export: no export png (kinds: pprof, dot, svg)'],
		[['--export', 'dot'], '--export needs a KIND and a FILE'],
		[['--export', 'dot', 'g.dot', '--export', 'svg', 'g.dot'], '--export writes g.dot twice'],
		[['--finding', 'dangling-1'], '--finding chooses what --export dot or svg draws; there is no such export'],
		[['--replay', 'x', '--max-age', '1m'], '--max-age asks a live agent; --replay reads a file'],
		[['--no-capture', '--json'], '--no-capture prints the figures only; --json, --fail-on, --export and --max-age need a snapshot'],
	];
	for (const [argv, message] of cases) t.throws(() => parseArgs(argv), {instanceOf: UsageError, message});
});

test('args - usage lists every flag', t => {
	const text = usage();
	for (const flag of ['--json', '--fail-on KIND[,KIND]', '--max-age AGE', '--export KIND FILE', '--finding KEY', '--no-capture', '--once', '--ascii', '--record FILE', '--replay FILE', '--token-file FILE', '--tls', '--ca FILE', '--color', '--no-color', '--help', '--version']) {
		t.true(text.includes(flag), flag);
	}
	t.true(text.includes('HEAPTOP_TOKEN'), 'the token variable');
});
