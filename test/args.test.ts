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
	});
	t.is(parseArgs(['--replay', 'r.jsonl']).replay, 'r.jsonl');
	t.is(parseArgs(['--', '-weird-socket-name']).target, '-weird-socket-name');
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
	];
	for (const [argv, message] of cases) t.throws(() => parseArgs(argv), {instanceOf: UsageError, message});
});

test('args - usage lists every flag', t => {
	const text = usage();
	for (const flag of ['--once', '--ascii', '--record FILE', '--replay FILE', '--token-file FILE', '--tls', '--ca FILE', '--color', '--no-color', '--help', '--version']) {
		t.true(text.includes(flag), flag);
	}
	t.true(text.includes('HEAPTOP_TOKEN'), 'the token variable');
});
