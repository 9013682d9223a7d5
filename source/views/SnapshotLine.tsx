// SnapshotLine: the header's line about heap snapshots — the last one (its
// number, age, stop-the-world pause, analysis time and how many objects'
// allocation sites are known), or the capture under way phase by phase, or
// why there is none — and under it, when there is one, a message: the
// question after a capture refused for its cost, or a fresh notice.
import React from 'react';
import {Box, Text} from 'ink';
import {phaseNames, type HeapSnapshot, type Progress} from '../client/heap.js';
import {snapshotState, type HeapState} from '../store/heap.js';
import {formatAge, formatBytes, formatCount, formatDuration, formatPercent} from './format.js';

export type Props = {
	readonly heap: HeapState;
	readonly nowMs: number;
	readonly width: number;
	readonly ascii?: boolean;
};

/** How long a notice stays on screen. */
export const noticeMs = 10_000;

/** Cells of the progress bar of the phase under way. */
const barWidth = 10;

/** The message line under the snapshot line, if any: a question waiting for a key, else a fresh notice. */
export function message(heap: HeapState, nowMs: number): {text: string; color: string} | undefined {
	const c = heap.capture;
	if (c.state === 'confirm') return {text: `${c.reason} — y: ${c.forceGc ? 'GC and capture' : 'capture'} anyway, any other key: cancel`, color: 'yellow'};
	const n = heap.notice;
	if (n && nowMs - n.atMs < noticeMs) return {text: n.text, color: n.error ? 'red' : 'yellow'};
	return undefined;
}

/** Allocation-site coverage: every allocation's site, or the share the sampled profile saw. */
export function siteCoverage(s: HeapSnapshot): string {
	const st = s.stats;
	if (st.fullSites) return 'sites: every allocation';
	const share = st.objects > 0 ? formatPercent(st.objectsWithSite / st.objects) : '0%';
	const rate = st.sampleRate > 0 ? `, 1 per ${formatBytes(st.sampleRate)} sampled` : '';
	return `sites: ${share} of objects${rate}`;
}

/** Time the agent spent after the pause: parse, name, analyse, dominators. */
export function analysisNs(s: HeapSnapshot): number {
	const st = s.stats;
	return st.parseNs + st.nameNs + st.analyseNs + st.dominatorsNs;
}

/**
 * The capture's phases: done ones ticked, the current one with its progress,
 * and the time since the capture began — the agent's figure at the last
 * progress, run on by the clock until the next one (a phase can take seconds).
 */
function Phases({progress, sinceMs, ascii}: {readonly progress: Progress; readonly sinceMs: number; readonly ascii: boolean}) {
	const current = phaseNames.indexOf(progress.phase as (typeof phaseNames)[number]);
	const filled = Math.round(progress.fraction * barWidth);
	const bar = ascii ? `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]` : `▕${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}▏`;
	return (
		<Text>
			{phaseNames.slice(0, -1).map((name, i) => (
				<Text key={name}>
					{i < current ? <Text dimColor>{`${name} ${ascii ? '+' : '✓'}  `}</Text> : null}
					{i === current ? (
						<Text>
							<Text bold color="cyan">{name}</Text>
							{progress.fraction > 0 ? <Text color="cyan">{` ${bar} ${formatPercent(progress.fraction)}`}</Text> : null}
							<Text>{'  '}</Text>
						</Text>
					) : null}
					{i > current ? <Text dimColor>{`${name}  `}</Text> : null}
				</Text>
			))}
			<Text dimColor>{formatDuration(progress.elapsedNs + Math.max(0, sinceMs) * 1e6, {ascii})}</Text>
			{progress.detail ? <Text dimColor>{`  ${progress.detail}`}</Text> : null}
		</Text>
	);
}

function Status({heap, nowMs, ascii}: {readonly heap: HeapState; readonly nowMs: number; readonly ascii: boolean}) {
	const state = snapshotState(heap);
	const doc = heap.document;
	switch (state.state) {
		case 'capturing':
			return (
				<Text wrap="truncate">
					<Text bold>capturing{state.progress ? ` #${state.progress.snapshotId}` : ''} </Text>
					{state.progress ? (
						<Phases progress={state.progress} sinceMs={nowMs - state.atMs} ascii={ascii} />
					) : (
						<Text dimColor>{`${heap.capture.state === 'requested' && heap.capture.forceGc ? 'GC, then capture requested' : 'capture requested'} ${formatDuration(Math.max(0, nowMs - state.atMs) * 1e6, {ascii})} ago`}</Text>
					)}
				</Text>
			);
		case 'failed':
			return (
				<Text color="red" wrap="truncate">
					capture failed: {state.reason}
				</Text>
			);
		case 'none':
			return (
				<Text dimColor wrap="truncate">
					no heap snapshot yet: c captures one, C runs a GC first
				</Text>
			);
		default:
			return (
				<Text wrap="truncate">
					<Text dimColor>snapshot </Text>
					<Text bold>#{doc!.id}</Text>
					<Text dimColor> {formatAge(doc!.capturedMs, nowMs)}   pause </Text>
					<Text bold>{formatDuration(doc!.stats.pauseNs, {ascii})}</Text>
					<Text dimColor>   analysis </Text>
					<Text bold>{formatDuration(analysisNs(doc!), {ascii})}</Text>
					<Text dimColor>   {formatCount(doc!.stats.objects)} objects   {siteCoverage(doc!)}</Text>
					{state.state === 'findings-only' ? <Text color="yellow">   findings only: tree in progress</Text> : null}
				</Text>
			);
	}
}

export default function SnapshotLine({heap, nowMs, width, ascii = false}: Props) {
	const m = message(heap, nowMs);
	return (
		<Box flexDirection="column" width={width}>
			<Status heap={heap} nowMs={nowMs} ascii={ascii} />
			{m ? (
				<Text color={m.color} wrap="truncate">
					{m.text}
				</Text>
			) : null}
		</Box>
	);
}
