// Fuzzing heaptop's two readers of untrusted input: the command line
// (parseArgs, then parseTarget, accessFor and resolveTarget, as main() runs
// them) and recordings (readRecording, then the store and the --once report
// drawn from what it gave). Inputs come from a seeded generator, so case i
// of seed s is always the same input: a failure names (seed, case) and
// replays exactly.
//
// The property, for every input: it is accepted, or refused with one of the
// typed errors main() turns into `heaptop: <line>` and exit 2 — a message
// of one line, not empty, and (for recordings, whose content is untrusted)
// short. Anything else (another exception, a message of several lines)
// is a failure. An accepted recording must also replay into the store and
// draw the report at any width without throwing.
//
// test/fuzz.test.ts runs a few thousand cases on every `npm test`;
// test/fuzz/run.ts runs for as long as it is asked and reports the figures
// RELIABILITY.md quotes.
import fs from 'node:fs';
import path from 'node:path';
import {UsageError, parseArgs} from '../../source/cli/args.js';
import {AccessError, accessFor} from '../../source/client/channel.js';
import {RecordingError, Replay, readRecording} from '../../source/client/recording.js';
import {TargetError, parseTarget, resolveTarget} from '../../source/client/target.js';
import {WatchEvent} from '../../source/gen/heaptop/v1/heaptop.js';
import {Store} from '../../source/store/store.js';
import {renderReport} from '../../source/report/render.js';

/** A small, fast, seedable generator (mulberry32): uint32s, then helpers on them. */
export class Rng {
	private state: number;
	constructor(seed: number) {
		this.state = seed >>> 0;
	}

	uint32(): number {
		this.state = (this.state + 0x6d2b79f5) >>> 0;
		let z = this.state;
		z = Math.imul(z ^ (z >>> 15), z | 1);
		z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
		return (z ^ (z >>> 14)) >>> 0;
	}

	/** An integer in [0, n). */
	int(n: number): number {
		return n <= 0 ? 0 : this.uint32() % n;
	}

	chance(p: number): boolean {
		return this.uint32() / 2 ** 32 < p;
	}

	pick<T>(items: readonly T[]): T {
		return items[this.int(items.length)]!;
	}
}

/** The generator of case `i` of `seed`: independent of every other case. */
export function caseRng(seed: number, i: number): Rng {
	return new Rng(Math.imul(seed, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca77));
}

/** A refusal: the typed error's one-line message. */
export type Outcome = {readonly accepted: true} | {readonly accepted: false; readonly message: string};

/** An input that broke the property; the message says how. */
export class FuzzFailure extends Error {}

/** Checks that a refusal is one of the typed errors with a one-line message of at most maxLength. */
function refusal(error: unknown, typed: ReadonlyArray<abstract new (...args: never[]) => Error>, maxLength: number): Outcome {
	if (!typed.some(type => error instanceof type)) {
		const e = error as Error;
		throw new FuzzFailure(`untyped ${e?.constructor?.name ?? typeof error}: ${e?.stack ?? String(error)}`);
	}
	const {message} = error as Error;
	if (message === '' || /[\r\n]/.test(message) || message.length > maxLength) {
		throw new FuzzFailure(`${(error as Error).constructor.name} message is not one short line (${message.length} chars): ${JSON.stringify(message.slice(0, 500))}`);
	}
	return {accepted: false, message};
}

// ---------------------------------------------------------------------------
// The command line.

/** Words a command line is made of: every flag, in its forms, and values good and bad. */
const flagWords = [
	'--once', '--ascii', '--record', '--replay', '--token-file', '--tls', '--ca', '--color', '--color=256', '--color=16m',
	'--color=truecolor', '--no-color', '--help', '-h', '--version', '-V', '--', '-', '--record=', '--replay=', '--ca=',
	'--token-file=', '--once=1', '--tls=yes', '--colour', '-x', '---', '--=', '-once',
];
const valueWords = [
	'', ' ', '0', '1', '-1', '4242', '007', '2147483648', '4294967297', '99999999999999999999', '1e3', '0x10', String(2 ** 53), 'NaN',
	'127.0.0.1:7070', '127.0.0.1:0', '127.0.0.1:65536', '[::1]:7070', '[::1]', '::1:7070', 'localhost:1', 'host:port',
	'a:b:c', ':7070', 'example.com:443', '10.0.0.1:99999', '[fe80::1%eth0]:7070', 'unix:', 'unix://', 'unix:///',
	'unix:relative.sock', 'x.sock', './x.sock', '/', '.', '..', '/etc/hostname', '/dev/null', '/dev/zero',
	'/nonexistent/dir/file', 'not-a-target', '\u0000', 'ünïcödé', '🙂', 'line\nbreak', 'tab\there', '"quoted"',
	'$(id)', '%s%n', 'a'.repeat(300),
];

function randomString(r: Rng): string {
	const alphabet = 'abcxyz019:/.-_=[]@%\\ \t\n\u0000é🙂';
	const chars = [...alphabet];
	return Array.from({length: r.int(12)}, () => r.pick(chars)).join('');
}

/** One command line: up to 7 words, flags and values mixed, sometimes joined with '='. */
export function argvCase(r: Rng): string[] {
	const argv: string[] = [];
	for (let n = r.int(8); n > 0; n--) {
		const kind = r.int(10);
		if (kind < 4) argv.push(r.pick(flagWords));
		else if (kind < 8) argv.push(r.pick(valueWords));
		else if (kind < 9) argv.push(`${r.pick(flagWords)}=${r.pick(valueWords)}`);
		else argv.push(randomString(r));
	}
	return argv;
}

/**
 * Runs a command line through what main() does before it connects:
 * parseArgs, then for a live target parseTarget, accessFor (which reads
 * --token-file and --ca) and resolveTarget in `dir`, an empty discovery
 * directory. Replay files are not read here: the recording fuzzer does that.
 */
export function checkArgv(argv: readonly string[], dir: string, env: NodeJS.ProcessEnv = {}): Outcome {
	try {
		const options = parseArgs(argv);
		if (options.help || options.version || options.replay !== undefined) return {accepted: true};
		const spec = parseTarget(options.target);
		accessFor(spec, options, env);
		resolveTarget(spec, dir);
		return {accepted: true};
	} catch (error) {
		// An argument is echoed back to its author; it may be long, never several lines.
		return refusal(error, [UsageError, TargetError, AccessError], Infinity);
	}
}

// ---------------------------------------------------------------------------
// Recordings.

/** The recordings mutations start from: each one's lines. */
export function seedRecordings(root: string): string[][] {
	return [fs.readFileSync(path.join(root, 'snapshots/demo.jsonl'), 'utf8').trimEnd().split('\n')];
}

const extremeBigints = [0n, 1n, -1n, 2n ** 31n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n];
const extremeNumbers = [0, -0, -1, 1e-300, 1e300, Number.MAX_VALUE, -Number.MAX_VALUE, NaN, Infinity, -Infinity, 0.5, 2 ** 53];
const extremeStrings = ['', ' ', '\n', 'a\rb', '\u0007', '\u001b[2J\u001b[H', '\u001b]0;title\u0007', '\u009b31m', 'é🙂', 'x'.repeat(5_000), '../../etc/passwd', '\u0000'];

/**
 * Mutates a decoded protobuf message in place, structure-aware: numbers and
 * strings become extremes, repeated fields are emptied, cut or multiplied,
 * nested messages are recursed into or dropped.
 */
function mutateMessage(r: Rng, message: Record<string, unknown>, depth = 0): void {
	for (const key of Object.keys(message)) {
		const value = message[key];
		if (!r.chance(0.35)) {
			if (value && typeof value === 'object' && !Array.isArray(value) && depth < 4) mutateMessage(r, value as Record<string, unknown>, depth + 1);
			else if (Array.isArray(value) && depth < 4) for (const item of value) if (item && typeof item === 'object' && r.chance(0.2)) mutateMessage(r, item, depth + 1);
			continue;
		}
		if (typeof value === 'bigint') message[key] = r.pick(extremeBigints);
		else if (typeof value === 'number') message[key] = r.pick(extremeNumbers);
		else if (typeof value === 'string') message[key] = r.pick(extremeStrings);
		else if (typeof value === 'boolean') message[key] = !value;
		else if (Array.isArray(value)) {
			const how = r.int(3);
			if (how === 0) message[key] = [];
			else if (how === 1) message[key] = value.slice(0, r.int(value.length + 1));
			else message[key] = Array.from({length: Math.min(5_000, value.length * (2 + r.int(40)))}, (_, i) => value[i % Math.max(1, value.length)]).filter(v => v !== undefined);
		} else if (value && typeof value === 'object') message[key] = undefined;
	}
}

/** An event line's payload, mutated as bytes or as a message. */
function mutateEvent(r: Rng, base64: string): string {
	const bytes = Buffer.from(base64, 'base64');
	switch (r.int(4)) {
		case 0: {
			// Flip a few bits.
			for (let n = 1 + r.int(4); n > 0 && bytes.length > 0; n--) { const at = r.int(bytes.length); bytes[at] = bytes[at]! ^ (1 << r.int(8)); }
			return bytes.toString('base64');
		}
		case 1:
			return bytes.subarray(0, r.int(bytes.length + 1)).toString('base64');
		case 2: {
			const junk = Buffer.from(Array.from({length: 1 + r.int(16)}, () => r.int(256)));
			const at = r.int(bytes.length + 1);
			return Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]).toString('base64');
		}
		default: {
			try {
				const event = WatchEvent.decode(bytes) as unknown as Record<string, unknown>;
				mutateMessage(r, event);
				return Buffer.from(WatchEvent.encode(event as unknown as WatchEvent).finish()).toString('base64');
			} catch {
				return base64; // a mutation the encoder refuses (a negative uint64): keep the original
			}
		}
	}
}

const jsonValues: unknown[] = [null, true, false, 0, -1, 1, 2, 1.5, 1e308, -1e308, '', '1', 'x', [], {}, [1], {a: 1}, 'line\nbreak', 'x'.repeat(2_000)];

/** One line, changed in one way that keeps it JSON or breaks it; `event` changes its event. */
function mutateLine(r: Rng, line: string, event = false): string {
	let value: unknown;
	try {
		value = JSON.parse(line);
	} catch {
		return line;
	}
	if (event && value && typeof value === 'object' && typeof (value as Record<string, unknown>)['event'] === 'string') {
		const o = value as Record<string, unknown>;
		o['event'] = mutateEvent(r, o['event'] as string);
		return JSON.stringify(o);
	}
	if (!value || typeof value !== 'object' || Array.isArray(value) || r.chance(0.15)) {
		// Byte-level: cut, or change one character.
		if (r.chance(0.5)) return line.slice(0, r.int(line.length + 1));
		const at = r.int(line.length);
		return line.slice(0, at) + String.fromCharCode(r.int(128)) + line.slice(at + 1);
	}
	const o = value as Record<string, unknown>;
	const keys = Object.keys(o);
	const key = r.chance(0.9) && keys.length > 0 ? r.pick(keys) : r.pick(['t', 'event', 'end', 'events', 'format', 'version', 'x']);
	if (key === 'event' && typeof o['event'] === 'string' && r.chance(0.8)) o['event'] = mutateEvent(r, o['event']);
	else if (r.chance(0.1)) delete o[key];
	else o[key] = r.pick(jsonValues);
	return JSON.stringify(o);
}

/** One recording: a seed, changed in one to four ways at line level. */
export function recordingCase(r: Rng, seeds: readonly (readonly string[])[]): string {
	let lines = [...r.pick(seeds)];
	for (let n = 1 + r.int(4); n > 0; n--) {
		const i = r.int(lines.length);
		switch (r.int(9)) {
			case 0:
				lines = lines.slice(0, r.int(lines.length + 1)); // truncated
				break;
			case 1:
				lines.splice(i, 1); // a line lost
				break;
			case 2:
				lines.splice(i, 0, lines[r.int(lines.length)] ?? ''); // a line repeated
				break;
			case 3: {
				const j = r.int(lines.length); // two lines swapped
				[lines[i], lines[j]] = [lines[j]!, lines[i]!];
				break;
			}
			case 4:
				lines.splice(i, 0, r.pick(['', ' ', '{}', '[]', 'null', '\u0000', '\ufeff{}', '{"t":', randomLine(r)]));
				break;
			case 5:
				// The first event, the Hello: who the target is, and the history.
				if (lines.length > 1) lines[1] = mutateLine(r, lines[1]!, true);
				break;
			default:
				if (lines.length > 0) lines[i] = mutateLine(r, lines[i]!);
		}
	}
	const eol = r.chance(0.1) ? '\r\n' : '\n';
	return lines.join(eol) + (r.chance(0.9) ? eol : '');
}

function randomLine(r: Rng): string {
	return Buffer.from(Array.from({length: r.int(64)}, () => r.int(256))).toString('latin1');
}

/** The longest refusal a recording may cause, beyond its file name: one readable line. */
const maxRecordingMessage = 200;

/**
 * Reads `text` as the recording `file`, and when it is accepted replays it
 * into a store and draws the --once report at `columns`.
 */
export async function checkRecording(text: string, file: string, columns: number, ascii: boolean): Promise<Outcome> {
	fs.writeFileSync(file, text);
	let recording;
	let report: string;
	try {
		recording = readRecording(file);
	} catch (error) {
		return refusal(error, [RecordingError], file.length + maxRecordingMessage);
	}
	try {
		const store = new Store();
		await new Replay(recording, file, {paced: false}).start(u => store.apply(u));
		report = renderReport(store.snapshot, {columns, ascii, nowMs: 0});
	} catch (error) {
		throw new FuzzFailure(`an accepted recording broke the store or the report: ${(error as Error)?.stack ?? String(error)}`);
	}
	// What the recording carried must not reach the terminal as control
	// characters: only the report's own colour codes and line ends may.
	const control = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.exec(report.replace(/\u001b\[[\d;]*m/g, ''));
	if (control) throw new FuzzFailure(`the report of an accepted recording holds control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0')}`);
	return {accepted: true};
}

// ---------------------------------------------------------------------------
// Running.

export type Tally = {
	cases: number;
	accepted: number;
	refused: number;
	/** Distinct refusal messages, with file names and numbers blanked: how much of the checking code was reached. */
	messages: Set<string>;
	failures: Array<{readonly case: number; readonly input: unknown; readonly failure: string}>;
};

export function newTally(): Tally {
	return {cases: 0, accepted: 0, refused: 0, messages: new Set(), failures: []};
}

function count(tally: Tally, i: number, input: unknown, run: () => Outcome): void {
	tally.cases++;
	try {
		const outcome = run();
		if (outcome.accepted) tally.accepted++;
		else {
			tally.refused++;
			tally.messages.add(outcome.message.replace(/\/[^\s:]*/g, 'FILE').replace(/\d+/g, 'N'));
		}
	} catch (error) {
		tally.failures.push({case: i, input, failure: error instanceof FuzzFailure ? error.message : String((error as Error)?.stack ?? error)});
	}
}

/** Command-line cases from..to-1 of `seed`. */
export function fuzzArgs(seed: number, from: number, to: number, dir: string, tally = newTally()): Tally {
	for (let i = from; i < to; i++) {
		const r = caseRng(seed, i);
		const argv = argvCase(r);
		const env = r.chance(0.3) ? {HEAPTOP_TOKEN: r.pick(valueWords)} : {};
		count(tally, i, {argv, env}, () => checkArgv(argv, dir, env));
	}
	return tally;
}

/** Recording cases from..to-1 of `seed`, written to `file` in turn. */
export async function fuzzRecordings(seed: number, from: number, to: number, seeds: readonly (readonly string[])[], file: string, tally = newTally()): Promise<Tally> {
	for (let i = from; i < to; i++) {
		const r = caseRng(seed, i);
		const text = recordingCase(r, seeds);
		const columns = r.pick([1, 2, 10, 40, 80, 100, 250]);
		const ascii = r.chance(0.3);
		let outcome: Outcome | undefined;
		let failure: unknown;
		try {
			outcome = await checkRecording(text, file, columns, ascii);
		} catch (error) {
			failure = error;
		}
		count(tally, i, {text: text.length > 4_000 ? `${text.slice(0, 4_000)}…` : text, columns, ascii}, () => {
			if (failure !== undefined) throw failure;
			return outcome!;
		});
	}
	return tally;
}
