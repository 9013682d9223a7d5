// The pprof export: takes a heap snapshot document and gives a gzipped
// profile.proto (github.com/google/pprof/proto/profile.proto) whose "stacks"
// are retention chains: each node of the folded dominator tree is a frame,
// its ancestors are its callers, so a flame graph of the profile is the
// dominator tree and a node's cumulative inuse_space is its retained size.
//
// Values per frame: inuse_space is the node's retained bytes less its
// children's in the document (its own bytes, plus those of children the
// agent pruned from the document); inuse_objects counts objects the same
// way. A frame's function is the node (a root's name, or how its holder
// holds it and its type), with the allocation site's file, line and
// function where the node has one.
//
// The encoding is written here (a few dozen lines): the profile needs five
// messages of profile.proto and nothing else protobuf offers.
import {gzipSync} from 'node:zlib';
import type {HeapSnapshot, TreeNode} from '../client/heap.js';

/** Protobuf's wire format, the little of it profile.proto needs. */
class Writer {
	private readonly bytes: number[] = [];

	/** A varint of a non-negative integer up to 2^53 (pprof's int64 and uint64 values are). */
	varint(n: number): this {
		let x = Math.max(0, Math.floor(n));
		while (x >= 0x80) {
			this.bytes.push((x % 0x80) | 0x80);
			x = Math.floor(x / 0x80);
		}
		this.bytes.push(x);
		return this;
	}

	/** A varint field; zero is the default and left out, as protobuf encoders do. */
	uint(field: number, n: number): this {
		return n === 0 ? this : this.varint(field * 8).varint(n);
	}

	bytesField(field: number, data: Uint8Array): this {
		this.varint(field * 8 + 2).varint(data.length);
		for (const b of data) this.bytes.push(b);
		return this;
	}

	message(field: number, build: (w: Writer) => void): this {
		const w = new Writer();
		build(w);
		return this.bytesField(field, w.finish());
	}

	string(field: number, s: string): this {
		return this.bytesField(field, new TextEncoder().encode(s));
	}

	packed(field: number, values: readonly number[]): this {
		const w = new Writer();
		for (const v of values) w.varint(v);
		return this.bytesField(field, w.finish());
	}

	finish(): Uint8Array {
		return Uint8Array.from(this.bytes);
	}
}

/** profile.proto field numbers. */
const P = {sampleType: 1, sample: 2, mapping: 3, location: 4, function: 5, stringTable: 6, timeNanos: 9, periodType: 11, period: 12, comment: 13, defaultSampleType: 14} as const;

/** What a tree node is called as a frame. */
export function frameName(n: TreeNode): string {
	if (n.kind === 'root-group' || n.kind === 'root') return n.label;
	const times = n.kind === 'folded' ? `×${n.count} ` : '';
	return `${n.label} ${times}${n.typeName}`.trim();
}

export type ProfileOptions = {
	readonly comment?: string;
	/** The target's executable, named by the profile's one mapping. */
	readonly executable?: string;
	/** Tree nodes Expand gave beyond the document (roots it pruned), drawn as part of the tree. */
	readonly fetched?: readonly TreeNode[];
};

/** The snapshot's dominator tree as a gzipped pprof profile. */
export function retentionProfile(heap: HeapSnapshot, {comment, executable = '', fetched = []}: ProfileOptions = {}): Uint8Array {
	const strings = new Map<string, number>([['', 0]]);
	const str = (s: string) => {
		let i = strings.get(s);
		if (i === undefined) strings.set(s, (i = strings.size));
		return i;
	};
	const functions = new Map<string, {id: number; name: number; system: number; file: number; line: number}>();
	const byId = new Map(heap.tree.map(n => [n.id, n] as const));
	for (const n of fetched) if (!byId.has(n.id) && byId.has(n.parent)) byId.set(n.id, n);
	const tree = [...byId.values()];
	const children = new Map<number, TreeNode[]>();
	for (const n of tree) {
		const list = children.get(n.parent) ?? [];
		list.push(n);
		children.set(n.parent, list);
	}

	const out = new Writer();
	out.message(P.sampleType, w => w.uint(1, str('inuse_objects')).uint(2, str('count')));
	out.message(P.sampleType, w => w.uint(1, str('inuse_space')).uint(2, str('bytes')));
	// Functions are named already: no tool should look for symbols in the executable.
	out.message(P.mapping, w => w.uint(1, 1).uint(5, str(executable)).uint(7, 1).uint(8, 1).uint(9, 1).uint(10, 1));

	// One location per node (id = its index + 1), its function shared by nodes of the same name and site.
	const locationOf = new Map<number, number>();
	for (const [i, n] of tree.entries()) {
		const name = frameName(n);
		const key = `${name}\u0000${n.site?.function ?? ''}\u0000${n.site?.file ?? ''}`;
		let fn = functions.get(key);
		if (!fn) {
			fn = {id: functions.size + 1, name: str(name), system: str(n.site?.function ?? name), file: str(n.site?.file ?? ''), line: n.site?.line ?? 0};
			functions.set(key, fn);
		}
		const f = fn;
		const id = i + 1;
		locationOf.set(n.id, id);
		out.message(P.location, w => w.uint(1, id).uint(2, 1).message(4, l => l.uint(1, f.id).uint(2, n.site?.line ?? 0)));
	}
	for (const f of functions.values()) {
		out.message(P.function, w => w.uint(1, f.id).uint(2, f.name).uint(3, f.system).uint(4, f.file).uint(5, f.line));
	}

	for (const n of tree) {
		const kids = children.get(n.id) ?? [];
		const bytes = Math.max(0, n.retainedBytes - kids.reduce((sum, k) => sum + k.retainedBytes, 0));
		const own = n.kind === 'object' ? 1 : n.kind === 'folded' ? Math.max(0, n.count - kids.filter(k => k.kind === 'object').length) : 0;
		if (bytes === 0 && own === 0) continue;
		const stack: number[] = [];
		for (let at: TreeNode | undefined = n; at; at = byId.get(at.parent)) {
			stack.push(locationOf.get(at.id)!);
			if (stack.length > tree.length) break; // a cycle in bad input: stop, never loop
		}
		out.message(P.sample, w => w.packed(1, stack).packed(2, [own, bytes]));
	}

	out.message(P.periodType, w => w.uint(1, str('space')).uint(2, str('bytes')));
	out.uint(P.period, 1);
	out.uint(P.timeNanos, Math.round(heap.capturedMs * 1e6));
	if (comment) out.packed(P.comment, [str(comment)]);
	out.uint(P.defaultSampleType, str('inuse_space'));
	// The string table last: every index above is taken by now.
	for (const s of strings.keys()) out.string(P.stringTable, s);
	return gzipSync(out.finish());
}
