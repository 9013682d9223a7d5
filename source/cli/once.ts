// The non-interactive run (--once, --json, --fail-on, --export): takes the
// store (figures already received) and the source, gets a heap snapshot —
// captured now, the agent's latest one younger than --max-age, or, replaying,
// the last one the recording carried — reads the whole chain of every
// finding whose document chain elides hops, then prints the report or its
// JSON, writes the exports, and gives the exit status.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import type {HeapSnapshot, Hop, TreeNode} from '../client/heap.js';
import {QueryError, expandPageSize} from '../client/queries.js';
import {shownPath} from '../client/text.js';
import type {UpdateSource} from '../client/watch.js';
import type {Store} from '../store/store.js';
import {buildReport, findingChains, findingsOf, type Report} from '../report/document.js';
import {findingGraph} from '../report/dot.js';
import {retentionProfile} from '../report/pprof.js';
import {UsageError, type Export, type Options} from './args.js';

/** A report that cannot be made as asked (no snapshot for --json, --fail-on or --export; no finding to draw): exit 2. */
export class ReportError extends Error {}

/** Exit statuses of a non-interactive run. */
export const exitClean = 0;
export const exitFindings = 1;

async function snapshotOf(store: Store, source: UpdateSource, options: Options, problems: string[]): Promise<HeapSnapshot | undefined> {
	if (options.replay !== undefined) {
		const document = store.snapshot.heap.document;
		if (!document) problems.push('no heap snapshot: the recording carries none');
		return document;
	}
	// A capture the agent refuses for now (its minimum interval, memory) is
	// asked again a few times: a one-shot run would rather wait a second
	// than report nothing. Only a refusal for cost is waived by a flag.
	for (let attempt = 1; ; attempt++) {
		try {
			return await source.capture({forceGc: false, confirmCost: options.confirmCost, maxAgeMs: options.maxAgeMs});
		} catch (error) {
			if (!(error instanceof QueryError)) throw error;
			if (error.failure === 'rate-limit' && attempt < rateLimitAttempts) {
				await new Promise(resolve => setTimeout(resolve, 1000));
				continue;
			}
			problems.push(`no heap snapshot: ${error.message}${error.failure === 'cost' ? ' (--confirm-cost)' : ''}`);
			return undefined;
		}
	}
}

const rateLimitAttempts = 5;

/** The whole chain of each finding the document shortened, by key; a chain Path cannot give is noted. */
async function fullChains(heap: HeapSnapshot, source: UpdateSource, problems: string[]): Promise<Map<string, readonly Hop[]>> {
	const full = new Map<string, readonly Hop[]>();
	for (const f of heap.findings) {
		if (!f.path.some(h => h.elided > 0)) continue;
		try {
			full.set(f.key, await source.path(heap.id, {findingKey: f.key}));
		} catch (error) {
			if (!(error instanceof QueryError)) throw error;
			problems.push(`chain of ${f.key} shortened: ${error.message}`);
		}
	}
	return full;
}

/** At most this many nodes the pprof export fetches beyond the document. */
const maxFetchedNodes = 20_000;

/**
 * What the document pruned near the roots, for the pprof export: every root
 * (each global and goroutine, not only the biggest) and the first level of
 * objects under each, so the profile names each root with its retained
 * bytes and what it holds with its allocation site; deeper subtrees stay
 * folded into the deepest frame fetched.
 */
async function prunedNearRoots(heap: HeapSnapshot, source: UpdateSource, problems: string[]): Promise<TreeNode[]> {
	const fetched: TreeNode[] = [];
	const fetch = async (node: TreeNode) => {
		for (let offset = node.childrenSent; offset < node.childrenTotal && fetched.length < maxFetchedNodes; ) {
			let page: readonly TreeNode[];
			try {
				page = await source.expand(heap.id, node.id, offset, expandPageSize);
			} catch (error) {
				if (!(error instanceof QueryError)) throw error;
				problems.push(`pprof export: children of ${node.label} after the first ${offset} left out: ${error.message}`);
				return;
			}
			if (page.length === 0) return;
			fetched.push(...page);
			offset += page.length;
		}
	};
	for (const group of heap.tree.filter(n => n.kind === 'root-group')) await fetch(group);
	const roots = [...heap.tree.filter(n => n.kind === 'root'), ...fetched.filter(n => n.kind === 'root')];
	for (const root of roots) if (root.childrenSent === 0 && fetched.length < maxFetchedNodes) await fetch(root);
	return fetched;
}

async function writeExport(e: Export, heap: HeapSnapshot, report: Report, chains: ReadonlyMap<string, readonly Hop[]>, options: Options, source: UpdateSource, problems: string[]): Promise<void> {
	let data: Uint8Array | string;
	if (e.kind === 'pprof') {
		const who = report.target ? ` of pid ${report.target.pid} (${report.target.executable})` : '';
		const fetched = options.replay === undefined ? await prunedNearRoots(heap, source, problems) : [];
		data = retentionProfile(heap, {
			comment: `heaptop retention profile: snapshot #${heap.id}${who}; stacks are dominator-tree chains from roots`,
			executable: report.target?.executable,
			fetched,
		});
	} else {
		const chosen = options.finding === undefined ? report.findings[0] : report.findings.find(f => f.key === options.finding);
		if (!chosen) {
			throw new ReportError(options.finding === undefined ? `--export ${e.kind}: the snapshot has no finding to draw` : `--export ${e.kind}: no finding ${options.finding} in snapshot #${heap.id}`);
		}
		const all = report.findings.map(f => ({key: f.key, kind: f.kind, summary: f.summary, hops: chains.get(f.key) ?? []}));
		data = findingGraph(all.find(f => f.key === chosen.key)!, all);
		if (e.kind === 'svg') data = svgOf(data);
	}
	try {
		fs.writeFileSync(e.file, data);
	} catch (error) {
		throw new UsageError(`cannot write ${shownPath(e.file)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
	}
}

/** Graphviz's rendering of `dot`; one line when dot is missing or refuses. */
function svgOf(dot: string): Buffer {
	try {
		return execFileSync('dot', ['-Tsvg'], {input: dot, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000, maxBuffer: 64 << 20});
	} catch (error) {
		const e = error as NodeJS.ErrnoException & {stderr?: Buffer};
		if (e.code === 'ENOENT') throw new UsageError('--export svg needs Graphviz (dot on PATH); --export dot FILE writes the graph for it');
		throw new UsageError(`dot -Tsvg failed: ${(e.stderr?.toString() || e.message).trim().split('\n')[0]}`);
	}
}

export type OnceOutput = {readonly columns: number; readonly ascii: boolean; readonly version: string};

/** Runs the report and gives the exit status; expected failures throw one-line errors. */
export async function runOnce(store: Store, source: UpdateSource, options: Options, out: OnceOutput): Promise<number> {
	const problems: string[] = [];
	const heap = options.noCapture ? undefined : await snapshotOf(store, source, options, problems);
	const needsSnapshot = options.json || options.failOn.length > 0 || options.exports.length > 0;
	if (!heap && needsSnapshot) {
		const flag = options.json ? '--json' : options.failOn.length > 0 ? '--fail-on' : '--export';
		throw new ReportError(`${flag} needs a heap snapshot; ${problems[0] ?? 'none'}`);
	}
	const full = heap ? await fullChains(heap, source, problems) : new Map<string, readonly Hop[]>();
	const chains = findingChains(heap, full);
	// A replay's "now" is its last tick, so ages read as they did when it was recorded.
	const nowMs = options.replay === undefined ? Date.now() : (store.snapshot.samples.at(-1)?.timeMs ?? Date.now());
	const report = buildReport({store: store.snapshot, heap, chains: full, problems, version: out.version, nowMs});

	// Exports first: what they could not include is among the problems the report lists.
	if (heap) for (const e of options.exports) await writeExport(e, heap, report, chains, options, source, problems);
	if (options.json) {
		process.stdout.write(JSON.stringify(report, null, 2) + '\n');
	} else {
		const {renderReport} = await import('../report/render.js');
		process.stdout.write(renderReport(store.snapshot, {columns: out.columns, ascii: out.ascii, nowMs, report, chains}) + '\n');
	}

	const failing = findingsOf(report, options.failOn);
	if (failing.length > 0) {
		const n = failing.reduce((sum, f) => sum + f.count, 0);
		process.stderr.write(`heaptop: ${n} finding${n === 1 ? '' : 's'} of --fail-on ${options.failOn.join(',')}: ${failing.map(f => f.summary).slice(0, 3).join('; ')}${failing.length > 3 ? '; …' : ''}\n`);
		return exitFindings;
	}
	return exitClean;
}
