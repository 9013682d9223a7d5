// Recordings: takes the bytes a Watch stream carried and gives a file that
// replays them; takes such a file and gives the same WatchUpdates back.
//
// Format "heaptop-recording", version 1: UTF-8 JSON lines.
//   line 1      {"format":"heaptop-recording","version":1,"schemaVersion":1,
//                "recordedAt":"<RFC 3339 UTC>","heaptop":"<version>"}
//   then        {"t":<ms since recordedAt>,"event":"<base64 of one WatchEvent>"}
//               one line per message, exactly the protobuf bytes received,
//               in arrival order; a reconnect shows as a second Hello.
//   last line   {"end":true,"events":<number of event lines>}
// schemaVersion is the heaptop.v1 SCHEMA_VERSION the events are encoded in.
// A file without the end line is truncated (the recorder was killed) and is
// refused, like any other deviation: the reader names the line and the fault.
import fs from 'node:fs';
import {WatchEvent} from '../gen/heaptop/v1/heaptop.js';
import {ProtocolError, clientSchemaVersion, toUpdate, type Hello, type WatchUpdate} from './events.js';
import type {UpdateSource} from './watch.js';
import {shownPath, shownValue} from './text.js';

export const recordingFormat = 'heaptop-recording';
export const recordingVersion = 1;

/** A recording that cannot be read; the message is one line for the user. */
export class RecordingError extends Error {}

type Header = {format: string; version: number; schemaVersion: number; recordedAt: string; heaptop: string};

/** Appends a stream's messages to a file as they arrive; each line is written whole. */
export class Recorder {
	private fd: number | undefined;
	private readonly startMs = Date.now();
	private events = 0;

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

	/** Writes the end line and closes the file. Safe to call more than once. */
	close(): void {
		if (this.fd === undefined) return;
		this.line({end: true, events: this.events});
		fs.closeSync(this.fd);
		this.fd = undefined;
	}

	private line(value: unknown): void {
		fs.writeSync(this.fd!, JSON.stringify(value) + '\n');
	}
}

/** One recorded update and when it arrived, in ms after the recording began. */
export type RecordedUpdate = {readonly offsetMs: number; readonly update: WatchUpdate};

export type Recording = {readonly recordedAt: string; readonly updates: readonly RecordedUpdate[]};

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
	if (header['version'] !== recordingVersion) {
		throw at(1, `recording format version ${shownValue(header['version'])}, this heaptop reads version ${recordingVersion}`);
	}
	if (header['schemaVersion'] !== clientSchemaVersion) {
		throw at(1, `recorded with heaptop schema version ${shownValue(header['schemaVersion'])}, this heaptop speaks version ${clientSchemaVersion}`);
	}
	const updates: RecordedUpdate[] = [];
	let ended = false;
	let previousMs = 0;
	for (let n = 2; n <= lines.length; n++) {
		const o = parse(n);
		if (ended) throw at(n, 'data after the end line');
		if (o['end'] === true) {
			if (o['events'] !== updates.length) throw at(n, `end line counts ${shownValue(o['events'])} events, the file has ${updates.length}`);
			ended = true;
			continue;
		}
		const t = o['t'];
		const event = o['event'];
		if (typeof t !== 'number' || !Number.isFinite(t) || t < previousMs) throw at(n, 'missing or decreasing time offset "t"');
		if (typeof event !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(event)) throw at(n, 'missing or non-base64 "event"');
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
	return {recordedAt: typeof header['recordedAt'] === 'string' ? header['recordedAt'] : '', updates};
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
}
