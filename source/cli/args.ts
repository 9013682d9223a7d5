// Command-line arguments: takes argv and gives Options, or a UsageError with
// one line for the user. The flags are a table; --help is printed from it.
import fs from 'node:fs';
import {shown} from '../client/text.js';

export type Options = {
	readonly target: string | undefined;
	readonly once: boolean;
	readonly ascii: boolean;
	readonly record: string | undefined;
	readonly replay: string | undefined;
	/** Speak TLS to a HOST:PORT target (implied by ca). */
	readonly tls: boolean;
	/** PEM file of the CA to trust instead of Node's built-in list. */
	readonly ca: string | undefined;
	/** File holding the agent's token (else $HEAPTOP_TOKEN). */
	readonly tokenFile: string | undefined;
	readonly help: boolean;
	readonly version: boolean;
	/** Print the report as one JSON document (implies once). */
	readonly json: boolean;
	/** Finding kinds that make the exit status 1 (implies once). */
	readonly failOn: readonly string[];
	/** Use the agent's latest snapshot when younger than this, instead of capturing (ms). */
	readonly maxAgeMs: number | undefined;
	/** Files to write the snapshot to, in the order given (implies once). */
	readonly exports: readonly Export[];
	/** The finding a dot or svg export is drawn around (default: the first one the report lists). */
	readonly finding: string | undefined;
	/** The figures only: no heap snapshot, so no pause in the target. */
	readonly noCapture: boolean;
	/** Accept a capture the agent's pause budget would refuse (the report says what it cost). */
	readonly confirmCost: boolean;
};

export const exportKinds = ['pprof', 'dot', 'svg'] as const;
export type Export = {readonly kind: (typeof exportKinds)[number]; readonly file: string};

/** The finding kinds --fail-on takes: those of the report (source/report/document.ts). */
export const failKinds = ['dangling', 'dangling-soon', 'stack', 'unprotected', 'leak', 'suspect'] as const;

/** A bad command line; the message is one line for the user. */
export class UsageError extends Error {}

type Flag = {
	readonly names: readonly string[];
	/** How --help names the flag, when not its names joined. */
	readonly display?: string;
	/** The value's placeholder, for flags that take one. */
	readonly value?: string;
	/** The second value's placeholder, for the flags that take two (--export KIND FILE). */
	readonly second?: string;
	readonly help: string;
	readonly set: (o: Mutable<Options>, value: string, second: string) => void;
};

type Mutable<T> = {-readonly [K in keyof T]: T[K]};

/**
 * The colour flags are read by chalk itself, from process.argv, when Ink is
 * first imported; they are listed here so they are documented and accepted.
 */
const flags: readonly Flag[] = [
	{names: ['--once'], help: 'capture a snapshot, print the report and exit (also when stdout is not a terminal)', set: o => (o.once = true)},
	{names: ['--json'], help: 'print the report as one JSON document (schema: source/report/report.schema.json)', set: o => (o.json = true)},
	{names: ['--fail-on'], value: 'KIND[,KIND]', help: `exit 1 when the snapshot has findings of these kinds (${failKinds.join(', ')})`, set: (o, v) => (o.failOn = failOn(v))},
	{names: ['--max-age'], value: 'AGE', help: 'use the agent\'s latest snapshot when younger than AGE (500ms, 30s, 5m, 1h) instead of capturing', set: (o, v) => (o.maxAgeMs = duration(v))},
	{names: ['--export'], value: 'KIND', second: 'FILE', help: 'also write the snapshot to FILE: pprof (retention profile), dot or svg (a finding\'s subgraph)', set: (o, kind, file) => (o.exports = [...o.exports, exportOf(kind, file)])},
	{names: ['--finding'], value: 'KEY', help: 'draw the dot or svg export around this finding (its key, as --json gives it)', set: (o, v) => (o.finding = v)},
	{names: ['--confirm-cost'], help: 'with --once, capture even when the agent predicts a pause over its budget', set: o => (o.confirmCost = true)},
	{names: ['--no-capture'], help: 'with --once, the figures only: take no heap snapshot (no pause in the target)', set: o => (o.noCapture = true)},
	{names: ['--ascii'], help: 'draw with ASCII characters only (also when TERM=dumb)', set: o => (o.ascii = true)},
	{names: ['--record'], value: 'FILE', help: 'write everything the stream carries to FILE (format: README, Recordings)', set: (o, v) => (o.record = v)},
	{names: ['--replay'], value: 'FILE', help: 'show a recording instead of a live agent (with --once: its final state)', set: (o, v) => (o.replay = v)},
	{names: ['--token-file'], value: 'FILE', help: 'read the TCP agent\'s token from FILE (default: $HEAPTOP_TOKEN)', set: (o, v) => (o.tokenFile = v)},
	{names: ['--tls'], help: 'speak TLS to a HOST:PORT agent, trusting Node\'s built-in CAs', set: o => (o.tls = true)},
	{names: ['--ca'], value: 'FILE', help: 'with TLS, trust the CA certificate(s) in PEM FILE instead (implies --tls)', set: (o, v) => (o.ca = v)},
	{names: ['--color', '--color=256', '--color=16m', '--color=truecolor'], display: '--color[=256|16m]', help: 'colour even when not a terminal (as FORCE_COLOR=1..3)', set: () => {}},
	{names: ['--no-color'], help: 'no colour (as NO_COLOR=1)', set: () => {}},
	{names: ['--help', '-h'], help: 'show this help and exit', set: o => (o.help = true)},
	{names: ['--version', '-V'], help: 'print the version and exit', set: o => (o.version = true)},
];

export function parseArgs(argv: readonly string[]): Options {
	const o: Mutable<Options> = {
		target: undefined,
		once: false,
		ascii: false,
		record: undefined,
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
	};
	const positional: string[] = [];
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (arg === '--') {
			positional.push(...argv.slice(i + 1));
			break;
		}
		if (!arg.startsWith('-') || arg === '-') {
			positional.push(arg);
			continue;
		}
		const eq = arg.indexOf('=');
		const flag = flags.find(f => f.names.includes(arg)) ?? (eq > 0 ? flags.find(f => f.value && f.names.includes(arg.slice(0, eq))) : undefined);
		if (!flag) throw new UsageError(`unknown option ${shown(arg)} (see heaptop --help)`);
		if (!flag.value) {
			flag.set(o, '', '');
			continue;
		}
		const value = flag.names.includes(arg) ? argv[++i] : arg.slice(eq + 1);
		if (value === undefined || value === '') throw new UsageError(`${flag.names[0]} needs a ${flag.value}`);
		const second = flag.second ? argv[++i] : '';
		if (second === undefined || (flag.second && second === '')) throw new UsageError(`${flag.names[0]} needs a ${flag.value} and a ${flag.second}`);
		flag.set(o, value, second);
	}
	if (positional.length > 1) throw new UsageError(`one target at most, got ${positional.length}: ${[...positional.slice(0, 3).map(p => shown(p)), ...(positional.length > 3 ? ['…'] : [])].join(' ')}`);
	o.target = positional[0];
	if (o.replay !== undefined && o.target !== undefined) throw new UsageError('--replay shows a recording; it takes no target');
	if (o.replay !== undefined && o.record !== undefined) throw new UsageError('--replay and --record cannot be combined');
	if (o.replay !== undefined && (o.tls || o.ca !== undefined || o.tokenFile !== undefined)) {
		throw new UsageError('--replay reads a file; --tls, --ca and --token-file are for a live agent');
	}
	if (o.json || o.failOn.length > 0 || o.exports.length > 0 || o.maxAgeMs !== undefined) o.once = true;
	if (o.replay !== undefined && o.maxAgeMs !== undefined) throw new UsageError('--max-age asks a live agent; --replay reads a file');
	if (o.noCapture && (o.json || o.failOn.length > 0 || o.exports.length > 0 || o.maxAgeMs !== undefined)) {
		throw new UsageError('--no-capture prints the figures only; --json, --fail-on, --export and --max-age need a snapshot');
	}
	if (o.finding !== undefined && !o.exports.some(e => e.kind !== 'pprof')) throw new UsageError('--finding chooses what --export dot or svg draws; there is no such export');
	const files = o.exports.map(e => e.file);
	const twice = files.find((f, i) => files.indexOf(f) !== i);
	if (twice !== undefined) throw new UsageError(`--export writes ${shown(twice)} twice`);
	return o;
}

function failOn(value: string): string[] {
	const kinds = value.split(',').map(k => k.trim());
	const unknown = kinds.find(k => !(failKinds as readonly string[]).includes(k));
	if (unknown !== undefined) throw new UsageError(`--fail-on: no finding kind ${shown(unknown)} (kinds: ${failKinds.join(', ')})`);
	return kinds;
}

/** An age: 500ms, 30s, 5m, 1h; a bare number is seconds. */
function duration(value: string): number {
	const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value);
	const scale = {ms: 1, s: 1000, m: 60_000, h: 3_600_000} as const;
	const ms = m ? Number(m[1]) * scale[(m[2] ?? 's') as keyof typeof scale] : NaN;
	if (!Number.isFinite(ms) || ms <= 0 || ms > 7 * 24 * 3_600_000) throw new UsageError(`--max-age: not an age: ${shown(value)} (e.g. 30s, 5m, 1h; at most a week)`);
	return ms;
}

function exportOf(kind: string, file: string): Export {
	const k = exportKinds.find(e => e === kind);
	if (!k) throw new UsageError(`--export: no export ${shown(kind)} (kinds: ${exportKinds.join(', ')})`);
	return {kind: k, file};
}

export function usage(): string {
	const rows = flags.map(f => [(f.display ?? f.names.join(', ')) + (f.value ? ` ${f.value}` : '') + (f.second ? ` ${f.second}` : ''), f.help] as const);
	const width = Math.max(...rows.map(([n]) => n.length)) + 2;
	return [
		'heaptop: top for the Go heap',
		'',
		'usage: heaptop [TARGET] [options]',
		'',
		'TARGET is one of:',
		'  (none)       the only agent running (lists them when there are several)',
		'  PID          the agent in that process',
		'  PATH         the agent listening on that unix socket (or unix:///PATH)',
		'  HOST:PORT    the agent listening on that TCP address',
		'',
		'options:',
		...rows.map(([n, h]) => `  ${n.padEnd(width)}${h}`),
		'',
		'keys: q quit, ? help, p pause',
		'exit status: 0 ok; 1 findings of a --fail-on kind; 2 bad usage, target, connection, recording,',
		'  or no snapshot for --json, --fail-on or --export; 3 internal error',
		'environment: HEAPTOP_DIR (where agents announce themselves), HEAPTOP_TOKEN (a TCP agent\'s token;',
		'  never put it on the command line, where ps shows it), NO_COLOR, FORCE_COLOR',
	].join('\n');
}

/**
 * heaptop's version, from the nearest package.json above this module: two
 * levels up from source/cli/ and dist/cli/, one from the bundle dist/heaptop.js.
 */
export function version(): string {
	for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
		try {
			const pkg = JSON.parse(fs.readFileSync(new URL('package.json', dir), 'utf8')) as {name?: string; version?: string};
			if (pkg.name === 'heaptop' && pkg.version) return pkg.version;
		} catch {
			// No package.json here: look one level up.
		}
		if (dir.pathname === '/') return 'unknown';
	}
}
