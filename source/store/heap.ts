// The graph tier's data in the store: takes heap snapshot documents, capture
// progress, notices and the answers of Capture, Expand, Members and Groups,
// and gives the HeapState the views draw from — the document shown, the
// tree nodes, list groups and their members fetched beyond it, where a
// capture is, and the last notice.
//
// Capture states and their allowed transitions:
//
//   idle ──c / C──▶ requested ──progress──▶ running ──complete document──▶ idle
//     ▲               │  │                    │  findings-only document: stays running
//     │               │  └─refused for cost─▶ confirm ──y──▶ requested
//     │               │                         └──any other key──▶ idle
//     │               └──────failed──────────▶ failed(reason) ──c / C──▶ requested
//     └───────────── progress from another client's capture: idle ──▶ running
//
// A document replaces the one shown when it is newer (a higher id), or is the
// complete version of the findings-only document shown (same id). The
// snapshot states the views tell apart (snapshotState) follow from these.
import type {HeapSnapshot, ListGroup, ListName, Member, Progress, TreeNode} from '../client/heap.js';
import type {WatchUpdate} from '../client/events.js';

export type CaptureState =
	| {readonly state: 'idle'}
	/** Asked for; no progress seen yet. */
	| {readonly state: 'requested'; readonly forceGc: boolean; readonly atMs: number}
	/** `atMs`: when this progress arrived, so the elapsed time can run on between phases. */
	| {readonly state: 'running'; readonly progress: Progress; readonly atMs: number}
	/** The agent refused for cost; the user is asked to confirm. */
	| {readonly state: 'confirm'; readonly forceGc: boolean; readonly reason: string}
	| {readonly state: 'failed'; readonly reason: string};

/** A one-line message for the user, from the agent or from a query that failed. */
export type Notice = {readonly text: string; readonly error: boolean; readonly atMs: number};

export type HeapState = {
	/** The newest document, or none before the first capture. */
	readonly document: HeapSnapshot | undefined;
	/** Tree nodes Expand returned for this document, in arrival order. */
	readonly fetched: readonly TreeNode[];
	/** Objects of list groups Members returned for this document, by group key, in the agent's order. */
	readonly members: ReadonlyMap<string, LoadedMembers>;
	/** Groups of the live and pending lists Groups returned for this document, by groupsKey(list, filter), in the agent's order. */
	readonly groups: ReadonlyMap<string, LoadedGroups>;
	readonly capture: CaptureState;
	readonly notice: Notice | undefined;
};

/** What a paged query has loaded so far, in the agent's order, and how many it has in all. */
export type Loaded<T> = {readonly loaded: readonly T[]; readonly total: number};

/** The objects of one group (Members). */
export type LoadedMembers = Loaded<Member>;

/**
 * Groups of a list (Groups): without a filter those after the document's
 * own; with one, every match from the first.
 */
export type LoadedGroups = Loaded<ListGroup>;

/** Where loaded groups of a list, unfiltered or for one filter, are kept. */
export function groupsKey(list: ListName, filter: string): string {
	return `${list}\u0000${filter.toLowerCase()}`;
}

/** The offset of a list's next page of groups: past the document's and those loaded, or, for a filter, past the matches loaded. */
export function nextGroupsOffset(document: HeapSnapshot, list: ListName, filter: string, loaded: LoadedGroups | undefined): number {
	const first = filter === '' ? document.groups.filter(g => g.list === list).length : 0;
	return first + (loaded?.loaded.length ?? 0);
}

/**
 * `pages` with a page of `key` appended, if it starts at `next`, where
 * those loaded end; undefined for a late, repeated or empty page.
 */
function withPage<T>(pages: ReadonlyMap<string, Loaded<T>>, key: string, next: number, offset: number, items: readonly T[], total: number): ReadonlyMap<string, Loaded<T>> | undefined {
	if (offset !== next || items.length === 0) return undefined;
	const extended = new Map(pages);
	extended.set(key, Object.freeze({loaded: Object.freeze([...(pages.get(key)?.loaded ?? []), ...items]), total}));
	return extended;
}

/** What the header says about snapshots: none yet, capturing, findings only, complete, or failed. */
export type SnapshotState =
	| {readonly state: 'none'}
	| {readonly state: 'capturing'; readonly progress: Progress | undefined; readonly atMs: number}
	| {readonly state: 'findings-only'}
	| {readonly state: 'complete'}
	| {readonly state: 'failed'; readonly reason: string};

/** Updates that come from heaptop itself (keys, query answers), not from the stream. */
export type LocalUpdate =
	| {readonly kind: 'capture-requested'; readonly forceGc: boolean}
	| {readonly kind: 'capture-refused'; readonly forceGc: boolean; readonly reason: string}
	| {readonly kind: 'capture-failed'; readonly reason: string}
	| {readonly kind: 'capture-cancelled'}
	/** Capture's own reply: the complete document. */
	| {readonly kind: 'captured'; readonly snapshot: HeapSnapshot}
	| {readonly kind: 'expanded'; readonly snapshotId: number; readonly nodes: readonly TreeNode[]}
	/** A page of a group's members from `offset`. */
	| {readonly kind: 'members'; readonly snapshotId: number; readonly groupKey: string; readonly offset: number; readonly members: readonly Member[]; readonly total: number}
	/** A page of a list's groups from `offset`, all or those matching `filter`. */
	| {
			readonly kind: 'groups';
			readonly snapshotId: number;
			readonly list: ListName;
			readonly filter: string;
			readonly offset: number;
			readonly groups: readonly ListGroup[];
			readonly total: number;
	  }
	| {readonly kind: 'local-notice'; readonly text: string; readonly error: boolean};

/** Everything the store reduces: the stream's updates and heaptop's own. */
export type StoreUpdate = WatchUpdate | LocalUpdate;

const noMembers: ReadonlyMap<string, LoadedMembers> = new Map();
const noGroups: ReadonlyMap<string, LoadedGroups> = new Map();

export const initialHeap: HeapState = Object.freeze({
	document: undefined,
	fetched: Object.freeze([]),
	members: noMembers,
	groups: noGroups,
	capture: Object.freeze({state: 'idle'}),
	notice: undefined,
});

export function snapshotState(h: HeapState): SnapshotState {
	const c = h.capture;
	if (c.state === 'requested') return {state: 'capturing', progress: undefined, atMs: c.atMs};
	if (c.state === 'running') return {state: 'capturing', progress: c.progress, atMs: c.atMs};
	if (c.state === 'failed' && !h.document) return {state: 'failed', reason: c.reason};
	if (!h.document) return {state: 'none'};
	return h.document.complete ? {state: 'complete'} : {state: 'findings-only'};
}

function heap(h: HeapState, change: Partial<HeapState>): HeapState {
	return Object.freeze({...h, ...change});
}

/** Whether `s` should replace the document shown. */
function isNewer(s: HeapSnapshot, shown: HeapSnapshot | undefined): boolean {
	return !shown || s.id > shown.id || (s.id === shown.id && s.complete && !shown.complete);
}

function withDocument(h: HeapState, s: HeapSnapshot): HeapState {
	if (!isNewer(s, h.document)) return h;
	const sameId = h.document?.id === s.id;
	const c = h.capture;
	// A complete document ends the capture it belongs to (and any older one).
	const done = s.complete && (c.state === 'requested' || (c.state === 'running' && c.progress.snapshotId <= s.id));
	return heap(h, {
		document: s,
		fetched: sameId ? h.fetched : Object.freeze([]),
		members: sameId ? h.members : noMembers,
		groups: sameId ? h.groups : noGroups,
		capture: done ? {state: 'idle'} : c,
	});
}

/** The heap state after a stream update (progress, snapshot, notice) or a local one. Pure. */
export function reduceHeap(h: HeapState, u: StoreUpdate, nowMs: number): HeapState {
	switch (u.kind) {
		case 'progress': {
			const p = u.progress;
			// Progress of a capture whose complete document is already shown is late news.
			if (h.document && (p.snapshotId < h.document.id || (p.snapshotId === h.document.id && h.document.complete))) return h;
			if (p.phase === 'done') return h;
			return heap(h, {capture: {state: 'running', progress: p, atMs: nowMs}});
		}
		case 'snapshot':
		case 'captured':
			return withDocument(h, u.snapshot);
		case 'notice': {
			const notice = {text: u.text, error: u.error, atMs: nowMs};
			const c = h.capture;
			// The agent tells every watcher when a capture fails: it is no longer running.
			if (u.error && (c.state === 'running' || c.state === 'requested')) return heap(h, {notice, capture: {state: 'failed', reason: u.text}});
			return heap(h, {notice});
		}
		case 'local-notice':
			return heap(h, {notice: {text: u.text, error: u.error, atMs: nowMs}});
		case 'capture-requested':
			return heap(h, {capture: {state: 'requested', forceGc: u.forceGc, atMs: nowMs}});
		case 'capture-refused':
			return heap(h, {capture: {state: 'confirm', forceGc: u.forceGc, reason: u.reason}});
		case 'capture-failed':
			return heap(h, {capture: {state: 'failed', reason: u.reason}, notice: {text: u.reason, error: true, atMs: nowMs}});
		case 'capture-cancelled':
			return h.capture.state === 'confirm' ? heap(h, {capture: {state: 'idle'}}) : h;
		case 'expanded': {
			if (h.document?.id !== u.snapshotId || u.nodes.length === 0) return h;
			const known = new Set(h.fetched.map(n => n.id));
			const fresh = u.nodes.filter(n => !known.has(n.id));
			return fresh.length === 0 ? h : heap(h, {fetched: Object.freeze([...h.fetched, ...fresh])});
		}
		// Pages are appended in order; a late or repeated page is dropped.
		case 'members': {
			if (h.document?.id !== u.snapshotId) return h;
			const members = withPage(h.members, u.groupKey, h.members.get(u.groupKey)?.loaded.length ?? 0, u.offset, u.members, u.total);
			return members ? heap(h, {members}) : h;
		}
		case 'groups': {
			if (h.document?.id !== u.snapshotId) return h;
			const key = groupsKey(u.list, u.filter);
			const groups = withPage(h.groups, key, nextGroupsOffset(h.document, u.list, u.filter, h.groups.get(key)), u.offset, u.groups, u.total);
			return groups ? heap(h, {groups}) : h;
		}
		case 'reconnecting':
		case 'failed': {
			const c = h.capture.state;
			return c === 'running' || c === 'requested' ? heap(h, {capture: {state: 'failed', reason: `capture lost: ${u.reason}`}}) : h;
		}
		default:
			return h;
	}
}
