// Navigation: takes the user's moves (from the keymap's actions) and the heap
// model, and gives where the user is — the pane in focus, each pane's cursor,
// which tree nodes are open, the list tab, its sort and filter, the finding
// d last opened and the path on screen, and which list groups are open.
//
// Cursors are kept by stable keys (TreeNode.key, ListGroup.key, Finding.key),
// never by position alone, so a new snapshot leaves the cursor on the same
// node, group or finding wherever it moved; where it is gone, the cursor
// stays at the same position, clamped. `offset` is the first row the pane
// showed; views re-clamp it to the rows and height they have (visibleWindow),
// so a resize never leaves the cursor off screen.
import type {Finding, FindingKindName, Hop, ListName} from '../client/heap.js';
import {listNames} from '../client/heap.js';
import {indexOfKey, isOpen, listRows, sortKeys, treeRows, type HeapModel, type SortKey} from './model.js';

export type Pane = 'tree' | 'lists' | 'path';

export type Cursor = {
	/** The key of the row under the cursor, when it has one. */
	readonly key: string | undefined;
	/** Where it was last seen: the fallback when the key is gone. */
	readonly index: number;
	/** The first row shown. */
	readonly offset: number;
};

/** What a path on screen is the chain of. */
export type PathSource =
	| {readonly finding: string}
	| {readonly node: number; readonly nodeKey: string}
	| {readonly groupKey: string}
	| {readonly address: number};

export type PathView = {
	readonly source: PathSource;
	/** The snapshot the chain was read from. */
	readonly snapshotId: number;
	/** One line above the chain: the finding's summary, or what the chain leads to. */
	readonly title: string;
	readonly kind: FindingKindName | undefined;
	readonly status: 'loading' | 'ready' | 'failed';
	readonly hops: readonly Hop[];
	/** Why the chain could not be read (status failed). */
	readonly error: string | undefined;
	/** The first hop shown. */
	readonly offset: number;
};

export type Navigation = {
	readonly focus: Pane;
	readonly tree: Cursor;
	/** Keys of tree nodes the user opened or closed against their default (model.isOpen). */
	readonly toggled: ReadonlySet<string>;
	readonly tab: ListName;
	readonly lists: Readonly<Record<ListName, Cursor>>;
	/** Keys of the list groups whose objects are shown (closed by default). */
	readonly openGroups: ReadonlySet<string>;
	readonly sort: SortKey;
	/** The list filter; empty for none. */
	readonly filter: string;
	/** Keys go to the filter while it is being typed. */
	readonly editingFilter: boolean;
	/** The key of the finding d or D opened last. */
	readonly finding: string | undefined;
	readonly path: PathView | undefined;
	readonly help: boolean;
};

const top: Cursor = Object.freeze({key: undefined, index: 0, offset: 0});

export const initialNavigation: Navigation = Object.freeze({
	focus: 'tree',
	tree: top,
	toggled: new Set<string>(),
	tab: 'live',
	lists: Object.freeze({live: top, pending: top, dangling: top, leaks: top}),
	openGroups: new Set<string>(),
	sort: 'bytes',
	filter: '',
	editingFilter: false,
	finding: undefined,
	path: undefined,
	help: false,
});

/** The moves navigate() understands. */
export type Move =
	| {readonly kind: 'move'; readonly delta: number}
	| {readonly kind: 'page'; readonly pages: number}
	| {readonly kind: 'first'}
	| {readonly kind: 'last'}
	/** The cursor of the focused pane onto the row with this key, if it is there. */
	| {readonly kind: 'to-key'; readonly key: string}
	/** The next pane (delta 1) or the previous (-1): tree, lists and, when open, the path. */
	| {readonly kind: 'focus'; readonly delta: 1 | -1}
	| {readonly kind: 'tab'; readonly delta: number}
	| {readonly kind: 'tab-to'; readonly tab: ListName}
	/** Open or close the tree node under the cursor (by key). */
	| {readonly kind: 'toggle'; readonly key: string; readonly open?: boolean}
	/** Show or hide the objects of the list group with this key. */
	| {readonly kind: 'toggle-group'; readonly key: string; readonly open?: boolean}
	| {readonly kind: 'sort-next'}
	| {readonly kind: 'filter-start'}
	| {readonly kind: 'filter-type'; readonly text: string}
	| {readonly kind: 'filter-erase'}
	| {readonly kind: 'filter-done'}
	| {readonly kind: 'filter-clear'}
	/** d (+1) and D (-1): the next or previous hidden-reference finding, its path opened. */
	| {readonly kind: 'finding'; readonly delta: number}
	| {readonly kind: 'path-open'; readonly path: PathView}
	/** A Path query answered for the path on screen (ignored when another path is on screen by then). */
	| {readonly kind: 'path-loaded'; readonly source: PathSource; readonly hops: readonly Hop[]}
	| {readonly kind: 'path-failed'; readonly source: PathSource; readonly error: string}
	| {readonly kind: 'path-close'}
	| {readonly kind: 'help'; readonly show?: boolean};

/** How many rows each pane shows: page moves and scrolling need it. */
export type PaneHeights = {readonly tree: number; readonly lists: number; readonly path: number};

/** The rows of a pane for the model and navigation given (cached in model.ts). */
export function paneRows(model: HeapModel | undefined, nav: Navigation, pane: 'tree' | 'lists'): readonly {readonly key: string}[] {
	if (!model) return [];
	return pane === 'tree' ? treeRows(model, nav.toggled) : listRows(model, nav.tab, nav.sort, nav.filter, nav.openGroups);
}

/** Where a cursor is now in `rows`: at its key when the key is there, else at its old position, clamped. */
export function cursorIndex(cursor: Cursor, rows: readonly {readonly key: string}[]): number {
	if (rows.length === 0) return 0;
	// Keys are unique among rows, and a row seldom moves: found where it was, no index of new rows is built.
	if (cursor.key !== undefined && rows[cursor.index]?.key === cursor.key) return cursor.index;
	const byKey = indexOfKey(rows, cursor.key);
	return byKey >= 0 ? byKey : Math.min(Math.max(0, cursor.index), rows.length - 1);
}

/**
 * The first row to show of `total` in `height` rows so that row `index` is
 * visible, moving as little as possible from `offset`.
 */
export function visibleWindow(offset: number, index: number, total: number, height: number): number {
	const h = Math.max(1, height);
	let start = Math.min(offset, index);
	if (index >= start + h) start = index - h + 1;
	return Math.max(0, Math.min(start, total - h));
}

/** The cursor moved to `index` of `rows`, scrolled for a pane of `height` rows. */
function placed(cursor: Cursor, rows: readonly {readonly key: string}[], index: number, height: number): Cursor {
	if (rows.length === 0) return top;
	const i = Math.min(Math.max(0, index), rows.length - 1);
	return Object.freeze({key: rows[i]!.key, index: i, offset: visibleWindow(cursor.offset, i, rows.length, height)});
}

function withListCursor(nav: Navigation, cursor: Cursor): Navigation {
	return {...nav, lists: Object.freeze({...nav.lists, [nav.tab]: cursor})};
}

/** The path view of a finding from the document (the agent may have elided the middle of a long chain). */
export function findingPath(f: Finding, snapshotId: number): PathView {
	return Object.freeze({
		source: {finding: f.key},
		snapshotId,
		// Findings of one chain shape come folded: the chain is the first's.
		title: f.count > 1 ? `${f.summary} (1 of ${f.count} of this shape)` : f.summary,
		kind: f.kind,
		status: 'ready',
		hops: f.path,
		error: undefined,
		offset: 0,
	});
}

function sameSource(a: PathSource, b: PathSource): boolean {
	return JSON.stringify(a) === JSON.stringify(b);
}

/** A cursor move in the focused pane by `to(index, rows)`. */
function moveCursor(nav: Navigation, model: HeapModel | undefined, heights: PaneHeights, to: (index: number, total: number, height: number) => number): Navigation {
	if (nav.focus === 'path') {
		const p = nav.path;
		if (!p) return nav;
		const max = Math.max(0, p.hops.length - heights.path);
		return {...nav, path: {...p, offset: Math.min(max, Math.max(0, to(p.offset, p.hops.length, heights.path)))}};
	}
	const rows = paneRows(model, nav, nav.focus);
	const cursor = nav.focus === 'tree' ? nav.tree : nav.lists[nav.tab];
	const height = heights[nav.focus];
	const moved = placed(cursor, rows, to(cursorIndex(cursor, rows), rows.length, height), height);
	return nav.focus === 'tree' ? {...nav, tree: moved} : withListCursor(nav, moved);
}

/** The navigation after one move. Pure. */
export function navigate(nav: Navigation, move: Move, model: HeapModel | undefined, heights: PaneHeights): Navigation {
	const next = step(nav, move, model, heights);
	return next === nav ? nav : Object.freeze(next);
}

function step(nav: Navigation, move: Move, model: HeapModel | undefined, heights: PaneHeights): Navigation {
	switch (move.kind) {
		case 'move':
			return moveCursor(nav, model, heights, i => i + move.delta);
		case 'page':
			return moveCursor(nav, model, heights, (i, _, h) => i + move.pages * Math.max(1, h - 1));
		case 'first':
			return moveCursor(nav, model, heights, () => 0);
		case 'last':
			return moveCursor(nav, model, heights, (_, total) => total - 1);
		case 'to-key': {
			if (nav.focus === 'path') return nav;
			const at = indexOfKey(paneRows(model, nav, nav.focus), move.key);
			return at < 0 ? nav : moveCursor(nav, model, heights, () => at);
		}
		case 'focus': {
			const panes: Pane[] = nav.path ? ['tree', 'lists', 'path'] : ['tree', 'lists'];
			return {...nav, focus: panes[(panes.indexOf(nav.focus) + move.delta + panes.length) % panes.length]!};
		}
		case 'tab': {
			const i = listNames.indexOf(nav.tab);
			return {...nav, focus: 'lists', tab: listNames[(i + move.delta + listNames.length) % listNames.length]!};
		}
		case 'tab-to':
			return {...nav, focus: 'lists', tab: move.tab};
		case 'toggle': {
			const node = model?.nodesByKey.get(move.key);
			if (!node || (move.open !== undefined && move.open === isOpen(node, nav.toggled))) return nav;
			const toggled = new Set(nav.toggled);
			if (toggled.has(move.key)) toggled.delete(move.key);
			else toggled.add(move.key);
			return {...nav, toggled};
		}
		case 'toggle-group': {
			const open = move.open ?? !nav.openGroups.has(move.key);
			if (open === nav.openGroups.has(move.key)) return nav;
			const openGroups = new Set(nav.openGroups);
			if (open) openGroups.add(move.key);
			else openGroups.delete(move.key);
			return {...nav, openGroups};
		}
		case 'sort-next':
			return {...nav, sort: sortKeys[(sortKeys.indexOf(nav.sort) + 1) % sortKeys.length]!};
		case 'filter-start':
			return {...nav, focus: 'lists', editingFilter: true};
		case 'filter-type':
			return {...nav, filter: nav.filter + move.text};
		case 'filter-erase':
			return {...nav, filter: [...nav.filter].slice(0, -1).join('')};
		case 'filter-done':
			return {...nav, editingFilter: false};
		case 'filter-clear':
			return nav.filter === '' && !nav.editingFilter ? nav : {...nav, filter: '', editingFilter: false};
		case 'finding': {
			const findings = model?.danglingFindings ?? [];
			if (!model || findings.length === 0) return nav;
			const at = findings.findIndex(f => f.key === nav.finding);
			const i = at < 0 ? (move.delta > 0 ? 0 : findings.length - 1) : (at + move.delta + findings.length) % findings.length;
			const f = findings[i]!;
			return {...nav, focus: 'path', finding: f.key, path: findingPath(f, model.document.id)};
		}
		case 'path-open':
			return {...nav, focus: 'path', path: move.path};
		case 'path-loaded': {
			const p = nav.path;
			if (!p || !sameSource(p.source, move.source)) return nav;
			return {...nav, path: {...p, status: 'ready', hops: move.hops, error: undefined}};
		}
		case 'path-failed': {
			const p = nav.path;
			if (!p || !sameSource(p.source, move.source)) return nav;
			// A chain already on screen (a finding's, from the document) stays; the error says what is missing.
			return {...nav, path: {...p, status: p.hops.length > 0 ? 'ready' : 'failed', error: move.error}};
		}
		case 'path-close':
			return nav.path ? {...nav, path: undefined, focus: nav.focus === 'path' ? 'tree' : nav.focus} : nav;
		case 'help':
			return {...nav, help: move.show ?? !nav.help};
	}
}

/**
 * A new document came: a path opened from a finding follows that finding
 * into it (same key), so the chain on screen is the newest one. Other paths
 * stay as they were read, with their snapshot id.
 */
export function followDocument(nav: Navigation, model: HeapModel | undefined): Navigation {
	const p = nav.path;
	if (!p || !model || p.snapshotId === model.document.id || !('finding' in p.source)) return nav;
	const f = model.findingsByKey.get(p.source.finding);
	if (!f) return nav;
	return Object.freeze({...nav, path: {...findingPath(f, model.document.id), offset: p.offset}});
}
