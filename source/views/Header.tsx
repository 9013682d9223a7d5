// Header: who the target is, its heap in figures, and the state of the
// connection. Takes a store Snapshot; draws, with no I/O.
import path from 'node:path';
import React from 'react';
import {Box, Text} from 'ink';
import type {Connection, Snapshot} from '../store/store.js';
import {ellipsizeStart, formatBytes, formatCount, formatPercent, formatWait} from './format.js';

export type Props = {
	readonly snapshot: Snapshot;
	readonly columns: number;
	/** Now, in epoch ms: the reconnect countdown is relative to it. */
	readonly nowMs: number;
	readonly ascii?: boolean;
};

/** The connection state as a short word or two, and its colour. */
export function connectionLabel(c: Connection, nowMs: number, ascii = false): {text: string; color: string} {
	switch (c.state) {
		case 'connecting':
			return {text: 'connecting', color: 'yellow'};
		case 'connected':
			return {text: `${ascii ? '*' : '●'} connected`, color: 'green'};
		case 'reconnecting':
			return {text: `reconnecting ${formatWait(c.nextAttemptMs, nowMs)}`, color: 'yellow'};
		case 'failed':
			return {text: 'failed', color: 'red'};
		case 'ended':
			return {text: 'replay ended', color: 'cyan'};
	}
}

/** Why the connection is not simply up, for the line under the figures. */
export function connectionReason(c: Connection): string | undefined {
	switch (c.state) {
		case 'connecting':
			return c.address ? `connecting to ${c.address}` : undefined;
		case 'connected':
			return undefined;
		default:
			return c.reason;
	}
}

function Figure({label, value}: {readonly label: string; readonly value: string}) {
	return (
		<Text>
			<Text dimColor>{label} </Text>
			<Text bold>{value}</Text>
		</Text>
	);
}

/** With the GC off (GOGC=off, SetGCPercent(-1)) the runtime's heap goal is about 2^64: no goal. */
const gcOffGoal = 2 ** 62;

export default function Header({snapshot, columns, nowMs, ascii = false}: Props) {
	const {target, connection} = snapshot;
	const latest = snapshot.samples.at(-1);
	const state = connectionLabel(connection, nowMs, ascii);
	const reason = connectionReason(connection);
	const who = target ? `pid ${target.pid}  ${target.goVersion}  ` : '';
	const exeWidth = Math.max(8, columns - 'heaptop  '.length - who.length - state.text.length - 2);
	const exe = target ? ellipsizeStart(target.executable || path.basename(target.address), exeWidth, {ascii}) : '';
	return (
		<Box flexDirection="column" width={columns}>
			<Box justifyContent="space-between">
				<Text>
					<Text bold color="cyan">heaptop</Text>
					<Text>  {who}</Text>
					<Text bold>{exe}</Text>
				</Text>
				<Text color={state.color}>{state.text}</Text>
			</Box>
			{latest ? (
				<Box columnGap={3} flexWrap="wrap">
					<Text>
						<Figure label="heap live" value={formatBytes(latest.heapLiveBytes)} />
						<Text dimColor> / goal </Text>
						<Text bold>{latest.heapGoalBytes >= gcOffGoal ? 'none (GC off)' : formatBytes(latest.heapGoalBytes)}</Text>
					</Text>
					<Figure label="objects" value={formatCount(latest.heapObjects)} />
					<Figure label="goroutines" value={formatCount(latest.goroutines)} />
					<Text>
						<Figure label="GC" value={formatCount(latest.gcCycles)} />
						<Text dimColor>{latest.gcCycles === 1 ? ' cycle, ' : ' cycles, '}</Text>
						<Text bold>{formatPercent(latest.gcCpuFraction)}</Text>
						<Text dimColor> CPU</Text>
					</Text>
				</Box>
			) : (
				<Text dimColor>no sample yet</Text>
			)}
			{reason ? (
				<Text color={state.color} wrap="truncate-end">
					{reason}
				</Text>
			) : null}
		</Box>
	);
}
