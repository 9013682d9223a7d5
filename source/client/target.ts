// Targets: takes what the user typed (nothing, a pid, a socket path, or
// host:port) and gives a gRPC address to dial, re-resolved on every connect
// attempt so that an agent that restarts is found again.
import fs from 'node:fs';
import path from 'node:path';
import {discoveryDir, listAgents, processAlive, readAgent, type AgentFile} from './discovery.js';
import {shown, shownPath, shownValue} from './text.js';

/** What the user named on the command line. */
export type TargetSpec =
	| {readonly kind: 'discover'}
	| {readonly kind: 'pid'; readonly pid: number}
	| {readonly kind: 'socket'; readonly path: string}
	| {readonly kind: 'tcp'; readonly host: string; readonly port: number};

/** A resolved place to dial. `address` is a grpc-js target string. */
export type Endpoint = {readonly address: string; readonly transport: 'unix' | 'tcp'; readonly label: string; readonly pid?: number};

/** A target that cannot be used; the message is one line for the user. */
export class TargetError extends Error {
	/** Final: retrying cannot help (the process is gone, the argument is wrong). */
	readonly final: boolean;
	constructor(message: string, final = false) {
		super(message);
		this.final = final;
	}
}

/** Several agents and no target: the CLI prints `agents` and asks for a pid. */
export class AmbiguousTargetError extends TargetError {
	readonly agents: readonly AgentFile[];
	constructor(agents: readonly AgentFile[], dir: string) {
		super(`${agents.length} agents are running (in ${shownPath(dir)}); name one: heaptop <pid>`);
		this.agents = agents;
	}
}

/** The largest pid: pid_t is a signed 32-bit integer. */
const maxPid = 2 ** 31 - 1;

const hostPort = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Parses a target argument. Throws TargetError for what is none of the four forms. */
export function parseTarget(arg: string | undefined): TargetSpec {
	if (arg === undefined) return {kind: 'discover'};
	if (/^\d+$/.test(arg)) {
		const pid = Number(arg);
		// kill(2) takes a 32-bit pid_t, and Node refuses a larger pid outright.
		if (!Number.isSafeInteger(pid) || pid <= 0 || pid > maxPid) throw new TargetError(`not a pid: ${shown(arg)}`, true);
		return {kind: 'pid', pid};
	}
	if (arg.startsWith('unix:')) {
		const p = arg.replace(/^unix:(\/\/)?/, '');
		return {kind: 'socket', path: path.resolve(p)};
	}
	const m = hostPort.exec(arg);
	if (m && !arg.includes('/')) {
		const port = Number(m[2]);
		if (port < 1 || port > 65_535) throw new TargetError(`port out of range in ${shown(arg)}`, true);
		return {kind: 'tcp', host: m[1]!, port};
	}
	if (arg.includes('/') || arg.endsWith('.sock')) return {kind: 'socket', path: path.resolve(arg)};
	throw new TargetError(`not a target: ${shownValue(arg)} (want a pid, a socket path or host:port)`, true);
}

/** Turns an agent file's address into a grpc-js target. */
function dialAddress(address: string): string {
	return address.startsWith('unix:') ? `unix://${address.replace(/^unix:(\/\/)?/, '')}` : address;
}

function fromAgent(agent: AgentFile): Endpoint {
	const transport = agent.address.startsWith('unix:') ? 'unix' : 'tcp';
	return {address: dialAddress(agent.address), transport, label: `pid ${agent.pid} (${agent.address})`, pid: agent.pid};
}

/**
 * Resolves a target now. `previousPid`, the pid of the agent last connected
 * to, lets a discovered target prefer it and a pid target say that it has
 * exited. Throws TargetError with a one-line reason.
 */
export function resolveTarget(spec: TargetSpec, dir = discoveryDir(), previousPid?: number): Endpoint {
	switch (spec.kind) {
		case 'discover': {
			const agents = listAgents(dir);
			const again = agents.find(a => a.pid === previousPid);
			if (again) return fromAgent(again);
			if (agents.length === 1) return fromAgent(agents[0]!);
			if (agents.length === 0) {
				throw new TargetError(`no heaptop agent is running (none in ${shownPath(dir)}); start a program with the agent, or name a target`);
			}
			throw new AmbiguousTargetError(agents, dir);
		}
		case 'pid': {
			const agent = readAgent(spec.pid, dir);
			if (agent) return fromAgent(agent);
			if (!processAlive(spec.pid)) throw new TargetError(spec.pid === previousPid ? `process ${spec.pid} has exited` : `no process with pid ${spec.pid}`, true);
			throw new TargetError(`process ${spec.pid} runs no heaptop agent (no ${spec.pid}.json in ${shownPath(dir)})`);
		}
		case 'socket': {
			let stat: fs.Stats;
			try {
				stat = fs.statSync(spec.path);
			} catch {
				throw new TargetError(`no such socket: ${shownPath(spec.path)}`);
			}
			if (!stat.isSocket()) throw new TargetError(`not a unix socket: ${shownPath(spec.path)}`, true);
			return {address: `unix://${spec.path}`, transport: 'unix', label: shownPath(spec.path)};
		}
		case 'tcp':
			return {address: `${spec.host}:${spec.port}`, transport: 'tcp', label: `${spec.host}:${spec.port}`};
	}
}

/** One line per agent, for the list printed when the target is ambiguous. */
export function describeAgent(a: AgentFile): string {
	const tcp = a.tcp ? `  tcp ${a.tcp}${a.tls ? ' (TLS)' : ''}` : '';
	return `${String(a.pid).padStart(7)}  ${a.goVersion.padEnd(10)} ${a.executable}  ${a.address}${tcp}`;
}
