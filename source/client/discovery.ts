// Discovery: takes the per-user directory the agents write into and gives the
// agents that are alive there. Implements the reader's side of "heaptop
// discovery rule, version 1", written out in the package comment of
// agent/internal/discovery; change both together. In short:
//
//   directory  $HEAPTOP_DIR, else $XDG_RUNTIME_DIR/heaptop, else
//              ($TMPDIR or /tmp)/heaptop-<uid>; made absolute (rule 1)
//   per agent  <pid>.json (AgentFile) and <pid>.sock (rule 3, 4)
//   stale      a <pid>.json whose pid is dead (ESRCH) is ignored, and it,
//              <pid>.sock and .<pid>.json.tmp are removed; one that does not
//              parse or names another pid is ignored, not removed (rule 6).
import fs from 'node:fs';
import path from 'node:path';

/** One discovery file, <pid>.json, as the agent writes it. */
export type AgentFile = {
	readonly pid: number;
	/** "unix:///abs/path.sock" or "host:port". */
	readonly address: string;
	readonly executable: string;
	readonly goVersion: string;
	/** RFC 3339 with nanoseconds, UTC. */
	readonly startTime: string;
	readonly agentVersion: string;
	/** The "host:port" the agent also serves TCP on; "" when it does not. Never a token. */
	readonly tcp: string;
	/** Whether that TCP listener speaks TLS. */
	readonly tls: boolean;
};

/**
 * The directory agents announce themselves in (rule 1). Not Node's
 * os.tmpdir(): it also reads $TMP and $TEMP, which Go's os.TempDir does not.
 */
export function discoveryDir(env: NodeJS.ProcessEnv = process.env): string {
	let dir = env['HEAPTOP_DIR'];
	if (!dir) {
		dir = env['XDG_RUNTIME_DIR']
			? path.join(env['XDG_RUNTIME_DIR'], 'heaptop')
			: path.join(env['TMPDIR'] || '/tmp', `heaptop-${process.getuid?.() ?? 0}`);
	}
	return path.resolve(dir);
}

/** Whether a process with this pid exists: kill(pid, 0) fails with ESRCH only when none does. */
export function processAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code !== 'ESRCH';
	}
}

/** Parses one discovery file; returns undefined when it is not one. */
function parseAgentFile(text: string): AgentFile | undefined {
	let v: unknown;
	try {
		v = JSON.parse(text);
	} catch {
		return undefined;
	}
	if (typeof v !== 'object' || v === null) return undefined;
	const o = v as Record<string, unknown>;
	const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : '');
	if (typeof o['pid'] !== 'number' || !Number.isSafeInteger(o['pid']) || o['pid'] <= 0) return undefined;
	if (!str('address')) return undefined;
	return {
		pid: o['pid'],
		address: str('address'),
		executable: str('executable'),
		goVersion: str('goVersion'),
		startTime: str('startTime'),
		agentVersion: str('agentVersion'),
		tcp: str('tcp'),
		tls: o['tls'] === true,
	};
}

/** Removes what a dead agent left, ignoring what is already gone (rule 6). */
function removeStale(dir: string, pid: number): void {
	for (const name of [`${pid}.json`, `${pid}.sock`, `.${pid}.json.tmp`]) {
		try {
			fs.rmSync(path.join(dir, name), {force: true});
		} catch {
			// Another reader removed it, or it is not ours to remove: either way, ignore it.
		}
	}
}

/**
 * Reads one agent's file by pid. Returns undefined when there is none or the
 * pid is dead (the stale file is removed then).
 */
export function readAgent(pid: number, dir = discoveryDir()): AgentFile | undefined {
	const file = path.join(dir, `${pid}.json`);
	let text: string;
	try {
		if (!fs.lstatSync(file).isFile()) return undefined;
		text = fs.readFileSync(file, 'utf8');
	} catch {
		return undefined;
	}
	if (!processAlive(pid)) {
		removeStale(dir, pid);
		return undefined;
	}
	const agent = parseAgentFile(text);
	return agent && agent.pid === pid ? agent : undefined;
}

/** Every live agent in the directory, by pid. A missing directory has none. */
export function listAgents(dir = discoveryDir()): AgentFile[] {
	let names: string[];
	try {
		names = fs.readdirSync(dir);
	} catch {
		return [];
	}
	const agents: AgentFile[] = [];
	for (const name of names) {
		const m = /^([1-9]\d*)\.json$/.exec(name);
		if (!m) continue;
		const agent = readAgent(Number(m[1]), dir);
		if (agent) agents.push(agent);
	}
	return agents.sort((a, b) => a.pid - b.pid);
}
