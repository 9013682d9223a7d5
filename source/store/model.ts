// The heap model: takes the document shown (and the tree nodes, list groups
// and group members fetched beyond it) and gives what the panes list — the
// tree as rows given which nodes are open, the groups of a list tab sorted
// and filtered with the members of the open ones, and the findings in the
// order d and D visit them.
//
// Everything here is derived and cached by identity: a document, its
// fetched nodes and the navigation's inputs are immutable, so the same
// inputs give the very same arrays. A cursor move re-renders without
// re-deriving anything; a new document, an expansion or a new filter
// derives once. Work is linear in the rows derived, never in the heap.
import type {Finding, FindingKindName, HeapSnapshot, ListGroup, ListName, ListTotal, Member, TreeNode} from '../client/heap.js';
import {groupsKey, type HeapState, type LoadedGroups, type LoadedMembers} from './heap.js';

export type HeapModel = {
	readonly document: HeapSnapshot;
	/** Every tree node known, from the document and from Expand, by id. */
	readonly nodes: ReadonlyMap<number, TreeNode>;
	readonly nodesByKey: ReadonlyMap<string, TreeNode>;
	/** A node's children known so far, in the agent's order (by retained size); 0 holds the top level. */
	readonly children: ReadonlyMap<number, readonly number[]>;
	/** Hidden-reference findings, in the order d visits them (findingOrder). */
	readonly danglingFindings: readonly Finding[];
	readonly findingsByKey: ReadonlyMap<string, Finding>;
	/** Per list tab: its groups in the document's order, their objects and bytes. */
	readonly lists: Readonly<Record<ListName, {readonly groups: readonly ListGroup[]; readonly objects: number; readonly bytes: number}>>;
	/** The heap the snapshot saw, for shares: the capture's figure, else the tree's top level. */
	readonly heapBytes: number;
	/** Members of list groups fetched so far, by group key. */
	readonly members: ReadonlyMap<string, LoadedMembers>;
	/** The live and pending lists in all, when the agent says: the document carries their biggest groups. */
	readonly listTotals: ReadonlyMap<ListName, ListTotal>;
	/** Groups of those lists fetched beyond the document, by groupsKey(list, filter). */
	readonly groups: ReadonlyMap<string, LoadedGroups>;
};

/**
 * The hidden-reference kinds d and D step through, most urgent first: memory
 * already gone, a stack that will move, garbage the next GC frees, then
 * live objects held only by a word nothing protects. Leaks and suspects are
 * in the Leaks tab.
 */
export const findingOrder: readonly FindingKindName[] = ['dangling', 'stack', 'dangling-soon', 'unprotected'];

const models = new WeakMap<HeapSnapshot, {fetched: readonly TreeNode[]; model: HeapModel}>();

export function heapModel(h: HeapState): HeapModel | undefined {
	const document = h.document;
	if (!document) return undefined;
	const cached = models.get(document);
	if (cached && cached.fetched === h.fetched) {
		if (cached.model.members === h.members && cached.model.groups === h.groups) return cached.model;
		// Members or groups fetched: the tree and findings stay, the list rows are derived again.
		const model = Object.freeze({...cached.model, members: h.members, groups: h.groups});
		models.set(document, {fetched: h.fetched, model});
		return model;
	}
	const model = build(document, h.fetched, h.members, h.groups);
	models.set(document, {fetched: h.fetched, model});
	return model;
}

/**
 * The agent's keys name a node by its parent's key, label and type, so the
 * members of an expanded fold ("×500 list.Element", each held the same
 * way) share one. A cursor kept by key must find one row: the nth node of
 * a key seen again is given "<key>#n" — n counts in the agent's order (by
 * retained size), so it is as stable across snapshots as the order is.
 */
function uniqueKey(node: TreeNode, seen: Map<string, number>): TreeNode {
	const n = seen.get(node.key) ?? 0;
	seen.set(node.key, n + 1);
	return n === 0 ? node : Object.freeze({...node, key: `${node.key}#${n}`});
}

function build(
	document: HeapSnapshot,
	fetched: readonly TreeNode[],
	members: ReadonlyMap<string, LoadedMembers>,
	groups: ReadonlyMap<string, LoadedGroups>,
): HeapModel {
	const nodes = new Map<number, TreeNode>();
	const children = new Map<number, number[]>();
	const seen = new Map<string, number>();
	for (const sent of [...document.tree, ...fetched]) {
		if (sent.id === 0 || nodes.has(sent.id)) continue;
		const node = uniqueKey(sent, seen);
		nodes.set(node.id, node);
		const siblings = children.get(node.parent);
		if (siblings) siblings.push(node.id);
		else children.set(node.parent, [node.id]);
	}
	const rank = (f: Finding) => findingOrder.indexOf(f.kind);
	const danglingFindings = document.findings
		.map((f, i) => ({f, i}))
		.filter(({f}) => rank(f) >= 0)
		.sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
		.map(({f}) => f);
	const lists = {} as Record<ListName, {groups: ListGroup[]; objects: number; bytes: number}>;
	for (const name of ['live', 'pending', 'dangling', 'leaks'] as const) lists[name] = {groups: [], objects: 0, bytes: 0};
	for (const g of document.groups) {
		if (g.list === 'unknown') continue;
		const l = lists[g.list];
		l.groups.push(g);
		l.objects += g.count;
		l.bytes += g.bytes;
	}
	const top = (children.get(0) ?? []).reduce((sum, id) => sum + nodes.get(id)!.retainedBytes, 0);
	return Object.freeze({
		document,
		nodes,
		nodesByKey: new Map([...nodes.values()].map(n => [n.key, n])),
		children,
		danglingFindings: Object.freeze(danglingFindings),
		findingsByKey: new Map(document.findings.map(f => [f.key, f])),
		lists,
		heapBytes: document.stats.heapBytes || top,
		members,
		listTotals: new Map(document.listTotals.flatMap(t => (t.list === 'unknown' ? [] : [[t.list, t] as const]))),
		groups,
	});
}

/**
 * One row of the heap tree. `rails` says, for each ancestor between the top
 * level and the row's parent, whether more siblings follow it ("1") — where
 * a vertical line continues — so a view can draw the branches of only the
 * rows it shows.
 */
export type TreeRow =
	| {
			readonly kind: 'node';
			readonly key: string;
			readonly node: TreeNode;
			readonly depth: number;
			readonly last: boolean;
			readonly rails: string;
			readonly open: boolean;
			/** Children it has in all (loaded or not). */
			readonly hasChildren: boolean;
	  }
	| {
			/** Children of `parent` the agent has and heaptop has not fetched yet. */
			readonly kind: 'more';
			readonly key: string;
			readonly parent: TreeNode;
			readonly depth: number;
			readonly last: true;
			readonly rails: string;
			readonly loaded: number;
			readonly remaining: number;
	  };

/** Nodes open before the user says otherwise: the root groups (globals, goroutines, …). */
export function openByDefault(node: TreeNode): boolean {
	return node.kind === 'root-group';
}

/** Whether a node is open: its default, flipped when the user toggled it (by key, so it holds across snapshots). */
export function isOpen(node: TreeNode, toggled: ReadonlySet<string>): boolean {
	return openByDefault(node) !== toggled.has(node.key);
}

/** Children of `node` known but not loaded: what a "more" row stands for. */
export function unloadedChildren(model: HeapModel, node: TreeNode): number {
	return Math.max(0, node.childrenTotal - (model.children.get(node.id)?.length ?? 0));
}

let treeCache: {model: HeapModel; toggled: ReadonlySet<string>; rows: readonly TreeRow[]} | undefined;

/**
 * The tree's rows, pre-order, through the open nodes only. Iterative (an
 * explicit stack), so a deep chain of single children cannot overflow.
 */
export function treeRows(model: HeapModel, toggled: ReadonlySet<string>): readonly TreeRow[] {
	if (treeCache && treeCache.model === model && treeCache.toggled === toggled) return treeCache.rows;
	const rows: TreeRow[] = [];
	type Frame = {readonly id: number; readonly depth: number; readonly last: boolean; readonly rails: string} | {readonly more: TreeNode; readonly depth: number; readonly rails: string};
	const stack: Frame[] = [];
	const push = (parentId: number, parent: TreeNode | undefined, depth: number, rails: string) => {
		const ids = model.children.get(parentId) ?? [];
		const remaining = parent ? unloadedChildren(model, parent) : 0;
		// Pushed in reverse so they pop in order; the "more" row comes last.
		if (parent && remaining > 0) stack.push({more: parent, depth, rails});
		for (let i = ids.length - 1; i >= 0; i--) stack.push({id: ids[i]!, depth, last: i === ids.length - 1 && remaining === 0, rails});
	};
	push(0, undefined, 0, '');
	while (stack.length > 0) {
		const f = stack.pop()!;
		if ('more' in f) {
			const loaded = model.children.get(f.more.id)?.length ?? 0;
			rows.push({kind: 'more', key: `more ${f.more.key}`, parent: f.more, depth: f.depth, last: true, rails: f.rails, loaded, remaining: unloadedChildren(model, f.more)});
			continue;
		}
		const node = model.nodes.get(f.id)!;
		const open = isOpen(node, toggled);
		const hasChildren = node.childrenTotal > 0 || model.children.has(node.id);
		rows.push({kind: 'node', key: node.key, node, depth: f.depth, last: f.last, rails: f.rails, open, hasChildren});
		if (open && hasChildren) push(node.id, node, f.depth + 1, f.depth === 0 ? '' : f.rails + (f.last ? '0' : '1'));
	}
	treeCache = {model, toggled, rows};
	return rows;
}

/** How a list tab can be ordered; `s` steps through them in this order. */
export const sortKeys = ['bytes', 'count', 'retained', 'type'] as const;
export type SortKey = (typeof sortKeys)[number];

/** "pkg.T file.go:12 pkg.fn", what a filter matches a group against (the agent's Groups matches the same text). */
function filterText(g: ListGroup): string {
	return (g.site ? `${g.typeName} ${g.site.file}:${g.site.line} ${g.site.function}` : g.typeName).toLowerCase();
}

/** A tab's groups known so far: the document's, then those Groups loaded past them. */
function knownGroups(model: HeapModel, tab: ListName): readonly ListGroup[] {
	const beyond = model.groups.get(groupsKey(tab, ''))?.loaded;
	return beyond ? [...model.lists[tab].groups, ...beyond] : model.lists[tab].groups;
}

const compare: Record<SortKey, (a: ListGroup, b: ListGroup) => number> = {
	bytes: (a, b) => b.bytes - a.bytes,
	count: (a, b) => b.count - a.count,
	retained: (a, b) => b.retainedBytes - a.retainedBytes,
	type: (a, b) => (a.typeName < b.typeName ? -1 : a.typeName > b.typeName ? 1 : 0),
};

/**
 * One row of a list tab: a group (`opens` when enter lists what it holds);
 * one of the objects of an open live or pending group (Members); one of
 * the findings of an open dangling or leak group that has several; the
 * objects of an open group not loaded yet; or, last, the list's groups not
 * loaded yet (Groups) — `remaining` undefined while the agent is being
 * asked which of them match the filter.
 */
export type ListRow =
	| {readonly kind: 'group'; readonly key: string; readonly group: ListGroup; readonly opens: boolean; readonly open: boolean}
	| {readonly kind: 'member'; readonly key: string; readonly group: ListGroup; readonly member: Member}
	| {readonly kind: 'finding'; readonly key: string; readonly group: ListGroup; readonly finding: Finding}
	| {readonly kind: 'more'; readonly key: string; readonly group: ListGroup; readonly loaded: number; readonly remaining: number}
	| {readonly kind: 'more-groups'; readonly key: string; readonly list: ListName; readonly filter: string; readonly remaining: number | undefined; readonly bytes: number | undefined};

/** Whether a group's objects can be listed: those of the live and pending lists (the others' are findings). */
export function hasMembers(group: ListGroup): boolean {
	return group.list === 'live' || group.list === 'pending';
}

/** The findings a dangling or leak group stands for, in the document's order: most urgent first, as d steps. */
export function groupFindings(model: HeapModel, group: ListGroup): readonly Finding[] {
	const keys = new Set(group.findingKeys);
	return model.document.findings.filter(f => keys.has(f.key));
}

const groupCache = new WeakMap<HeapModel['lists'], {groups: HeapModel['groups']; byQuery: Map<string, readonly ListGroup[]>}>();

/**
 * A tab's groups: the document's and those loaded beyond it, filtered
 * (case-insensitive, on type name and allocation site) with the matches
 * the agent found among the rest, and sorted; ties keep the document's
 * order.
 */
export function listGroups(model: HeapModel, tab: ListName, sort: SortKey, filter: string): readonly ListGroup[] {
	let cache = groupCache.get(model.lists);
	if (cache?.groups !== model.groups) groupCache.set(model.lists, (cache = {groups: model.groups, byQuery: new Map()}));
	const query = `${tab}\u0000${sort}\u0000${filter}`;
	const cached = cache.byQuery.get(query);
	if (cached) return cached;
	const needle = filter.toLowerCase();
	const groups = knownGroups(model, tab);
	let kept = needle === '' ? groups.slice() : groups.filter(g => filterText(g).includes(needle));
	const found = needle === '' ? undefined : model.groups.get(groupsKey(tab, filter))?.loaded;
	if (found) {
		const known = new Set(kept.map(g => g.key));
		kept = [...kept, ...found.filter(g => !known.has(g.key))];
	}
	// Array.prototype.sort is stable: equal groups keep the document's order.
	const rows = Object.freeze(kept.sort(compare[sort]));
	cache.byQuery.set(query, rows);
	return rows;
}

/**
 * The groups of a tab not loaded yet, as its last row shows them: without
 * a filter, those past the document's and the pages loaded (and their
 * bytes); with one, the matches the agent has not sent yet, or, before it
 * answered, undefined.
 */
export function unloadedGroups(model: HeapModel, tab: ListName, filter: string): ListRow | undefined {
	const total = model.listTotals.get(tab);
	const loaded = knownGroups(model, tab);
	if (!total || total.groups <= loaded.length) return undefined;
	const key = `more groups ${tab}`;
	if (filter === '') {
		const bytes = total.bytes - loaded.reduce((sum, g) => sum + g.bytes, 0);
		return {kind: 'more-groups', key, list: tab, filter, remaining: total.groups - loaded.length, bytes};
	}
	const found = model.groups.get(groupsKey(tab, filter));
	if (!found) return {kind: 'more-groups', key, list: tab, filter, remaining: undefined, bytes: undefined};
	const remaining = found.total - found.loaded.length;
	return remaining > 0 ? {kind: 'more-groups', key, list: tab, filter, remaining, bytes: undefined} : undefined;
}

const rowCache = new WeakMap<HeapModel, {groups: readonly ListGroup[]; open: ReadonlySet<string>; rows: readonly ListRow[]}>();

/**
 * A tab's rows: its groups (listGroups), each open one followed by its
 * members loaded so far and a "more" row for the rest, or by its findings.
 * A member's key is its group's and its address, so the cursor stays on it
 * while pages load; a finding's, its group's and the finding's.
 */
export function listRows(model: HeapModel, tab: ListName, sort: SortKey, filter: string, open: ReadonlySet<string>): readonly ListRow[] {
	const groups = listGroups(model, tab, sort, filter);
	const cached = rowCache.get(model);
	if (cached && cached.groups === groups && cached.open === open) return cached.rows;
	const rows: ListRow[] = [];
	for (const group of groups) {
		const findings = hasMembers(group) ? [] : groupFindings(model, group);
		const opens = hasMembers(group) || findings.length > 1;
		const isOpen = opens && open.has(group.key);
		rows.push({kind: 'group', key: group.key, group, opens, open: isOpen});
		if (!isOpen) continue;
		if (!hasMembers(group)) {
			for (const finding of findings) rows.push({kind: 'finding', key: `${group.key} ${finding.key}`, group, finding});
			continue;
		}
		const loaded = model.members.get(group.key);
		for (const member of loaded?.loaded ?? []) rows.push({kind: 'member', key: `${group.key} @${member.address.toString(16)}`, group, member});
		const count = loaded?.loaded.length ?? 0;
		const remaining = (loaded?.total ?? group.count) - count;
		if (remaining > 0) rows.push({kind: 'more', key: `more ${group.key}`, group, loaded: count, remaining});
	}
	const unloaded = unloadedGroups(model, tab, filter);
	if (unloaded) rows.push(unloaded);
	Object.freeze(rows);
	rowCache.set(model, {groups, open, rows});
	return rows;
}

/** A row's position by key, for rows that are arrays of keyed values; cached per array. */
const indexes = new WeakMap<readonly {readonly key: string}[], ReadonlyMap<string, number>>();

export function indexOfKey(rows: readonly {readonly key: string}[], key: string | undefined): number {
	if (key === undefined) return -1;
	let index = indexes.get(rows);
	if (!index) indexes.set(rows, (index = new Map(rows.map((r, i) => [r.key, i]))));
	return index.get(key) ?? -1;
}
