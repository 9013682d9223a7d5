// The Graphviz export: takes a finding's whole chain and the chains of the
// other findings that share an object with it, and gives a DOT digraph of
// that subgraph, bounded in size, coloured by state (green live, yellow
// pending, red free or a stack; roots grey). A hidden word is no node but a
// dashed red edge from its holder to what it names: the GC does not follow
// it, and that is the bug the picture shows.
import type {Hop} from '../client/heap.js';
import {formatAddress, formatBytes, formatSite, stateName} from '../views/format.js';

/** At most this many nodes: a picture someone can read in a ticket. */
export const maxDotNodes = 60;

export type DotFinding = {readonly key: string; readonly kind: string; readonly summary: string; readonly hops: readonly Hop[]};

const fill: Record<string, string> = {
	live: '#c8f0c8',
	pending: '#fff2a8',
	'pending-finalizer': '#fff2a8',
	weak: '#fff2a8',
	free: '#ffb3b3',
	stack: '#ffb3b3',
};

/** A DOT double-quoted string: backslashes and quotes escaped, one line per \n. */
export function quoted(text: string): string {
	return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

/** Where a hop's node is: its object's address, else (a root) its name. */
function nodeKey(hop: Hop): string {
	return hop.address > 0 && hop.via !== 'global' && hop.via !== 'frame' ? `@${hop.address}` : `${hop.via}:${hop.label}:${hop.address}`;
}

function nodeLabel(hop: Hop): string {
	const lines = [hop.label];
	if (hop.typeName) lines.push(hop.typeName);
	const size = hop.bytes > 0 ? formatBytes(hop.bytes) : '';
	const state = hop.state === 'live' || hop.state === 'unknown' ? '' : stateName(hop.state);
	const detail = [size, state].filter(Boolean).join(', ');
	if (detail) lines.push(detail);
	if (hop.site) lines.push(`${formatSite(hop.site)} ${hop.site.function}`.trim());
	else if (hop.address > 0 && state) lines.push(formatAddress(hop.address));
	return lines.join('\n');
}

/**
 * The subgraph around `finding`: its chain, then the chains of `others` that
 * share a node with it, while fewer than maxDotNodes nodes are drawn.
 */
export function findingGraph(finding: DotFinding, others: readonly DotFinding[] = []): string {
	const nodes = new Map<string, {id: string; hop: Hop; root: boolean}>();
	const edges = new Map<string, {from: string; to: string; label: string; hidden: boolean}>();
	const chainKeys = (hops: readonly Hop[]) => hops.filter(h => h.via !== 'hidden' || h === hops.at(-1)).map(nodeKey);

	const add = (hops: readonly Hop[]) => {
		let previous: string | undefined;
		let hiddenLabel: string | undefined;
		for (const [i, hop] of hops.entries()) {
			if (hop.elided > 0) {
				previous = undefined; // the chain has a gap: no edge across it
				continue;
			}
			if (hop.via === 'hidden' && i < hops.length - 1) {
				hiddenLabel = `${hop.label} ${hop.typeName}`.trim();
				continue;
			}
			const key = nodeKey(hop);
			if (!nodes.has(key)) nodes.set(key, {id: `n${nodes.size}`, hop, root: i === 0});
			if (previous !== undefined) {
				const hidden = hiddenLabel !== undefined;
				const edge = {from: previous, to: key, label: hiddenLabel ?? hop.label, hidden};
				edges.set(`${previous}>${key}`, edge);
			}
			hiddenLabel = undefined;
			previous = key;
		}
	};
	add(finding.hops);
	const own = new Set(chainKeys(finding.hops));
	for (const other of others) {
		if (other.key === finding.key) continue;
		const keys = chainKeys(other.hops);
		if (!keys.some(k => own.has(k))) continue;
		const added = keys.filter(k => !nodes.has(k)).length;
		if (nodes.size + added > maxDotNodes) continue;
		add(other.hops);
	}

	const lines = [
		'digraph heaptop {',
		'\trankdir=TB;',
		`\tlabel=${quoted(`${finding.kind}: ${finding.summary}`)};`,
		'\tlabelloc=t;',
		'\tnode [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
		'\tedge [fontname="Helvetica", fontsize=9];',
	];
	for (const {id, hop, root} of nodes.values()) {
		const colour = root ? '#e0e0e0' : (fill[hop.state] ?? '#ffffff');
		const border = own.has(nodeKey(hop)) ? ', penwidth=2' : '';
		lines.push(`\t${id} [label=${quoted(nodeLabel(hop))}, fillcolor=${quoted(colour)}${border}];`);
	}
	for (const e of edges.values()) {
		const style = e.hidden ? ', style=dashed, color="#d00000", fontcolor="#d00000"' : '';
		lines.push(`\t${nodes.get(e.from)!.id} -> ${nodes.get(e.to)!.id} [label=${quoted(e.hidden ? `${e.label} (hidden)` : e.label)}${style}];`);
	}
	lines.push('}');
	return lines.join('\n') + '\n';
}
