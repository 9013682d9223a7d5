// On-demand queries of the graph tier: Capture, Expand, Path, Members and Groups. Takes a
// grpc-js Client made by channel.ts (so the token goes with every call) and
// gives domain values (heap.ts) or a QueryError with one line for the user.
//
// Replies are decoded here from their raw bytes, not by grpc-js, so that
// --record can keep exactly what the agent sent and --replay can answer the
// same question with the same bytes through the same decoding (recording.ts).
import grpc from '@grpc/grpc-js';
import {
	CaptureReply,
	ExpandReply,
	GroupsReply,
	HeaptopService,
	List,
	MembersReply,
	PathReply,
	type CaptureRequest,
	type ExpandRequest,
	type GroupsRequest,
	type MembersRequest,
	type PathRequest,
} from '../gen/heaptop/v1/heaptop.js';
import {
	toGroupsPage,
	toHeapSnapshot,
	toHop,
	toMembersPage,
	toTreeNode,
	type GroupsPage,
	type HeapSnapshot,
	type Hop,
	type ListName,
	type MembersPage,
	type TreeNode,
} from './heap.js';
import {shown} from './text.js';

/**
 * How long a Capture may take. The agent answers when the document is
 * complete; progress arrives meanwhile on the Watch stream. Issue 5's goal
 * is the whole document within ~6 s at 10⁷ objects on a 2-core machine; a
 * loaded machine, a bigger heap or a slow link take longer, and waiting too
 * long costs only a spinner, so the bound is generous.
 */
export const captureDeadlineMs = 5 * 60_000;

/** Expand, Path, Members and Groups read a snapshot the agent holds: quick, unless the link is slow. */
export const queryDeadlineMs = 30_000;

/** Children asked for per Expand: a few screens of rows. */
export const expandPageSize = 200;

/** Objects of a list group asked for per Members: many screens, well under the agent's 5,000. */
export const membersPageSize = 1000;

/** Groups of a list asked for per Groups: the agent's most. */
export const groupsPageSize = 1000;

/** How much of the agent's refusal a message quotes. */
const maxReasonText = 200;

/** The unary RPCs, by the name a recording stores them under. */
export const calls = {
	Capture: HeaptopService.capture,
	Expand: HeaptopService.expand,
	Path: HeaptopService.path,
	Members: HeaptopService.members,
	Groups: HeaptopService.groups,
} as const;
export type CallName = keyof typeof calls;

/** What a Capture asks for. Mirrors heaptop.v1.CaptureRequest. */
export type CaptureOptions = {
	/** Run a full GC before the dump (the C key). */
	readonly forceGc: boolean;
	/** Accept a predicted pause over the agent's budget (after the user saw it). */
	readonly confirmCost: boolean;
	/** Reuse the agent's latest snapshot when younger than this many ms (--max-age); absent: capture. */
	readonly maxAgeMs?: number;
};

/** What a Path asks about: a tree node, an example object of a list group, a finding, or the object at an address. */
export type PathOf = {readonly node: number} | {readonly groupKey: string} | {readonly findingKey: string} | {readonly address: number};

/** Anything that answers on-demand queries: a live Watch, or a Replay from its recording. */
export interface HeapQueries {
	/** Takes a snapshot (or joins the one in flight) and resolves with its complete document. */
	capture(options: CaptureOptions): Promise<HeapSnapshot>;
	/** Children of a tree node beyond those the document carried, from `offset`. */
	expand(snapshotId: number, node: number, offset: number, limit?: number): Promise<readonly TreeNode[]>;
	/** The whole retention chain, root first. */
	path(snapshotId: number, of: PathOf): Promise<readonly Hop[]>;
	/** A page of a live or pending list group's objects, biggest holders first. */
	members(snapshotId: number, groupKey: string, offset: number, limit?: number): Promise<MembersPage>;
	/** A page of a live or pending list's groups (those matching `filter`, if any), in the document's order. */
	groups(snapshotId: number, list: ListName, filter: string, offset: number, limit?: number): Promise<GroupsPage>;
}

/**
 * Why a query failed, for the UI to act on: `cost` asks the user to confirm
 * (resend with confirmCost); `rate-limit` may pass if asked again later (the
 * agent's interval or memory); the others are shown as a notice.
 */
export type QueryFailure = 'cost' | 'rate-limit' | 'not-found' | 'unavailable' | 'timeout' | 'unsupported' | 'not-recorded' | 'refused';

/** A query that did not give an answer; the message is one line for the user. */
export class QueryError extends Error {
	readonly failure: QueryFailure;
	constructor(failure: QueryFailure, message: string) {
		super(message);
		this.failure = failure;
	}
}

/** One query as it crossed the wire: what --record keeps and --replay answers from. */
export type RecordedCall = {
	readonly call: CallName;
	readonly request: Uint8Array;
	/** The reply's bytes, or the status the agent answered with. */
	readonly reply?: Uint8Array;
	readonly status?: {readonly code: number; readonly details: string};
};

export function captureRequest(o: CaptureOptions): CaptureRequest {
	return {forceGc: o.forceGc, confirmCost: o.confirmCost, maxAgeNs: BigInt(Math.round((o.maxAgeMs ?? 0) * 1e6))};
}

export function expandRequest(snapshotId: number, node: number, offset: number, limit = expandPageSize): ExpandRequest {
	return {snapshotId: BigInt(snapshotId), node, offset, limit};
}

export function pathRequest(snapshotId: number, of: PathOf): PathRequest {
	return 'address' in of ? {snapshotId: BigInt(snapshotId), address: BigInt(of.address)} : {snapshotId: BigInt(snapshotId), ...of};
}

export function membersRequest(snapshotId: number, groupKey: string, offset: number, limit = membersPageSize): MembersRequest {
	return {snapshotId: BigInt(snapshotId), groupKey, offset, limit};
}

const wireLists: Record<ListName, List> = {live: List.LIST_LIVE, pending: List.LIST_PENDING, dangling: List.LIST_DANGLING, leaks: List.LIST_LEAKS};

export function groupsRequest(snapshotId: number, list: ListName, filter: string, offset: number, limit = groupsPageSize): GroupsRequest {
	return {snapshotId: BigInt(snapshotId), list: wireLists[list], filter, offset, limit};
}

/** The request's bytes, exactly as sent: a recording is looked up by them. */
export function encodeRequest(call: CallName, request: CaptureRequest | ExpandRequest | PathRequest | MembersRequest | GroupsRequest): Uint8Array {
	return new Uint8Array((calls[call].requestSerialize as (r: typeof request) => Buffer)(request));
}

/** A reply's bytes in domain terms. Throws QueryError for bytes that do not decode. */
export function decodeCapture(bytes: Uint8Array): HeapSnapshot {
	const reply = decoded(() => CaptureReply.decode(bytes));
	if (!reply.snapshot) throw new QueryError('refused', 'the agent answered the capture without a snapshot');
	return toHeapSnapshot(reply.snapshot);
}

export function decodeExpand(bytes: Uint8Array): readonly TreeNode[] {
	return Object.freeze(decoded(() => ExpandReply.decode(bytes)).nodes.map(toTreeNode));
}

export function decodePath(bytes: Uint8Array): readonly Hop[] {
	return Object.freeze(decoded(() => PathReply.decode(bytes)).path.map(toHop));
}

export function decodeMembers(bytes: Uint8Array): MembersPage {
	return toMembersPage(decoded(() => MembersReply.decode(bytes)));
}

export function decodeGroups(bytes: Uint8Array): GroupsPage {
	return toGroupsPage(decoded(() => GroupsReply.decode(bytes)));
}

function decoded<T>(decode: () => T): T {
	try {
		return decode();
	} catch (error) {
		throw new QueryError('refused', `undecodable reply (${(error as Error).message})`);
	}
}

/** The status an agent answered a query with, as a QueryError naming `what` was asked. */
export function statusError(call: CallName, code: number, details: string): QueryError {
	const reason = shown(details || grpc.status[code] || String(code), maxReasonText);
	switch (code) {
		case grpc.status.FAILED_PRECONDITION:
			return new QueryError('cost', reason);
		case grpc.status.RESOURCE_EXHAUSTED:
			return new QueryError('rate-limit', reason);
		case grpc.status.NOT_FOUND:
			return new QueryError('not-found', reason);
		case grpc.status.UNIMPLEMENTED:
			return new QueryError('unsupported', `the agent does not answer ${call} (an older agent?)`);
		case grpc.status.DEADLINE_EXCEEDED:
			return new QueryError('timeout', `${call} got no answer within ${(call === 'Capture' ? captureDeadlineMs : queryDeadlineMs) / 1000} s`);
		case grpc.status.UNAVAILABLE:
		case grpc.status.CANCELLED:
			return new QueryError('unavailable', `${call}: the agent is not reachable (${reason})`);
		default:
			return new QueryError('refused', `${call}: ${grpc.status[code] ?? code}: ${reason}`);
	}
}

/**
 * Sends one unary query on `client` and resolves with the reply's raw bytes;
 * `onCall` sees the exchange, whatever its outcome (--record).
 */
export function unary(
	client: grpc.Client,
	call: CallName,
	request: Uint8Array,
	onCall?: (recorded: RecordedCall) => void,
): Promise<Uint8Array> {
	const method = calls[call];
	const deadline = Date.now() + (call === 'Capture' ? captureDeadlineMs : queryDeadlineMs);
	return new Promise((resolve, reject) => {
		client.makeUnaryRequest(
			method.path,
			(bytes: Uint8Array) => Buffer.from(bytes),
			(bytes: Buffer) => new Uint8Array(bytes),
			request,
			{deadline},
			(error: grpc.ServiceError | null, reply?: Uint8Array) => {
				if (error || !reply) {
					const code = error?.code ?? grpc.status.UNKNOWN;
					const details = error?.details ?? 'no reply';
					onCall?.({call, request, status: {code, details}});
					reject(statusError(call, code, details));
					return;
				}
				onCall?.({call, request, reply});
				resolve(reply);
			},
		);
	});
}
