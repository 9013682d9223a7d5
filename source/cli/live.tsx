// Live mode: takes a started source and its store and runs the full-screen
// TUI until the user quits. The container here owns everything stateful
// that is not data — the store subscription, the single input handler that
// dispatches from the keymap, the queries the keys start (Capture, Expand,
// Path), the terminal size, the clock of the reconnect countdown — and
// passes plain props to views/App.
import React, {useCallback, useEffect, useRef, useState, useSyncExternalStore} from 'react';
import {render, useApp, useInput, useStdin, useStdout} from 'ink';
import type {ListGroup, ListName} from '../client/heap.js';
import type {HeapQueries, PathOf} from '../client/queries.js';
import {QueryError} from '../client/queries.js';
import type {Store} from '../store/store.js';
import {groupsKey, nextGroupsOffset, snapshotState, type LocalUpdate} from '../store/heap.js';
import {groupFindings, hasMembers, listRows, treeRows, unloadedChildren, unloadedGroups, type TreeRow} from '../store/model.js';
import {cursorIndex, findingPath, type Cursor, type Navigation, type PathSource} from '../store/navigation.js';
import App from '../views/App.js';
import {formatAddress} from '../views/format.js';
import {actionFor, keyNames, type Action} from '../views/keymap.js';
import {layout, paneHeights} from '../views/layout.js';
import {renderPathText} from '../report/path.js';
import {atExit} from './exit.js';
// Keeps the styled cells of a frame's lines for the next frame (a speed-up of Ink; output unchanged).
import './frame-lines.js';

/** xterm's alternate screen buffer (Ink 6.8 has no option for it). */
const enterAlternateScreen = '\u001B[?1049h';
const leaveAlternateScreen = '\u001B[?1049l';
const showCursor = '\u001B[?25h';

/** How often the reconnect countdown and a capture's elapsed time are redrawn while they run. */
const countdownMs = 250;

/** Terminal size; ink-testing-library's stdout has no rows, hence the fallback. */
function sizeOf(stdout: NodeJS.WriteStream): {columns: number; rows: number} {
	return {columns: stdout.columns || 100, rows: stdout.rows || 24};
}

/** A query's failure as one line for a notice. */
function reasonOf(error: unknown): string {
	return error instanceof QueryError ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`;
}

/** The rows from the cursor's to a screen below it: those whose pages are asked for ahead. */
function withinScreen<Row extends {readonly key: string}>(rows: readonly Row[], cursor: Cursor, height: number): readonly Row[] {
	const at = cursorIndex(cursor, rows);
	return rows.slice(at, at + height + 1);
}

type LiveProps = {readonly store: Store; readonly queries: HeapQueries; readonly ascii: boolean};

export function Live({store, queries, ascii}: LiveProps) {
	const {exit} = useApp();
	const {stdout} = useStdout();
	const {isRawModeSupported} = useStdin();
	const state = useSyncExternalStore(
		useCallback(listener => store.subscribe(listener), [store]),
		() => store.state,
	);
	const [size, setSize] = useState(() => sizeOf(stdout));
	const [nowMs, setNowMs] = useState(Date.now());
	/** Expand, Members and Groups requests in flight (fetchOnce), by query, snapshot, node or group, and offset: one of each at a time. */
	const expanding = useRef(new Set<string>());
	/** Pages asked for ahead of the cursor that could not be had: not asked for again unless enter asks. */
	const failedAhead = useRef(new Set<string>());

	useEffect(() => {
		const onResize = () => setSize(sizeOf(stdout));
		stdout.on('resize', onResize);
		return () => {
			stdout.off('resize', onResize);
		};
	}, [stdout]);

	const {snapshot, navigation, model} = state;
	// The clock runs while something on screen counts: the reconnect countdown, a capture's elapsed time.
	const counting = snapshot.connection.state === 'reconnecting' || snapshotState(snapshot.heap).state === 'capturing';
	useEffect(() => {
		if (!counting) return;
		const timer = setInterval(() => setNowMs(Date.now()), countdownMs);
		return () => clearInterval(timer);
	}, [counting]);

	const shownNow = counting ? nowMs : Date.now();
	const heights = paneHeights(layout(snapshot, navigation, size.rows, shownNow));
	useEffect(() => store.setPaneHeights(heights), [store, heights.tree, heights.lists, heights.path]);

	const capture = (forceGc: boolean, confirmCost: boolean) => {
		const c = store.state.snapshot.heap.capture.state;
		if (c === 'requested' || c === 'running') {
			store.apply({kind: 'local-notice', text: 'a capture is already under way', error: false});
			return;
		}
		store.apply({kind: 'capture-requested', forceGc});
		queries.capture({forceGc, confirmCost}).then(
			snapshot => store.apply({kind: 'captured', snapshot}),
			(error: unknown) => {
				if (error instanceof QueryError && error.failure === 'cost' && !confirmCost) store.apply({kind: 'capture-refused', forceGc, reason: error.message});
				else store.apply({kind: 'capture-failed', reason: reasonOf(error)});
			},
		);
	};

	/**
	 * Runs one fetch per id at a time: its answer goes to the store. A failure
	 * becomes a notice when a key asked for it; a page asked for ahead of the
	 * cursor (`ahead`) fails quietly, once (a replay holds only the pages its
	 * recording asked for): its row still says enter loads it, and enter says why not.
	 */
	const fetchOnce = (id: string, fetch: () => Promise<LocalUpdate>, what: string, ahead: boolean) => {
		if (expanding.current.has(id) || (ahead && failedAhead.current.has(id))) return;
		expanding.current.add(id);
		fetch()
			.then(
				update => store.apply(update),
				(error: unknown) => {
					if (ahead) failedAhead.current.add(id);
					else store.apply({kind: 'local-notice', text: `cannot load ${what}: ${reasonOf(error)}`, error: true});
				},
			)
			.finally(() => expanding.current.delete(id));
	};

	/** Fetches the next page of a node's children beyond those known; `ahead` of the cursor, or asked for. */
	const expand = (row: TreeRow, ahead = false) => {
		const doc = store.state.model?.document;
		const node = row.kind === 'more' ? row.parent : row.node;
		if (!doc || !store.state.model || unloadedChildren(store.state.model, node) === 0) return;
		const offset = store.state.model.children.get(node.id)?.length ?? 0;
		fetchOnce(
			`expand ${doc.id}:${node.id}:${offset}`,
			() => queries.expand(doc.id, node.id, offset).then(nodes => ({kind: 'expanded', snapshotId: doc.id, nodes})),
			`the children of ${node.label || node.typeName}`,
			ahead,
		);
	};

	/** Fetches the next page of a list group's objects. */
	const loadMembers = (group: ListGroup, ahead = false) => {
		const m = store.state.model;
		if (!m) return;
		const doc = m.document;
		const offset = m.members.get(group.key)?.loaded.length ?? 0;
		fetchOnce(
			`members ${doc.id}:${group.key}:${offset}`,
			() => queries.members(doc.id, group.key, offset).then(page => ({kind: 'members', snapshotId: doc.id, groupKey: group.key, offset, ...page})),
			`the objects of ${group.typeName || 'this group'}`,
			ahead,
		);
	};

	/** Fetches the next page of a list's groups beyond those known: all of them, or those matching a filter. */
	const loadGroups = (list: ListName, filter: string, ahead = false) => {
		const m = store.state.model;
		if (!m || (list !== 'live' && list !== 'pending')) return;
		const doc = m.document;
		const offset = nextGroupsOffset(doc, list, filter, m.groups.get(groupsKey(list, filter)));
		fetchOnce(
			`groups ${doc.id}:${groupsKey(list, filter)}:${offset}`,
			() => queries.groups(doc.id, list, filter, offset).then(page => ({kind: 'groups', snapshotId: doc.id, list, filter, offset, ...page})),
			filter ? `the ${list} groups matching "${filter}"` : `the rest of the ${list} list`,
			ahead,
		);
	};

	// An open group shows its first page of objects: when opened, and again in each new document.
	const {openGroups, tab} = navigation;
	useEffect(() => {
		if (!model) return;
		for (const group of model.lists[tab].groups) {
			if (openGroups.has(group.key) && hasMembers(group) && !model.members.has(group.key)) loadMembers(group);
		}
	}, [model, openGroups, tab]);

	// Scrolling loads on: the next page of a node's children is asked for once its "more"
	// row is within a screen of the cursor, and so is the next page of an open group's
	// objects or of a list's groups, so that PgDn and G walk through any number of them.
	const treeCursor = navigation.tree;
	useEffect(() => {
		if (!model || navigation.focus !== 'tree') return;
		const near = withinScreen(treeRows(model, navigation.toggled), treeCursor, heights.tree).find(r => r.kind === 'more');
		if (near) expand(near, true);
	}, [model, navigation.toggled, treeCursor, navigation.focus, heights.tree]);

	const listCursor = navigation.lists[tab];
	useEffect(() => {
		if (!model || navigation.focus !== 'lists') return;
		const rows = listRows(model, tab, navigation.sort, navigation.filter, openGroups);
		const near = withinScreen(rows, listCursor, heights.lists).find(r => r.kind === 'more' || r.kind === 'more-groups');
		if (near?.kind === 'more') loadMembers(near.group, true);
		else if (near?.kind === 'more-groups') loadGroups(near.list, near.filter, true);
	}, [model, openGroups, tab, listCursor, navigation.focus, navigation.sort, navigation.filter, heights.lists]);

	// A filter looks through the whole list: once typed (enter), the agent is asked for the
	// matches among the groups not loaded; while it is typed, the loaded ones are filtered.
	useEffect(() => {
		if (!model || navigation.filter === '' || navigation.editingFilter) return;
		const unloaded = unloadedGroups(model, tab, navigation.filter);
		if (unloaded?.kind === 'more-groups' && unloaded.remaining === undefined) loadGroups(tab, navigation.filter);
	}, [model, tab, navigation.filter, navigation.editingFilter]);

	/** Opens a path on screen and reads the chain from the agent. */
	const openPath = (source: PathSource, of: PathOf, title: string) => {
		const doc = store.state.model?.document;
		if (!doc) return;
		store.navigate({kind: 'path-open', path: {source, snapshotId: doc.id, title, kind: undefined, status: 'loading', hops: [], error: undefined, offset: 0}});
		queries.path(doc.id, of).then(
			hops => store.navigate({kind: 'path-loaded', source, hops}),
			(error: unknown) => store.navigate({kind: 'path-failed', source, error: `cannot read the chain: ${reasonOf(error)}`}),
		);
	};

	/** A finding's chain is in the document; when the agent elided its middle, the whole chain is read. */
	const openFinding = (findingKey: string) => {
		const s = store.state;
		const f = s.model?.findingsByKey.get(findingKey);
		if (!f || !s.model) return;
		store.navigate({kind: 'path-open', path: findingPath(f, s.model.document.id)});
		completeFinding(findingKey);
	};

	const completeFinding = (findingKey: string | undefined) => {
		const s = store.state;
		const f = findingKey === undefined ? undefined : s.model?.findingsByKey.get(findingKey);
		if (!f || !s.model || !f.path.some(h => h.elided > 0)) return;
		const source = {finding: f.key};
		queries.path(s.model.document.id, {findingKey: f.key}).then(
			hops => store.navigate({kind: 'path-loaded', source, hops}),
			(error: unknown) => store.navigate({kind: 'path-failed', source, error: `the whole chain could not be read: ${reasonOf(error)}`}),
		);
	};

	const treeRow = (nav: Navigation): TreeRow | undefined => {
		const m = store.state.model;
		if (!m) return undefined;
		const rows = treeRows(m, nav.toggled);
		return rows[cursorIndex(nav.tree, rows)];
	};

	const onTree = (action: 'enter' | 'left' | 'right') => {
		const nav = store.state.navigation;
		const row = treeRow(nav);
		if (!row) return;
		if (row.kind === 'more') {
			if (action === 'enter') expand(row);
			return;
		}
		const n = row.node;
		if (action === 'left') {
			if (row.open && row.hasChildren) store.navigate({kind: 'toggle', key: n.key, open: false});
			else {
				const parent = store.state.model?.nodes.get(n.parent);
				if (parent) store.navigate({kind: 'to-key', key: parent.key});
			}
			return;
		}
		if (!row.hasChildren) {
			if (action === 'enter') openPath({node: n.id, nodeKey: n.key}, {node: n.id}, `the chain to ${[n.label, n.typeName].filter(Boolean).join(' ')}`);
			return;
		}
		const open = action === 'right' ? true : !row.open;
		store.navigate({kind: 'toggle', key: n.key, open});
		if (open) {
			const opened = treeRow(store.state.navigation);
			const m = store.state.model;
			if (opened?.kind === 'node' && m && (m.children.get(n.id)?.length ?? 0) === 0) expand(opened);
		}
	};

	const onListEnter = () => {
		const {model: m, navigation: nav} = store.state;
		if (!m) return;
		const rows = listRows(m, nav.tab, nav.sort, nav.filter, nav.openGroups);
		const row = rows[cursorIndex(nav.lists[nav.tab], rows)];
		if (!row) return;
		if (row.kind === 'more-groups') {
			loadGroups(row.list, row.filter);
			return;
		}
		const group = row.group;
		if (row.kind === 'more') {
			loadMembers(group);
			return;
		}
		if (row.kind === 'member') {
			const {address} = row.member;
			openPath({address}, {address}, `the chain to the ${group.typeName || 'object'} at ${formatAddress(address)}`);
			return;
		}
		if (row.kind === 'finding') {
			openFinding(row.finding.key);
			return;
		}
		if (row.opens) {
			store.navigate({kind: 'toggle-group', key: group.key, open: !row.open});
			return;
		}
		const finding = groupFindings(m, group)[0];
		if (finding) openFinding(finding.key);
		else openPath({groupKey: group.key}, {groupKey: group.key}, `the chain to an example ${group.typeName || 'object'} of this group`);
	};

	const act = (action: Action) => {
		const nav = store.state.navigation;
		switch (action) {
			case 'quit':
				exit();
				return;
			case 'help':
				store.navigate({kind: 'help'});
				return;
			case 'pause':
				store.setPaused(!store.state.paused);
				return;
			case 'capture':
			case 'capture-gc':
				capture(action === 'capture-gc', false);
				return;
			case 'next-dangling':
			case 'previous-dangling': {
				const m = store.state.model;
				if (!m || m.danglingFindings.length === 0) {
					const capturing = snapshotState(store.state.snapshot.heap).state === 'capturing';
					const text = m
						? `snapshot #${m.document.id} has no hidden references${m.document.complete ? '' : ' so far'}`
						: capturing
							? 'no heap snapshot yet: the capture under way will tell'
							: 'no heap snapshot yet: c captures one';
					store.apply({kind: 'local-notice', text, error: false});
					return;
				}
				store.navigate({kind: 'finding', delta: action === 'next-dangling' ? 1 : -1});
				completeFinding(store.state.navigation.finding);
				return;
			}
			case 'next-pane':
			case 'previous-pane':
				store.navigate({kind: 'focus', delta: action === 'next-pane' ? 1 : -1});
				return;
			case 'up':
			case 'down':
				store.navigate({kind: 'move', delta: action === 'up' ? -1 : 1});
				return;
			case 'page-up':
			case 'page-down':
				store.navigate({kind: 'page', pages: action === 'page-up' ? -1 : 1});
				return;
			case 'first':
				store.navigate({kind: 'first'});
				return;
			case 'last':
				store.navigate({kind: 'last'});
				return;
			case 'enter':
			case 'left':
			case 'right':
				if (nav.focus === 'tree') onTree(action);
				else if (nav.focus === 'lists' && action === 'enter') onListEnter();
				else if (nav.focus === 'lists') store.navigate({kind: 'tab', delta: action === 'left' ? -1 : 1});
				return;
			case 'filter':
				store.navigate({kind: 'filter-start'});
				return;
			case 'sort':
				store.navigate({kind: 'sort-next'});
				return;
			case 'close':
				if (nav.help) store.navigate({kind: 'help', show: false});
				else if (nav.filter !== '' || nav.editingFilter) store.navigate({kind: 'filter-clear'});
				else store.navigate({kind: 'path-close'});
				return;
		}
	};

	/** A key while the filter is typed: text goes into it, enter keeps it, esc clears it; moves still move. */
	const onFilterKey = (name: string): boolean => {
		if (name === 'enter') store.navigate({kind: 'filter-done'});
		else if (name === 'esc') store.navigate({kind: 'filter-clear'});
		else if (name === 'backspace') store.navigate({kind: 'filter-erase'});
		else if ([...name].length === 1 && name >= ' ') store.navigate({kind: 'filter-type', text: name});
		else return false;
		return true;
	};

	useInput(
		(input, key) => {
			for (const name of keyNames(input, key)) {
				const {heap} = store.state.snapshot;
				if (heap.capture.state === 'confirm') {
					// The question on screen takes the key: y confirms, anything else cancels.
					if (name === 'y') {
						const forceGc = heap.capture.forceGc;
						store.apply({kind: 'capture-cancelled'});
						capture(forceGc, true);
					} else store.apply({kind: 'capture-cancelled'});
					continue;
				}
				if (store.state.navigation.editingFilter && onFilterKey(name)) continue;
				const action = actionFor(name);
				if (action) act(action);
				if (action === 'quit') return;
			}
		},
		{isActive: isRawModeSupported === true},
	);

	return <App snapshot={snapshot} navigation={navigation} model={model} columns={size.columns} rows={size.rows} nowMs={shownNow} paused={state.paused} ascii={ascii} />;
}

/**
 * How Ink draws the live screen: keys are heaptop's (no exit on ctrl-c, no
 * console patching). Ink's incrementalRendering (rewrite only the lines
 * that changed) is not used: in Ink 6.8 it left stale lines on this screen
 * as the frames changed (seen in tmux on the demo replay). Ink's default of
 * at most 30 frames a second stays: a frame costs ~10 ms, and keys held
 * down would cost a third of a core at 30 frames a second, more above.
 */
export const renderOptions = {exitOnCtrlC: false, patchConsole: false} as const;

/**
 * Runs the TUI on the alternate screen until the user quits. The terminal is
 * restored on every way out: quit, signal and exception alike (exit.ts);
 * then the last path opened is printed on the main screen, so it stays in
 * the scrollback to be copied into a ticket.
 */
export async function runLive(store: Store, queries: HeapQueries, ascii: boolean): Promise<void> {
	const stdout = process.stdout;
	stdout.write(enterAlternateScreen);
	atExit(() => {
		stdout.write(showCursor + leaveAlternateScreen);
		const path = store.state.navigation.path;
		if (path && path.hops.length > 0) stdout.write(renderPathText(path, {columns: stdout.columns || 100, ascii}) + '\n');
	});
	const app = render(<Live store={store} queries={queries} ascii={ascii} />, renderOptions);
	await app.waitUntilExit();
}
