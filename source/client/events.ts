// The typed events the client hands to the store: takes decoded WatchEvent
// messages (source/gen, heaptop/v1) and gives plain, immutable domain values
// (the graph tier's are in heap.ts). Nothing outside source/client sees a
// generated or a gRPC type.
//
// Units: times are milliseconds since the Unix epoch (as Date.now()); byte and
// object counts are plain numbers (exact up to 2^53, i.e. 8 PiB); pause
// durations stay in nanoseconds because a pause is often under 1 µs.
import {SchemaVersion, type GcPause, type Target, type Tick, type WatchEvent} from '../gen/heaptop/v1/heaptop.js';
import {printable} from './text.js';
import {toHeapSnapshot, toProgress, type HeapSnapshot, type Progress} from './heap.js';

/** The schema version this heaptop was generated from (proto SCHEMA_VERSION_CURRENT). */
export const clientSchemaVersion: number = SchemaVersion.SCHEMA_VERSION_CURRENT;

/** Who the agent runs in. Mirrors heaptop.v1.Target. */
export type TargetInfo = {
	readonly pid: number;
	readonly executable: string;
	readonly goVersion: string;
	readonly startMs: number;
	/** Where the agent listens: "unix:///path" or "host:port". */
	readonly address: string;
	readonly hostname: string;
	readonly platform: string;
	readonly agentVersion: string;
	readonly args: readonly string[];
};

/** One stop-the-world GC pause, as the runtime recorded it. Mirrors heaptop.v1.GcPause. */
export type Pause = {
	/** GC cycle the pause belongs to (1-based, MemStats.NumGC). */
	readonly cycle: number;
	readonly endMs: number;
	readonly durationNs: number;
};

/** One sample of the metrics tier. Mirrors heaptop.v1.Tick. */
export type Sample = {
	readonly timeMs: number;
	readonly heapLiveBytes: number;
	readonly heapGoalBytes: number;
	readonly heapReleasedBytes: number;
	readonly heapObjects: number;
	readonly goroutines: number;
	readonly gcCycles: number;
	/** Pauses that ended since the previous sample, oldest first. */
	readonly pauses: readonly Pause[];
	/** Pauses lost to the runtime's 256-entry ring since the previous sample. */
	readonly pausesMissed: number;
	readonly gcCpuFraction: number;
	readonly allocBytesPerSecond: number;
	readonly allocObjectsPerSecond: number;
	readonly totalAllocBytes: number;
};

/** The first message of every stream: who, how often, and the recent past. */
export type Hello = {
	readonly target: TargetInfo;
	readonly tickIntervalMs: number;
	readonly history: readonly Sample[];
};

/**
 * What a watch tells its listener, in the order it can happen:
 * connecting → hello → (sample | progress | snapshot | notice)* →
 * (reconnecting → connecting → hello → …)* → failed | ended.
 */
export type WatchUpdate =
	| {readonly kind: 'connecting'; readonly address: string}
	| {readonly kind: 'hello'; readonly hello: Hello}
	| {readonly kind: 'sample'; readonly sample: Sample}
	/** A capture moved on: its phase and how much of it is done. */
	| {readonly kind: 'progress'; readonly progress: Progress}
	/** A heap snapshot document: findings first (complete false), then complete. */
	| {readonly kind: 'snapshot'; readonly snapshot: HeapSnapshot}
	/** One line from the agent: a refused or failed capture, a degradation. */
	| {readonly kind: 'notice'; readonly text: string; readonly error: boolean}
	/** The stream broke; another attempt is made at `nextAttemptMs` (epoch ms). */
	| {readonly kind: 'reconnecting'; readonly reason: string; readonly nextAttemptMs: number}
	/** Nothing more will come: the reason is final (schema mismatch, target gone). */
	| {readonly kind: 'failed'; readonly reason: string}
	/** A replay reached the end of its recording. */
	| {readonly kind: 'ended'; readonly reason: string};

/** Raised for a message this client cannot use; its text is shown to the user as is. */
export class ProtocolError extends Error {}

const nsPerMs = 1_000_000n;

function msFromNs(ns: bigint): number {
	return Number(ns / nsPerMs) + Number(ns % nsPerMs) / 1e6;
}

function toPause(p: GcPause): Pause {
	return {cycle: Number(p.cycle), endMs: msFromNs(p.endUnixNano), durationNs: Number(p.durationNs)};
}

/** Strings the agent sends are data: control characters in them never reach the terminal. */
function toTarget(t: Target): TargetInfo {
	return {
		pid: Number(t.pid),
		executable: printable(t.executable),
		goVersion: printable(t.goVersion),
		startMs: msFromNs(t.startUnixNano),
		address: printable(t.address),
		hostname: printable(t.hostname),
		platform: printable(t.platform),
		agentVersion: printable(t.agentVersion),
		args: t.args.map(printable),
	};
}

export function toSample(t: Tick): Sample {
	return {
		timeMs: msFromNs(t.unixNano),
		heapLiveBytes: Number(t.heapLiveBytes),
		heapGoalBytes: Number(t.heapGoalBytes),
		heapReleasedBytes: Number(t.heapReleasedBytes),
		heapObjects: Number(t.heapObjects),
		goroutines: Number(t.goroutines),
		gcCycles: Number(t.gcCycles),
		pauses: t.pauses.map(toPause),
		pausesMissed: Number(t.pausesMissed),
		gcCpuFraction: t.gcCpuFraction,
		allocBytesPerSecond: t.allocBytesPerSecond,
		allocObjectsPerSecond: t.allocObjectsPerSecond,
		totalAllocBytes: Number(t.totalAllocBytes),
	};
}

/**
 * Turns one decoded WatchEvent into an update. `first` says whether it is the
 * stream's first message, which must be a Hello of our schema version.
 * Throws ProtocolError naming what was wrong.
 */
export function toUpdate(event: WatchEvent, first: boolean): WatchUpdate {
	if (event.hello) {
		const h = event.hello;
		if (h.schemaVersion !== clientSchemaVersion) {
			throw new ProtocolError(
				`agent speaks heaptop schema version ${h.schemaVersion}, this heaptop speaks version ${clientSchemaVersion}; use matching versions`,
			);
		}
		if (!h.target) throw new ProtocolError('agent sent a Hello without a target');
		return {
			kind: 'hello',
			hello: {target: toTarget(h.target), tickIntervalMs: msFromNs(h.tickIntervalNs), history: h.history.map(toSample)},
		};
	}
	if (first) throw new ProtocolError('agent did not start the stream with a Hello');
	if (event.tick) return {kind: 'sample', sample: toSample(event.tick)};
	if (event.progress) return {kind: 'progress', progress: toProgress(event.progress)};
	if (event.snapshot) return {kind: 'snapshot', snapshot: toHeapSnapshot(event.snapshot)};
	if (event.notice) return {kind: 'notice', text: printable(event.notice.text), error: event.notice.error};
	throw new ProtocolError('agent sent an empty event (a newer schema?)');
}
