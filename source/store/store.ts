// The store: takes WatchUpdates from a source and gives immutable Snapshots
// of what the views draw: the connection state, the target, a bounded
// history of samples and GC pauses, and the series the sparklines plot.
//
// Connection states and their allowed transitions (the client's order):
//
//   connecting ──hello──▶ connected ──stream breaks──▶ reconnecting
//       ▲                                                   │
//       └───────────────────── next attempt ◀───────────────┘
//   any state ──▶ failed (final reason)      connected ──▶ ended (replay over)
//
// Snapshots are frozen and never change; every update makes a new one, so a
// view holding an old snapshot (paused) keeps drawing exactly what it had.
import type {Hello, Pause, Sample, TargetInfo, WatchUpdate} from '../client/events.js';

export type Connection =
	| {readonly state: 'connecting'; readonly address: string}
	| {readonly state: 'connected'}
	| {readonly state: 'reconnecting'; readonly reason: string; readonly nextAttemptMs: number}
	| {readonly state: 'failed'; readonly reason: string}
	| {readonly state: 'ended'; readonly reason: string};

/** A series of points, oldest first, with its extremes and newest value. */
export type Series = {
	readonly values: readonly number[];
	readonly min: number;
	readonly max: number;
	readonly last: number;
};

export type Snapshot = {
	readonly connection: Connection;
	/** Undefined until the first Hello. */
	readonly target: TargetInfo | undefined;
	readonly tickIntervalMs: number;
	/** Oldest first, at most historyLimit. */
	readonly samples: readonly Sample[];
	/** Every GC pause seen, one per cycle, oldest first, at most historyLimit. */
	readonly pauses: readonly Pause[];
	/** Pauses the runtime's ring lost between samples, summed over `samples`. */
	readonly pausesMissed: number;
	/** Per GC cycle: its stop-the-world pause in ns. */
	readonly gcPause: Series;
	/** Per sample: heap bytes live after the last GC. */
	readonly heapLive: Series;
	/** Per sample: bytes allocated per second. */
	readonly allocRate: Series;
};

/**
 * Samples and pauses kept. 512 covers the widest sparkline on a 4K-wide
 * terminal at one point per column; the agent's own history is shorter.
 */
export const historyLimit = 512;

/** Min, max and last of `values`; all 0 for an empty series. */
export function summarize(values: readonly number[]): Series {
	if (values.length === 0) return {values, min: 0, max: 0, last: 0};
	let min = Infinity;
	let max = -Infinity;
	for (const v of values) {
		if (v < min) min = v;
		if (v > max) max = v;
	}
	return {values, min, max, last: values.at(-1)!};
}

/** The newest `n` points of a series, summarised again (what a view of width n shows). */
export function tail(series: Series, n: number): Series {
	return series.values.length <= n ? series : summarize(series.values.slice(-Math.max(0, n)));
}

function derive(
	connection: Connection,
	target: TargetInfo | undefined,
	tickIntervalMs: number,
	samples: readonly Sample[],
	pauses: readonly Pause[],
): Snapshot {
	return Object.freeze({
		connection,
		target,
		tickIntervalMs,
		samples: Object.freeze(samples),
		pauses: Object.freeze(pauses),
		pausesMissed: samples.reduce((n, s) => n + s.pausesMissed, 0),
		gcPause: summarize(pauses.map(p => p.durationNs)),
		heapLive: summarize(samples.map(s => s.heapLiveBytes)),
		allocRate: summarize(samples.map(s => s.allocBytesPerSecond)),
	});
}

export const initialSnapshot: Snapshot = derive({state: 'connecting', address: ''}, undefined, 0, [], []);

function sameProcess(a: TargetInfo | undefined, b: TargetInfo): boolean {
	return a !== undefined && a.pid === b.pid && a.startMs === b.startMs;
}

/** Appends pauses of cycles not yet seen, keeping cycle order and the limit. */
function addPauses(pauses: readonly Pause[], more: readonly Pause[]): Pause[] {
	let lastCycle = pauses.at(-1)?.cycle ?? 0;
	const out = [...pauses];
	for (const p of more) {
		if (p.cycle <= lastCycle) continue;
		out.push(p);
		lastCycle = p.cycle;
	}
	return out.slice(-historyLimit);
}

/**
 * A Hello brings the agent's recent history. From the same process it is
 * merged with what we hold, sample by sample time (the agent keeps fewer
 * samples than we do, and its history overlaps what we already have); from
 * another process (a restart) it replaces it.
 */
function applyHello(s: Snapshot, hello: Hello): Snapshot {
	const same = sameProcess(s.target, hello.target);
	const byTime = new Map<number, Sample>(same ? s.samples.map(x => [x.timeMs, x]) : []);
	for (const x of hello.history) byTime.set(x.timeMs, x);
	const samples = [...byTime.values()].sort((a, b) => a.timeMs - b.timeMs).slice(-historyLimit);
	const pauses = addPauses(same ? s.pauses : [], hello.history.flatMap(x => x.pauses));
	return derive({state: 'connected'}, hello.target, hello.tickIntervalMs, samples, pauses);
}

/** The reducer: the snapshot after one update. Pure. */
export function reduce(s: Snapshot, u: WatchUpdate): Snapshot {
	switch (u.kind) {
		case 'connecting':
			return derive({state: 'connecting', address: u.address}, s.target, s.tickIntervalMs, s.samples, s.pauses);
		case 'hello':
			return applyHello(s, u.hello);
		case 'sample': {
			const samples = [...s.samples, u.sample].slice(-historyLimit);
			return derive(s.connection, s.target, s.tickIntervalMs, samples, addPauses(s.pauses, u.sample.pauses));
		}
		case 'reconnecting':
			return derive({state: 'reconnecting', reason: u.reason, nextAttemptMs: u.nextAttemptMs}, s.target, s.tickIntervalMs, s.samples, s.pauses);
		case 'failed':
			return derive({state: 'failed', reason: u.reason}, s.target, s.tickIntervalMs, s.samples, s.pauses);
		case 'ended':
			return derive({state: 'ended', reason: u.reason}, s.target, s.tickIntervalMs, s.samples, s.pauses);
	}
}

/** Holds the current snapshot and tells subscribers when it changes. */
export class Store {
	private current: Snapshot = initialSnapshot;
	private readonly listeners = new Set<(s: Snapshot) => void>();

	get snapshot(): Snapshot {
		return this.current;
	}

	apply(update: WatchUpdate): void {
		this.current = reduce(this.current, update);
		for (const l of this.listeners) l(this.current);
	}

	/** How many subscribers there are: 0 once every view has unmounted. */
	get subscriberCount(): number {
		return this.listeners.size;
	}

	/** Returns the function that unsubscribes. */
	subscribe(listener: (s: Snapshot) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}
}
