// The store: takes WatchUpdates from a source (and heaptop's own updates:
// capture requests, query answers) and gives immutable Snapshots of what the
// views draw: the connection state, the target, a bounded history of samples
// and GC pauses, the series the sparklines plot, and the graph tier's state
// (heap.ts). The Store class also holds the navigation (navigation.ts) and
// the pause: while paused, the data shown stays as it was and navigating it
// still works.
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
import {initialHeap, reduceHeap, type HeapState, type LocalUpdate, type StoreUpdate} from './heap.js';
import {heapModel, type HeapModel} from './model.js';
import {followDocument, initialNavigation, navigate, type Move, type Navigation, type PaneHeights} from './navigation.js';

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
	/** The graph tier: the snapshot document shown, the capture under way, the last notice. */
	readonly heap: HeapState;
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
	heap: HeapState,
): Snapshot {
	return Object.freeze({
		heap,
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

export const initialSnapshot: Snapshot = derive({state: 'connecting', address: ''}, undefined, 0, [], [], initialHeap);

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
	// Another process's snapshot ids mean nothing to this one.
	return derive({state: 'connected'}, hello.target, hello.tickIntervalMs, samples, pauses, same ? s.heap : initialHeap);
}

/** A snapshot with another connection state. */
function withConnection(s: Snapshot, connection: Connection, heap: HeapState): Snapshot {
	return derive(connection, s.target, s.tickIntervalMs, s.samples, s.pauses, heap);
}

/**
 * The reducer: the snapshot after one update. Pure; `nowMs` stamps notices
 * (they fade after a while) and is the only clock it reads.
 */
export function reduce(s: Snapshot, u: StoreUpdate, nowMs = 0): Snapshot {
	const heap = reduceHeap(s.heap, u, nowMs);
	switch (u.kind) {
		case 'connecting':
			return withConnection(s, {state: 'connecting', address: u.address}, heap);
		case 'hello':
			return applyHello(s, u.hello);
		case 'sample': {
			const samples = [...s.samples, u.sample].slice(-historyLimit);
			return derive(s.connection, s.target, s.tickIntervalMs, samples, addPauses(s.pauses, u.sample.pauses), heap);
		}
		case 'reconnecting':
			return withConnection(s, {state: 'reconnecting', reason: u.reason, nextAttemptMs: u.nextAttemptMs}, heap);
		case 'failed':
			return withConnection(s, {state: 'failed', reason: u.reason}, heap);
		case 'ended':
			return withConnection(s, {state: 'ended', reason: u.reason}, heap);
		default:
			return heap === s.heap ? s : Object.freeze({...s, heap});
	}
}

/** What the live screen draws from: the data shown, where the user is, and whether updates are paused. */
export type StoreState = {
	readonly snapshot: Snapshot;
	readonly navigation: Navigation;
	readonly model: HeapModel | undefined;
	readonly paused: boolean;
};

/**
 * Holds the current state and tells subscribers when it changes. While
 * paused, stream updates go to the newest data only and the data shown stays;
 * heaptop's own updates (an expansion fetched, a capture's answer) reach
 * both, so navigating the paused screen works.
 */
export class Store {
	private latest: Snapshot = initialSnapshot;
	private shown: Snapshot = initialSnapshot;
	private paused = false;
	private navigation: Navigation = initialNavigation;
	private heights: PaneHeights = {tree: 10, lists: 10, path: 10};
	private cached: StoreState | undefined;
	private readonly listeners = new Set<(s: Snapshot) => void>();
	private readonly clock: () => number;

	constructor({clock = Date.now}: {clock?: () => number} = {}) {
		this.clock = clock;
	}

	/** The data shown. */
	get snapshot(): Snapshot {
		return this.shown;
	}

	/** Everything the screen draws; the same object until something changes (useSyncExternalStore). */
	get state(): StoreState {
		this.cached ??= Object.freeze({snapshot: this.shown, navigation: this.navigation, model: heapModel(this.shown.heap), paused: this.paused});
		return this.cached;
	}

	/** A stream update, or one of heaptop's own. */
	apply(update: StoreUpdate): void {
		const local = !isStreamUpdate(update);
		const now = this.clock();
		this.latest = reduce(this.latest, update, now);
		if (!this.paused) this.shown = this.latest;
		else if (local) this.shown = reduce(this.shown, update, now);
		this.navigation = followDocument(this.navigation, heapModel(this.shown.heap));
		this.changed();
	}

	/** A user's move. */
	navigate(move: Move): void {
		const next = navigate(this.navigation, move, heapModel(this.shown.heap), this.heights);
		if (next === this.navigation) return;
		this.navigation = next;
		this.changed();
	}

	/** Pauses or resumes updating the data shown. */
	setPaused(paused: boolean): void {
		if (paused === this.paused) return;
		this.paused = paused;
		if (!paused) {
			this.shown = this.latest;
			this.navigation = followDocument(this.navigation, heapModel(this.shown.heap));
		}
		this.changed();
	}

	/** How many rows each pane shows, for page moves and scrolling (the layout tells). */
	setPaneHeights(heights: PaneHeights): void {
		this.heights = heights;
	}

	/** How many subscribers there are: 0 once every view has unmounted. */
	get subscriberCount(): number {
		return this.listeners.size;
	}

	/** Calls `listener` with the data shown on every change; returns the function that unsubscribes. */
	subscribe(listener: (s: Snapshot) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	private changed(): void {
		this.cached = undefined;
		for (const l of this.listeners) l(this.shown);
	}
}

const localKinds: ReadonlySet<string> = new Set<LocalUpdate['kind']>([
	'capture-requested',
	'capture-refused',
	'capture-failed',
	'capture-cancelled',
	'captured',
	'expanded',
	'members',
	'groups',
	'local-notice',
]);

function isStreamUpdate(u: StoreUpdate): u is WatchUpdate {
	return !localKinds.has(u.kind);
}
