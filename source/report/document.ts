// The report document: takes the store's Snapshot (target, figures, GC
// pauses) and a heap snapshot document with its findings' full chains, and
// gives one plain value — what `--json` prints as is and what the --once text
// report draws. One model for both, so they can never say different things.
//
// Its shape is the versioned schema in report.schema.json (README, "--json");
// reportSchemaVersion is bumped on every change a reader must know about.
import type {FindingKindName, HeapSnapshot, Hop, Site, TreeNode} from '../client/heap.js';
import type {Snapshot} from '../store/store.js';

export const reportSchemaVersion = 1;

/** The finding kinds in the order the report lists them: what most needs fixing first. */
export const findingKinds = ['dangling', 'dangling-soon', 'stack', 'unprotected', 'leak', 'suspect'] as const satisfies readonly FindingKindName[];
export type ReportFindingKind = (typeof findingKinds)[number];

/** How many top retainers the report lists. */
export const topRetainers = 10;

export type ReportSite = {readonly func: string; readonly file: string; readonly line: number};

export type ReportHop = {
	readonly via: string;
	/** How the hop before holds it: the global, frame, field, index; or what a hidden word points at. */
	readonly name: string;
	readonly type: string;
	readonly bytes: number;
	readonly state: string;
	/** Hex; a hidden word's own address for a via "hidden" hop. */
	readonly address: string;
	readonly site?: ReportSite;
	/** A frame hop's goroutine, and where it was created. */
	readonly goroutine?: number;
	readonly createdBy?: ReportSite;
	readonly waitReason?: string;
	/** A placeholder for this many hops the agent left out (only when the full chain could not be read). */
	readonly elided?: number;
};

export type ReportFinding = {
	readonly key: string;
	readonly kind: ReportFindingKind;
	readonly summary: string;
	/** Findings of the same chain shape folded into this one (at least 1). */
	readonly count: number;
	/** What the hidden word points at, or a suspect's accumulation point. */
	readonly target: string;
	/** MarkReleased's why, for leaks. */
	readonly reason?: string;
	/** A suspect's share of the heap, 0..1. */
	readonly share?: number;
	/** Root first. */
	readonly path: readonly ReportHop[];
	/** Whether path is the whole chain (false when the agent could not give the elided hops). */
	readonly complete: boolean;
};

export type ReportRetainer = {
	readonly name: string;
	readonly type: string;
	readonly kind: string;
	readonly count: number;
	readonly retainedBytes: number;
	/** retainedBytes over the snapshot's heap bytes, 0..1. */
	readonly share: number;
	readonly site?: ReportSite;
	/** The heaptop agent's own memory (never a suspect). */
	readonly agent?: true;
};

export type Report = {
	readonly schemaVersion: typeof reportSchemaVersion;
	readonly heaptopVersion: string;
	readonly generatedAt: string;
	readonly target: {
		readonly pid: number;
		readonly executable: string;
		readonly goVersion: string;
		readonly address: string;
		readonly hostname: string;
		readonly platform: string;
		readonly agentVersion: string;
	} | null;
	/** The newest metrics sample and the GC pauses seen (null before the first sample). */
	readonly metrics: {
		readonly heapLiveBytes: number;
		readonly heapGoalBytes: number;
		readonly heapObjects: number;
		readonly goroutines: number;
		readonly gcCycles: number;
		readonly gcCpuFraction: number;
		readonly allocBytesPerSecond: number;
		readonly gcPauses: {readonly count: number; readonly minNs: number; readonly maxNs: number; readonly lastNs: number};
	} | null;
	/** The heap snapshot the rest describes (null when none could be had). */
	readonly snapshot: {
		readonly id: number;
		readonly capturedAt: string;
		readonly complete: boolean;
		readonly pauseMs: number;
		readonly analysisMs: number;
		readonly heapBytes: number;
		readonly objects: number;
		readonly edges: number;
		readonly allocSites: {readonly objects: number; readonly bytes: number; readonly full: boolean; readonly sampleRate: number};
		readonly notes: readonly string[];
	} | null;
	readonly states: readonly {readonly state: string; readonly objects: number; readonly bytes: number}[];
	readonly retainers: readonly ReportRetainer[];
	readonly findings: readonly ReportFinding[];
	/** Growth since the snapshot growth is measured against (null: no earlier snapshot). */
	readonly growth: {
		readonly baseSnapshotId: number;
		readonly intervals: number;
		readonly rows: readonly {
			readonly type: string;
			readonly site?: ReportSite;
			readonly countDelta: number;
			readonly bytesDelta: number;
			readonly count: number;
			readonly bytes: number;
			readonly grewIn: number;
		}[];
	} | null;
	/** Why the report has no snapshot, or what went wrong reading a part of it. */
	readonly problems: readonly string[];
};

/** Findings' chains by key: the whole one Path returned, else the document's. */
export type Chains = ReadonlyMap<string, readonly Hop[]>;

/** Every finding's chain: `full` where Path gave it, the document's (maybe elided) otherwise. */
export function findingChains(heap: HeapSnapshot | undefined, full: Chains = new Map()): Chains {
	return new Map((heap?.findings ?? []).map(f => [f.key, full.get(f.key) ?? f.path] as const));
}

export type ReportInput = {
	readonly store: Snapshot;
	readonly heap: HeapSnapshot | undefined;
	/** Full chains by finding key, for findings whose document chain elides hops. */
	readonly chains?: Chains;
	readonly problems?: readonly string[];
	readonly version: string;
	readonly nowMs: number;
};

function site(s: Site | undefined): ReportSite | undefined {
	return s && {func: s.function, file: s.file, line: s.line};
}

/** Drops undefined members, so the JSON has no `"site": undefined` holes and the schema stays strict. */
function defined<T extends object>(o: T): T {
	return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function reportHop(h: Hop): ReportHop {
	return defined({
		via: h.via,
		name: h.label,
		type: h.typeName,
		bytes: h.bytes,
		state: h.state,
		address: `0x${h.address.toString(16)}`,
		site: site(h.site),
		goroutine: h.goroutine > 0 ? h.goroutine : undefined,
		createdBy: site(h.createdBy),
		waitReason: h.waitReason || undefined,
		elided: h.elided > 0 ? h.elided : undefined,
	});
}

/**
 * The dominator tree's top entries by retained size: what the root groups
 * (globals, goroutines, finalizers, runtime) hold directly — a root, or the
 * objects several roots of a group share — and the top-level objects roots
 * of several groups share, so no entry is counted inside another.
 */
export function retainers(tree: readonly TreeNode[], heapBytes: number, limit = topRetainers): ReportRetainer[] {
	const groups = new Set(tree.filter(n => n.kind === 'root-group').map(n => n.id));
	return tree
		.filter(n => (groups.has(n.parent) || n.parent === 0) && n.kind !== 'root-group')
		.sort((a, b) => b.retainedBytes - a.retainedBytes || a.id - b.id)
		.slice(0, limit)
		.map(n =>
			defined({
				name: n.label,
				type: n.typeName,
				kind: n.kind,
				count: n.count,
				retainedBytes: n.retainedBytes,
				share: heapBytes > 0 ? n.retainedBytes / heapBytes : 0,
				site: site(n.site),
				agent: n.agent || undefined,
			}),
		);
}

const kindOrder = (kind: string) => {
	const i = findingKinds.indexOf(kind as ReportFindingKind);
	return i === -1 ? findingKinds.length : i;
};

const iso = (ms: number) => new Date(ms).toISOString();

export function buildReport({store, heap, chains = new Map(), problems = [], version, nowMs}: ReportInput): Report {
	const t = store.target;
	const latest = store.samples.at(-1);
	const pauses = store.gcPause;
	const stats = heap?.stats;
	return {
		schemaVersion: reportSchemaVersion,
		heaptopVersion: version,
		generatedAt: iso(nowMs),
		target: t
			? {pid: t.pid, executable: t.executable, goVersion: t.goVersion, address: t.address, hostname: t.hostname, platform: t.platform, agentVersion: t.agentVersion}
			: null,
		metrics: latest
			? {
					heapLiveBytes: latest.heapLiveBytes,
					heapGoalBytes: latest.heapGoalBytes,
					heapObjects: latest.heapObjects,
					goroutines: latest.goroutines,
					gcCycles: latest.gcCycles,
					gcCpuFraction: latest.gcCpuFraction,
					allocBytesPerSecond: latest.allocBytesPerSecond,
					gcPauses: {count: pauses.values.length, minNs: pauses.min, maxNs: pauses.max, lastNs: pauses.last},
				}
			: null,
		snapshot:
			heap && stats
				? {
						id: heap.id,
						capturedAt: iso(heap.capturedMs),
						complete: heap.complete,
						pauseMs: stats.pauseNs / 1e6,
						analysisMs: (stats.parseNs + stats.nameNs + stats.analyseNs + stats.dominatorsNs) / 1e6,
						heapBytes: stats.heapBytes,
						objects: stats.objects,
						edges: stats.edges,
						allocSites: {objects: stats.objectsWithSite, bytes: stats.bytesWithSite, full: stats.fullSites, sampleRate: stats.sampleRate},
						notes: heap.notes,
					}
				: null,
		states: heap ? heap.states.map(s => ({state: s.state, objects: s.objects, bytes: s.bytes})) : [],
		retainers: heap ? retainers(heap.tree, heap.stats.heapBytes) : [],
		findings: heap
			? heap.findings
					.filter(f => kindOrder(f.kind) < findingKinds.length)
					.map((f, i) => ({f, i}))
					.sort((a, b) => kindOrder(a.f.kind) - kindOrder(b.f.kind) || a.i - b.i)
					.map(({f}) => {
						const full = chains.get(f.key);
						const path = full ?? f.path;
						return defined({
							key: f.key,
							kind: f.kind as ReportFindingKind,
							summary: f.summary,
							count: f.count,
							target: f.target,
							reason: f.reason || undefined,
							share: f.kind === 'suspect' ? f.share : undefined,
							path: path.map(reportHop),
							complete: !path.some(h => h.elided > 0),
						});
					})
			: [],
		growth:
			heap && heap.growthBaseId > 0
				? {
						baseSnapshotId: heap.growthBaseId,
						intervals: heap.growthIntervals,
						rows: heap.growth.map(g =>
							defined({type: g.typeName, site: site(g.site), countDelta: g.countDelta, bytesDelta: g.bytesDelta, count: g.count, bytes: g.bytes, grewIn: g.grewIn}),
						),
					}
				: null,
		problems,
	};
}

/** The findings of the kinds given: what --fail-on fails on. */
export function findingsOf(report: Report, kinds: readonly string[]): ReportFinding[] {
	return report.findings.filter(f => kinds.includes(f.kind));
}
