// The graph tier in domain terms: takes the decoded snapshot messages of
// heaptop/v1 (Snapshot, TreeNode, ListGroup, Finding, Hop, CaptureProgress)
// and gives plain, frozen values with the names the views and the report
// use. Nothing outside source/client sees a generated type.
//
// Units as in events.ts: times in ms since the epoch, durations of a capture
// in ns, byte and object counts as numbers (exact up to 2^53), addresses as
// numbers (user-space addresses are below 2^48 on every platform Go's heap
// dump supports, so exact too). Every string the agent sends goes through
// printable(): it is data, never a terminal sequence.
import {
	FindingKind,
	List,
	NodeKind,
	Phase,
	State,
	Via,
	type CaptureProgress,
	type Finding as WireFinding,
	type GrowthRow as WireGrowthRow,
	type Hop as WireHop,
	type ListGroup as WireListGroup,
	type MembersReply as WireMembersReply,
	type GroupsReply as WireGroupsReply,
	type Site as WireSite,
	type Snapshot as WireSnapshot,
	type TreeNode as WireTreeNode,
} from '../gen/heaptop/v1/heaptop.js';
import {printable} from './text.js';

/**
 * What the GC will do with an object (design.md §3), or, for the last hop of
 * a dangling chain, what the memory a hidden word names is now.
 */
export type ObjectState = 'live' | 'pending' | 'pending-finalizer' | 'weak' | 'free' | 'stack' | 'unknown';

/** The object lists' tabs, in the order the UI shows them. */
export const listNames = ['live', 'pending', 'dangling', 'leaks'] as const;
export type ListName = (typeof listNames)[number];

/** Finding kinds, named as --json names them (issue 7). */
export type FindingKindName = 'dangling' | 'dangling-soon' | 'stack' | 'unprotected' | 'leak' | 'suspect' | 'unknown';

export type NodeKindName = 'root-group' | 'root' | 'object' | 'folded' | 'unknown';

/** How a hop is held by the hop before it. Mirrors heaptop.v1.Via. */
export type ViaName =
	| 'global'
	| 'frame'
	| 'field'
	| 'index'
	| 'map-key'
	| 'map-value'
	| 'interface'
	| 'closure'
	| 'finalizer'
	| 'hidden'
	| 'runtime'
	| 'pointer'
	| 'unknown';

/** The stages of a capture, in order. Mirrors heaptop.v1.Phase. */
export const phaseNames = ['dump', 'parse', 'name', 'analyse', 'dominators', 'done'] as const;
export type PhaseName = (typeof phaseNames)[number] | 'unknown';

/** A source location. Mirrors heaptop.v1.Site; absent when the agent sent none or an empty one. */
export type Site = {readonly function: string; readonly file: string; readonly line: number};

/** One row of the folded dominator tree. Mirrors heaptop.v1.TreeNode. */
export type TreeNode = {
	/** Unique within its snapshot; valid for Expand and Path while the agent holds it. */
	readonly id: number;
	/** 0 for a top-level node. */
	readonly parent: number;
	readonly kind: NodeKindName;
	/** Stable across snapshots for the same logical node: the cursor and expansions follow it. */
	readonly key: string;
	readonly label: string;
	readonly typeName: string;
	readonly site: Site | undefined;
	/** Objects the row stands for: 1, or the folded siblings' count. */
	readonly count: number;
	readonly retainedBytes: number;
	readonly shallowBytes: number;
	readonly state: ObjectState;
	/** Children in all, and how many the document (or an Expand) carried. */
	readonly childrenTotal: number;
	readonly childrenSent: number;
	/** The heaptop agent's own memory: what the tool costs the program. */
	readonly agent: boolean;
};

/** Objects of one list, type and allocation site. Mirrors heaptop.v1.ListGroup. */
export type ListGroup = {
	readonly list: ListName | 'unknown';
	readonly key: string;
	readonly typeName: string;
	readonly site: Site | undefined;
	readonly count: number;
	readonly bytes: number;
	readonly retainedBytes: number;
	readonly state: ObjectState;
	readonly findingKeys: readonly string[];
};

/** A list in all: the document carries its biggest groups, Groups the rest. Mirrors heaptop.v1.ListTotal. */
export type ListTotal = {
	readonly list: ListName | 'unknown';
	readonly groups: number;
	readonly objects: number;
	readonly bytes: number;
};

/** A page of a list's groups and how many match in all. Mirrors heaptop.v1.GroupsReply. */
export type GroupsPage = {
	readonly groups: readonly ListGroup[];
	readonly total: number;
};

/** One object of a live or pending list group. Mirrors heaptop.v1.Member. */
export type Member = {
	readonly address: number;
	readonly bytes: number;
	readonly retainedBytes: number;
	readonly state: ObjectState;
};

/** A page of a group's objects and how many it has in all. Mirrors heaptop.v1.MembersReply. */
export type MembersPage = {
	readonly members: readonly Member[];
	readonly total: number;
};

/** One step of a retention chain. Mirrors heaptop.v1.Hop. */
export type Hop = {
	readonly via: ViaName;
	readonly label: string;
	readonly typeName: string;
	readonly bytes: number;
	/** Allocation site of the hop's object; for a frame hop, the frame's file:line. */
	readonly site: Site | undefined;
	readonly address: number;
	readonly state: ObjectState;
	/** Offset of the word holding the next hop inside this hop's object. */
	readonly offset: number;
	/** Goroutine of a frame hop (0: none). */
	readonly goroutine: number;
	readonly createdBy: Site | undefined;
	readonly waitReason: string;
	/** Non-zero on a placeholder for this many hops left out of a long chain. */
	readonly elided: number;
};

export type Finding = {
	/** Stable across snapshots for the same holder word and kind. */
	readonly key: string;
	readonly kind: FindingKindName;
	readonly summary: string;
	/** Root first; for a hidden reference: …, holder, hidden word, target. */
	readonly path: readonly Hop[];
	/** Findings of the same chain shape folded into this one (at least 1). */
	readonly count: number;
	readonly target: string;
	readonly reason: string;
	readonly node: number;
	readonly accumulationNode: number;
	readonly share: number;
};

export type GrowthRow = {
	readonly typeName: string;
	readonly site: Site | undefined;
	readonly countDelta: number;
	readonly bytesDelta: number;
	readonly count: number;
	readonly bytes: number;
	readonly grewIn: number;
};

/** What a capture cost and covered. Mirrors heaptop.v1.CaptureStats. */
export type CaptureStats = {
	readonly pauseNs: number;
	readonly dumpBytes: number;
	readonly dumpNs: number;
	readonly parseNs: number;
	readonly nameNs: number;
	readonly analyseNs: number;
	readonly dominatorsNs: number;
	readonly objects: number;
	readonly edges: number;
	readonly heapBytes: number;
	readonly objectsWithSite: number;
	readonly bytesWithSite: number;
	/** Every allocation's site is known (MemProfileRate=1); else sampled. */
	readonly fullSites: boolean;
	/** runtime.MemProfileRate in effect: bytes between samples. */
	readonly sampleRate: number;
	readonly objectsTyped: number;
	readonly bytesTyped: number;
	readonly hiddenWords: number;
	readonly hiddenCounted: number;
	readonly heldBytes: number;
	readonly documentBytes: number;
};

export type StateTotal = {readonly state: ObjectState; readonly objects: number; readonly bytes: number};

/** The document one capture gives: the real heap at one instant, analysed. Mirrors heaptop.v1.Snapshot. */
export type HeapSnapshot = {
	readonly id: number;
	readonly capturedMs: number;
	/** False for the early document with findings only; a complete one with the same id follows. */
	readonly complete: boolean;
	readonly stats: CaptureStats;
	readonly states: readonly StateTotal[];
	/** Pre-order, pruned; each node's children follow it, up to childrenSent of them. */
	readonly tree: readonly TreeNode[];
	readonly groups: readonly ListGroup[];
	/** The live and pending lists in all (complete documents of agents that say). */
	readonly listTotals: readonly ListTotal[];
	readonly findings: readonly Finding[];
	readonly growth: readonly GrowthRow[];
	readonly growthBaseId: number;
	readonly growthIntervals: number;
	readonly notes: readonly string[];
};

/** How far a capture has got. Mirrors heaptop.v1.CaptureProgress. */
export type Progress = {
	readonly snapshotId: number;
	readonly phase: PhaseName;
	/** Share of the phase done, 0..1, when the phase can tell; else 0. */
	readonly fraction: number;
	readonly elapsedNs: number;
	readonly detail: string;
};

const states: Record<number, ObjectState> = {
	[State.STATE_LIVE]: 'live',
	[State.STATE_PENDING]: 'pending',
	[State.STATE_PENDING_FINALIZER]: 'pending-finalizer',
	[State.STATE_WEAK]: 'weak',
	[State.STATE_FREE]: 'free',
	[State.STATE_STACK]: 'stack',
};

const lists: Record<number, ListName> = {
	[List.LIST_LIVE]: 'live',
	[List.LIST_PENDING]: 'pending',
	[List.LIST_DANGLING]: 'dangling',
	[List.LIST_LEAKS]: 'leaks',
};

const findingKinds: Record<number, FindingKindName> = {
	[FindingKind.FINDING_KIND_DANGLING]: 'dangling',
	[FindingKind.FINDING_KIND_DANGLING_SOON]: 'dangling-soon',
	[FindingKind.FINDING_KIND_STACK]: 'stack',
	[FindingKind.FINDING_KIND_UNPROTECTED]: 'unprotected',
	[FindingKind.FINDING_KIND_LEAK]: 'leak',
	[FindingKind.FINDING_KIND_SUSPECT]: 'suspect',
};

const nodeKinds: Record<number, NodeKindName> = {
	[NodeKind.NODE_KIND_ROOT_GROUP]: 'root-group',
	[NodeKind.NODE_KIND_ROOT]: 'root',
	[NodeKind.NODE_KIND_OBJECT]: 'object',
	[NodeKind.NODE_KIND_FOLDED]: 'folded',
};

const vias: Record<number, ViaName> = {
	[Via.VIA_GLOBAL]: 'global',
	[Via.VIA_FRAME]: 'frame',
	[Via.VIA_FIELD]: 'field',
	[Via.VIA_INDEX]: 'index',
	[Via.VIA_MAP_KEY]: 'map-key',
	[Via.VIA_MAP_VALUE]: 'map-value',
	[Via.VIA_INTERFACE]: 'interface',
	[Via.VIA_CLOSURE]: 'closure',
	[Via.VIA_FINALIZER]: 'finalizer',
	[Via.VIA_HIDDEN]: 'hidden',
	[Via.VIA_RUNTIME]: 'runtime',
	[Via.VIA_POINTER]: 'pointer',
};

const phases: Record<number, PhaseName> = {
	[Phase.PHASE_DUMP]: 'dump',
	[Phase.PHASE_PARSE]: 'parse',
	[Phase.PHASE_NAME]: 'name',
	[Phase.PHASE_ANALYSE]: 'analyse',
	[Phase.PHASE_DOMINATORS]: 'dominators',
	[Phase.PHASE_DONE]: 'done',
};

/** A uint64 the agent sent, as a number; beyond 2^53 it is rounded, never an error. */
const n = (x: bigint): number => Number(x);

/** A fraction the agent sent, kept to 0..1 (NaN and infinities are 0). */
const fraction = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

function toSite(s: WireSite | undefined): Site | undefined {
	if (!s || (s.file === '' && s.function === '' && s.line === 0)) return undefined;
	return {function: printable(s.function), file: printable(s.file), line: s.line};
}

export function toTreeNode(t: WireTreeNode): TreeNode {
	return Object.freeze({
		id: t.id,
		parent: t.parent,
		kind: nodeKinds[t.kind] ?? 'unknown',
		key: printable(t.key),
		label: printable(t.label),
		typeName: printable(t.typeName),
		site: toSite(t.site),
		count: n(t.count),
		retainedBytes: n(t.retainedBytes),
		shallowBytes: n(t.shallowBytes),
		state: states[t.state] ?? 'unknown',
		childrenTotal: t.childrenTotal,
		childrenSent: t.childrenSent,
		agent: t.agent,
	});
}

function toGroup(g: WireListGroup): ListGroup {
	return Object.freeze({
		list: lists[g.list] ?? 'unknown',
		key: printable(g.key),
		typeName: printable(g.typeName),
		site: toSite(g.site),
		count: n(g.count),
		bytes: n(g.bytes),
		retainedBytes: n(g.retainedBytes),
		state: states[g.state] ?? 'unknown',
		findingKeys: Object.freeze(g.findingKeys.map(printable)),
	});
}

export function toGroupsPage(r: WireGroupsReply): GroupsPage {
	return Object.freeze({groups: Object.freeze(r.groups.map(toGroup)), total: n(r.total)});
}

export function toMembersPage(r: WireMembersReply): MembersPage {
	return Object.freeze({
		members: Object.freeze(
			r.members.map(m => Object.freeze({address: n(m.address), bytes: n(m.bytes), retainedBytes: n(m.retainedBytes), state: states[m.state] ?? 'unknown'})),
		),
		total: n(r.total),
	});
}

export function toHop(h: WireHop): Hop {
	return Object.freeze({
		via: vias[h.via] ?? 'unknown',
		label: printable(h.label),
		typeName: printable(h.typeName),
		bytes: n(h.bytes),
		site: toSite(h.site),
		address: n(h.address),
		state: states[h.state] ?? 'unknown',
		offset: n(h.offset),
		goroutine: n(h.goroutine),
		createdBy: toSite(h.createdBy),
		waitReason: printable(h.waitReason),
		elided: h.elided,
	});
}

function toFinding(f: WireFinding): Finding {
	return Object.freeze({
		key: printable(f.key),
		kind: findingKinds[f.kind] ?? 'unknown',
		summary: printable(f.summary),
		path: Object.freeze(f.path.map(toHop)),
		count: Math.max(1, n(f.count)),
		target: printable(f.target),
		reason: printable(f.reason),
		node: f.node,
		accumulationNode: f.accumulationNode,
		share: fraction(f.share),
	});
}

function toGrowth(g: WireGrowthRow): GrowthRow {
	return Object.freeze({
		typeName: printable(g.typeName),
		site: toSite(g.site),
		countDelta: n(g.countDelta),
		bytesDelta: n(g.bytesDelta),
		count: n(g.count),
		bytes: n(g.bytes),
		grewIn: g.grewIn,
	});
}

const nsPerMs = 1_000_000n;

export function toHeapSnapshot(s: WireSnapshot): HeapSnapshot {
	const st = s.stats;
	const stat = (x: bigint | undefined) => (x === undefined ? 0 : n(x));
	return Object.freeze({
		id: n(s.id),
		capturedMs: Number(s.capturedUnixNano / nsPerMs) + Number(s.capturedUnixNano % nsPerMs) / 1e6,
		complete: s.complete,
		stats: Object.freeze({
			pauseNs: stat(st?.pauseNs),
			dumpBytes: stat(st?.dumpBytes),
			dumpNs: stat(st?.dumpNs),
			parseNs: stat(st?.parseNs),
			nameNs: stat(st?.nameNs),
			analyseNs: stat(st?.analyseNs),
			dominatorsNs: stat(st?.dominatorsNs),
			objects: stat(st?.objects),
			edges: stat(st?.edges),
			heapBytes: stat(st?.heapBytes),
			objectsWithSite: stat(st?.objectsWithSite),
			bytesWithSite: stat(st?.bytesWithSite),
			fullSites: st?.fullSites ?? false,
			sampleRate: stat(st?.sampleRate),
			objectsTyped: stat(st?.objectsTyped),
			bytesTyped: stat(st?.bytesTyped),
			hiddenWords: stat(st?.hiddenWords),
			hiddenCounted: stat(st?.hiddenCounted),
			heldBytes: stat(st?.heldBytes),
			documentBytes: stat(st?.documentBytes),
		}),
		states: Object.freeze(s.states.map(t => Object.freeze({state: states[t.state] ?? 'unknown', objects: n(t.objects), bytes: n(t.bytes)}))),
		tree: Object.freeze(s.tree.map(toTreeNode)),
		groups: Object.freeze(s.groups.map(toGroup)),
		listTotals: Object.freeze(
			s.listTotals.map(t => Object.freeze({list: lists[t.list] ?? 'unknown', groups: n(t.groups), objects: n(t.count), bytes: n(t.bytes)})),
		),
		findings: Object.freeze(s.findings.map(toFinding)),
		growth: Object.freeze(s.growth.map(toGrowth)),
		growthBaseId: n(s.growthBaseId),
		growthIntervals: s.growthIntervals,
		notes: Object.freeze(s.notes.map(printable)),
	});
}

export function toProgress(p: CaptureProgress): Progress {
	return Object.freeze({
		snapshotId: n(p.snapshotId),
		phase: phases[p.phase] ?? 'unknown',
		fraction: fraction(p.fraction),
		elapsedNs: n(p.elapsedNs),
		detail: printable(p.detail),
	});
}
