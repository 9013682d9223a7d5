// Recordings: takes what a Watch stream and the queries beside it carried
// and gives a file that replays them; takes such a file and gives the same
// WatchUpdates back, and answers the same queries from it.
//
// Format "heaptop-recording", version 2: UTF-8 JSON lines.
//   line 1      {"format":"heaptop-recording","version":2,"schemaVersion":1,
//                "recordedAt":"<RFC 3339 UTC>","heaptop":"<version>"}
//   then, in arrival order, one line per message:
//               {"t":<ms since recordedAt>,"event":"<base64 of one WatchEvent>"}
//                 exactly the protobuf bytes the stream carried; a reconnect
//                 shows as a second Hello;
//               {"t":<ms>,"call":"Capture"|"Expand"|"Path"|"Members"|"Groups","request":"<base64>",
//                "reply":"<base64>"}   or, when the agent refused,
//               {"t":<ms>,"call":…,"request":…,"status":{"code":<gRPC code>,"details":"…"}}
//                 one query: the request's bytes, and the reply's bytes or
//                 the status, when the answer arrived.
//   last line   {"end":true,"events":<event lines>,"calls":<call lines>}
// schemaVersion is the heaptop.v1 SCHEMA_VERSION the messages are encoded in.
// Version 1 is version 2 without call lines (and without "calls" in the end
// line); it is still read. A file without the end line is truncated (the
// recorder was killed) and is refused, like any other deviation: the reader
// names the line and the fault.
//
// Replay answers a query with the recorded answer to the same request bytes:
// Expand, Path, Members and Groups with any of them (they are idempotent), Capture with the
// next one not yet given, so `c` in a replay steps through the captures the
// recording made.
import fs from 'node:fs';
import {WatchEvent} from '../gen/heaptop/v1/heaptop.js';
import {ProtocolError, clientSchemaVersion, toUpdate, type Hello, type WatchUpdate} from './events.js';
import type {UpdateSource} from './watch.js';
import {shownPath, shownValue} from './text.js';
import type {GroupsPage, HeapSnapshot, Hop, ListName, MembersPage, TreeNode} from './heap.js';
import {
	QueryError,
	calls,
	captureRequest,
	decodeCapture,
	decodeExpand,
	decodeGroups,
	decodeMembers,
	decodePath,
	encodeRequest,
	expandRequest,
	groupsRequest,
	membersRequest,
	pathRequest,
	statusError,
	type CallName,
	type CaptureOptions,
	type PathOf,
	type RecordedCall,
} from './queries.js';

export const recordingFormat = 'heaptop-recording';
/** The version this heaptop writes. */
export const recordingVersion = 2;
/** The versions this heaptop reads. */
const readableVersions: readonly number[] = [1, 2];

/** A recording that cannot be read; the message is one line for the user. */
export class RecordingError extends Error {}

type Header = {format: string; version: number; schemaVersion: number; recordedAt: string; heaptop: string};

/** Appends a stream's messages to a file as they arrive; each line is written whole. */
export class Recorder {
	private fd: number | undefined;
	private readonly startMs = Date.now();
	private events = 0;
	private calls = 0;

	/** Creates (or truncates) `file` and writes the header line. Throws on I/O errors. */
	constructor(file: string, heaptopVersion: string) {
		this.fd = fs.openSync(file, 'w', 0o644);
		const header: Header = {
			format: recordingFormat,
			version: recordingVersion,
			schemaVersion: clientSchemaVersion,
			recordedAt: new Date(this.startMs).toISOString(),
			heaptop: heaptopVersion,
		};
		this.line(header);
	}

	/** Records one WatchEvent's bytes, as received. */
	add(bytes: Uint8Array): void {
		if (this.fd === undefined) return;
		this.events++;
		this.line({t: Date.now() - this.startMs, event: Buffer.from(bytes).toString('base64')});
	}

	/** Records one query and its answer, as exchanged. */
	addCall(c: RecordedCall): void {
		if (this.fd === undefined) return;
		this.calls++;
		const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
		const answer = c.reply ? {reply: base64(c.reply)} : {status: c.status};
		this.line({t: Date.now() - this.startMs, call: c.call, request: base64(c.request), ...answer});
	}

	/** Writes the end line and closes the file. Safe to call more than once. */
	close(): void {
		if (this.fd === undefined) return;
		this.line({end: true, events: this.events, calls: this.calls});
		fs.closeSync(this.fd);
		this.fd = undefined;
	}

	private line(value: unknown): void {
		fs.writeSync(this.fd!, JSON.stringify(value) + '\n');
	}
}

/** One recorded update and when it arrived, in ms after the recording began. */
export type RecordedUpdate = {readonly offsetMs: number; readonly update: WatchUpdate};

/** A recorded query's answer, decoded: what replay gives back. */
type Answer =
	| {readonly call: 'Capture'; readonly snapshot: HeapSnapshot}
	| {readonly call: 'Expand'; readonly nodes: readonly TreeNode[]}
	| {readonly call: 'Path'; readonly hops: readonly Hop[]}
	| {readonly call: 'Members'; readonly page: MembersPage}
	| {readonly call: 'Groups'; readonly groups: GroupsPage}
	| {readonly call: CallName; readonly error: QueryError};

/** One recorded query: its request's bytes (base64, the lookup key) and its answer. */
export type RecordedAnswer = {readonly offsetMs: number; readonly request: string; readonly answer: Answer};

export type Recording = {
	readonly recordedAt: string;
	readonly updates: readonly RecordedUpdate[];
	/** In the order the answers arrived. */
	readonly answers: readonly RecordedAnswer[];
};

const base64Text = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes a recorded query's answer; throws QueryError('refused', …) for bytes that do not decode. */
function answerOf(call: CallName, o: Record<string, unknown>): Answer | string {
	const reply = o['reply'];
	const status = o['status'];
	if (typeof reply === 'string') {
		if (!base64Text.test(reply)) return 'non-base64 "reply"';
		const bytes = Buffer.from(reply, 'base64');
		try {
			if (call === 'Capture') return {call, snapshot: decodeCapture(bytes)};
			if (call === 'Expand') return {call, nodes: decodeExpand(bytes)};
			if (call === 'Members') return {call, page: decodeMembers(bytes)};
			if (call === 'Groups') return {call, groups: decodeGroups(bytes)};
			return {call, hops: decodePath(bytes)};
		} catch (error) {
			return `${call} reply: ${(error as Error).message}`;
		}
	}
	if (typeof status === 'object' && status !== null) {
		const {code, details} = status as Record<string, unknown>;
		if (typeof code !== 'number' || !Number.isInteger(code) || code <= 0 || code > 16 || typeof details !== 'string') return 'a "status" without a gRPC code and details';
		return {call, error: statusError(call, code, details)};
	}
	return 'a call without "reply" or "status"';
}

/**
 * Reads and checks a whole recording. Every fault is a RecordingError that
 * names the file and line: unreadable, not a recording, another format or
 * schema version, a bad event, or truncated.
 */
export function readRecording(file: string): Recording {
	let text: string;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		throw new RecordingError(`cannot read recording ${shownPath(file)}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`);
	}
	const lines = text.split('\n');
	if (lines.at(-1) === '') lines.pop();
	const at = (n: number, what: string) => new RecordingError(`recording ${shownPath(file)} line ${n}: ${what}`);
	const parse = (n: number): Record<string, unknown> => {
		try {
			const v: unknown = JSON.parse(lines[n - 1]!);
			if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
		} catch {}
		throw at(n, 'not a JSON object (corrupt file?)');
	};
	if (lines.length === 0) throw new RecordingError(`recording ${shownPath(file)} is empty`);
	const header = parse(1);
	if (header['format'] !== recordingFormat) throw at(1, `not a heaptop recording (format ${shownValue(header['format'])})`);
	const version = header['version'];
	if (typeof version !== 'number' || !readableVersions.includes(version)) {
		throw at(1, `recording format version ${shownValue(version)}, this heaptop reads versions ${readableVersions.join(' and ')}`);
	}
	if (header['schemaVersion'] !== clientSchemaVersion) {
		throw at(1, `recorded with heaptop schema version ${shownValue(header['schemaVersion'])}, this heaptop speaks version ${clientSchemaVersion}`);
	}
	const updates: RecordedUpdate[] = [];
	const answers: RecordedAnswer[] = [];
	let ended = false;
	let previousMs = 0;
	for (let n = 2; n <= lines.length; n++) {
		const o = parse(n);
		if (ended) throw at(n, 'data after the end line');
		if (o['end'] === true) {
			if (o['events'] !== updates.length) throw at(n, `end line counts ${shownValue(o['events'])} events, the file has ${updates.length}`);
			if (version >= 2 && o['calls'] !== answers.length) throw at(n, `end line counts ${shownValue(o['calls'])} calls, the file has ${answers.length}`);
			ended = true;
			continue;
		}
		const t = o['t'];
		if (typeof t !== 'number' || !Number.isFinite(t) || t < previousMs) throw at(n, 'missing or decreasing time offset "t"');
		if (o['call'] !== undefined) {
			const call = o['call'];
			if (version < 2) throw at(n, 'a call line in a version 1 recording');
			if (typeof call !== 'string' || !Object.hasOwn(calls, call)) throw at(n, `unknown call ${shownValue(call)}`);
			const request = o['request'];
			if (typeof request !== 'string' || !base64Text.test(request)) throw at(n, 'missing or non-base64 "request"');
			const answer = answerOf(call as CallName, o);
			if (typeof answer === 'string') throw at(n, answer);
			previousMs = t;
			answers.push({offsetMs: t, request, answer});
			continue;
		}
		const event = o['event'];
		if (typeof event !== 'string' || !base64Text.test(event)) throw at(n, 'missing or non-base64 "event"');
		previousMs = t;
		let update: WatchUpdate;
		try {
			const first = updates.length === 0;
			update = toUpdate(WatchEvent.decode(Buffer.from(event, 'base64')), first);
		} catch (error) {
			const why = error instanceof ProtocolError ? error.message : `undecodable event (${(error as Error).message})`;
			throw at(n, why);
		}
		updates.push({offsetMs: t, update});
	}
	if (!ended) throw new RecordingError(`recording ${shownPath(file)} is truncated: no end line after ${updates.length} events`);
	if (updates.length === 0) throw new RecordingError(`recording ${shownPath(file)} holds no events`);
	return {recordedAt: typeof header['recordedAt'] === 'string' ? header['recordedAt'] : '', updates, answers};
}

/**
 * Drives the UI from a recording, then says `ended`: paced, at the speed it
 * was recorded (the live screen); unpaced, all at once (--once, tests).
 */
export class Replay implements UpdateSource {
	private readonly recording: Recording;
	private readonly label: string;
	private readonly paced: boolean;
	private timers: NodeJS.Timeout[] = [];
	private closed = false;
	/** Recorded captures already given, per request: `c` steps through them. */
	private readonly capturesGiven = new Map<string, number>();

	constructor(recording: Recording, label: string, {paced = true} = {}) {
		this.recording = recording;
		this.label = label;
		this.paced = paced;
	}

	start(listener: (update: WatchUpdate) => void): Promise<Hello> {
		const {updates} = this.recording;
		const first = updates[0]!.update;
		// readRecording proved the first update is a Hello.
		if (first.kind !== 'hello') throw new RecordingError(`recording ${shownPath(this.label)} does not start with a Hello`);
		const base = updates[0]!.offsetMs;
		listener({kind: 'connecting', address: this.label});
		listener(first);
		const ended: WatchUpdate = {kind: 'ended', reason: `end of recording ${this.label}`};
		if (!this.paced) {
			for (const {update} of updates.slice(1)) listener(update);
			listener(ended);
			return Promise.resolve(first.hello);
		}
		for (const {offsetMs, update} of updates.slice(1)) {
			this.timers.push(setTimeout(() => this.closed || listener(update), offsetMs - base));
		}
		const lastMs = updates.at(-1)!.offsetMs - base;
		this.timers.push(setTimeout(() => this.closed || listener(ended), lastMs));
		return Promise.resolve(first.hello);
	}

	close(): void {
		this.closed = true;
		for (const t of this.timers) clearTimeout(t);
		this.timers = [];
	}

	capture(options: CaptureOptions): Promise<HeapSnapshot> {
		const request = base64Of('Capture', captureRequest(options));
		const given = this.capturesGiven.get(request) ?? 0;
		const recorded = this.recording.answers.filter(a => a.answer.call === 'Capture' && a.request === request)[given];
		if (!recorded) {
			const what = options.forceGc ? 'GC and capture' : 'capture';
			return Promise.reject(new QueryError('not-recorded', `the recording holds no further ${what}${options.confirmCost ? ' confirmed' : ''}`));
		}
		this.capturesGiven.set(request, given + 1);
		return settle(recorded.answer, a => ('snapshot' in a ? a.snapshot : undefined));
	}

	expand(snapshotId: number, node: number, offset: number, limit?: number): Promise<readonly TreeNode[]> {
		const answer = this.answer('Expand', base64Of('Expand', expandRequest(snapshotId, node, offset, limit)));
		if (!answer) return Promise.reject(new QueryError('not-recorded', `the recording holds no Expand of node ${node} from ${offset} in snapshot ${snapshotId}`));
		return settle(answer, a => ('nodes' in a ? a.nodes : undefined));
	}

	path(snapshotId: number, of: PathOf): Promise<readonly Hop[]> {
		const answer = this.answer('Path', base64Of('Path', pathRequest(snapshotId, of)));
		if (!answer) return Promise.reject(new QueryError('not-recorded', `the recording holds no Path of this in snapshot ${snapshotId}`));
		return settle(answer, a => ('hops' in a ? a.hops : undefined));
	}

	members(snapshotId: number, groupKey: string, offset: number, limit?: number): Promise<MembersPage> {
		const answer = this.answer('Members', base64Of('Members', membersRequest(snapshotId, groupKey, offset, limit)));
		if (!answer) return Promise.reject(new QueryError('not-recorded', `the recording holds no Members of this group from ${offset} in snapshot ${snapshotId}`));
		return settle(answer, a => ('page' in a ? a.page : undefined));
	}

	groups(snapshotId: number, list: ListName, filter: string, offset: number, limit?: number): Promise<GroupsPage> {
		const answer = this.answer('Groups', base64Of('Groups', groupsRequest(snapshotId, list, filter, offset, limit)));
		if (!answer) return Promise.reject(new QueryError('not-recorded', `the recording holds no Groups of the ${list} list from ${offset}${filter ? ` matching "${filter}"` : ''} in snapshot ${snapshotId}`));
		return settle(answer, a => ('groups' in a ? a.groups : undefined));
	}

	private answer(call: CallName, request: string): Answer | undefined {
		return this.recording.answers.find(a => a.answer.call === call && a.request === request)?.answer;
	}
}

function base64Of(call: CallName, request: Parameters<typeof encodeRequest>[1]): string {
	return Buffer.from(encodeRequest(call, request)).toString('base64');
}

/** A recorded answer as the live query would have settled: its value, or its error. */
function settle<T>(answer: Answer, value: (a: Answer) => T | undefined): Promise<T> {
	if ('error' in answer) return Promise.reject(answer.error);
	const v = value(answer);
	return v === undefined ? Promise.reject(new QueryError('refused', `a recorded ${answer.call} reply of the wrong kind`)) : Promise.resolve(v);
}
