// Report: the --once output — the live screen's Header and Sparklines, then,
// when there is a heap snapshot, the report document (document.ts): the
// snapshot's cost and coverage, states, top retainers, every finding with its
// whole chain, growth and the agent's notes. Same components and formatters
// as the live views, so the report and the screen never disagree.
import React from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../store/store.js';
import Header from '../views/Header.js';
import Sparklines, {sparklineWidth} from '../views/Sparklines.js';
import {findingColour, findingName, formatAge, formatBytes, formatCount, formatDuration, formatPercent, formatSite, formatTimes, stateColour, stateName} from '../views/format.js';
import type {Chains, Report as ReportDocument, ReportFinding} from './document.js';
import Chain from './Chain.js';

export type Props = {
	readonly snapshot: Snapshot;
	readonly columns: number;
	readonly nowMs: number;
	readonly ascii?: boolean;
	/** The heap snapshot's part of the report; absent: the figures only. */
	readonly report?: ReportDocument;
	/** Every finding's chain, by key (findingChains). */
	readonly chains?: Chains;
};

/** What the sparklines cover: how many samples and pauses, over how long. */
export function coverage(snapshot: Snapshot, columns: number): string {
	const width = sparklineWidth(columns);
	const samples = Math.min(width, snapshot.samples.length);
	const pauses = Math.min(width, snapshot.pauses.length);
	const seconds = Math.round((samples * snapshot.tickIntervalMs) / 1000);
	const pauseText = pauses === 1 ? '1 GC pause' : `${formatCount(pauses)} GC pauses`;
	return `last ${formatCount(samples)} samples (${seconds} s) and last ${pauseText}`;
}

function Section({title, detail, children}: {readonly title: string; readonly detail?: string; readonly children?: React.ReactNode}) {
	return (
		<Box flexDirection="column" marginTop={1}>
			<Text wrap="truncate-end">
				<Text bold>{title}</Text>
				{detail ? <Text dimColor>{`  ${detail}`}</Text> : null}
			</Text>
			{children}
		</Box>
	);
}

/** "2 dangling, 1 leak" — the findings by kind, folded ones counted. */
export function findingCounts(findings: readonly ReportFinding[]): string {
	const counts = new Map<string, number>();
	for (const f of findings) counts.set(f.kind, (counts.get(f.kind) ?? 0) + f.count);
	return [...counts].map(([kind, n]) => `${formatCount(n)} ${findingName(kind)}`).join(', ');
}

function SnapshotLines({report, nowMs, ascii}: {readonly report: ReportDocument; readonly nowMs: number; readonly ascii: boolean}) {
	const s = report.snapshot!;
	const share = (part: number, whole: number) => (whole > 0 ? formatPercent(part / whole) : '0%');
	const sites = s.allocSites.full ? 'all recorded' : `sampled every ${formatBytes(s.allocSites.sampleRate)}`;
	return (
		<Section title={`Snapshot #${s.id}`} detail={`captured ${formatAge(Date.parse(s.capturedAt), nowMs)}${s.complete ? '' : ', findings only'}`}>
			<Text>
				<Text dimColor>heap </Text>
				<Text bold>{formatBytes(s.heapBytes)}</Text>
				<Text dimColor> in </Text>
				<Text bold>{formatCount(s.objects)}</Text>
				<Text dimColor> objects   pause </Text>
				<Text bold>{formatDuration(s.pauseMs * 1e6, {ascii})}</Text>
				<Text dimColor>   analysis </Text>
				<Text bold>{formatDuration(s.analysisMs * 1e6, {ascii})}</Text>
			</Text>
			<Text>
				<Text dimColor>allocation sites for </Text>
				<Text bold>{share(s.allocSites.objects, s.objects)}</Text>
				<Text dimColor> of objects, </Text>
				<Text bold>{share(s.allocSites.bytes, s.heapBytes)}</Text>
				<Text dimColor>{` of bytes (${sites})`}</Text>
			</Text>
		</Section>
	);
}

function States({report}: {readonly report: ReportDocument}) {
	const width = Math.min(20, Math.max(...report.states.map(s => stateName(s.state).length)) + 2);
	return (
		<Section title="States">
			{report.states.map(s => (
				<Text key={s.state} wrap="truncate-end">
					<Text color={stateColour(s.state)}>{`  ${stateName(s.state).padEnd(width)}`}</Text>
					<Text>{`${formatCount(s.objects).padStart(12)} objects  ${formatBytes(s.bytes).padStart(10)}`}</Text>
				</Text>
			))}
		</Section>
	);
}

function Retainers({report, ascii}: {readonly report: ReportDocument; readonly ascii: boolean}) {
	if (report.retainers.length === 0) return null;
	return (
		<Section title="Top retainers" detail="retained bytes, share of the heap">
			{report.retainers.map((r, i) => {
				const times = r.count > 1 ? `${formatTimes(r.count, {ascii})} ` : '';
				const where = r.site ? `  ${formatSite(r.site)}` : '';
				return (
					<Text key={i} wrap="truncate-end">
						<Text>{`${formatBytes(r.retainedBytes).padStart(10)} ${formatPercent(r.share).padStart(6)}  `}</Text>
						<Text bold>{r.name}</Text>
						<Text dimColor>{`  ${times}${r.type}${where}${r.agent ? '  (heaptop agent)' : ''}`}</Text>
					</Text>
				);
			})}
		</Section>
	);
}

function Finding({finding, chains, columns, ascii}: {readonly finding: ReportFinding; readonly chains: Chains | undefined; readonly columns: number; readonly ascii: boolean}) {
	const colour = findingColour(finding.kind);
	const hops = chains?.get(finding.key) ?? [];
	const times = finding.count > 1 ? ` ${formatTimes(finding.count, {ascii})} same chain` : '';
	return (
		<Box flexDirection="column" marginTop={1} width={columns}>
			<Text color={colour} bold>
				{`${findingName(finding.kind)}${times}`}
			</Text>
			<Text>{finding.summary}</Text>
			{finding.kind === 'suspect' && finding.target && !finding.summary.includes(finding.target) ? <Text dimColor>{`accumulation point: ${finding.target}`}</Text> : null}
			<Chain hops={hops} width={columns} ascii={ascii} />
			{finding.complete ? null : <Text color="yellow">the agent no longer holds this snapshot: hops left out of the document are missing</Text>}
		</Box>
	);
}

function Growth({report}: {readonly report: ReportDocument}) {
	const g = report.growth;
	if (!g) return null;
	const signed = (n: number, text: string) => (n > 0 ? `+${text}` : n < 0 ? `-${text.replace(/^-/, '')}` : text);
	return (
		<Section title={`Growth since snapshot #${g.baseSnapshotId}`} detail={g.rows.length === 0 ? 'nothing grew' : `bytes, objects, in how many of the last ${g.intervals} captures`}>
			{g.rows.slice(0, 10).map((r, i) => (
				<Text key={i} wrap="truncate-end">
					<Text>{`${signed(r.bytesDelta, formatBytes(Math.abs(r.bytesDelta))).padStart(11)} ${signed(r.countDelta, formatCount(Math.abs(r.countDelta))).padStart(9)}  `}</Text>
					<Text bold>{r.type}</Text>
					<Text dimColor>{`  ${r.site ? formatSite(r.site) + '  ' : ''}grew in ${r.grewIn}/${g.intervals}`}</Text>
				</Text>
			))}
		</Section>
	);
}

export default function Report({snapshot, columns, nowMs, ascii = false, report, chains}: Props) {
	return (
		<Box flexDirection="column" width={columns}>
			<Header snapshot={snapshot} columns={columns} nowMs={nowMs} ascii={ascii} />
			<Box marginTop={1}>
				<Sparklines snapshot={snapshot} columns={columns} ascii={ascii} />
			</Box>
			<Text dimColor>{coverage(snapshot, columns)}</Text>
			{report?.snapshot ? (
				<>
					<SnapshotLines report={report} nowMs={nowMs} ascii={ascii} />
					<States report={report} />
					<Retainers report={report} ascii={ascii} />
					<Section title="Findings" detail={report.findings.length === 0 ? 'none' : findingCounts(report.findings)}>
						{report.findings.map(f => (
							<Finding key={f.key} finding={f} chains={chains} columns={columns} ascii={ascii} />
						))}
					</Section>
					<Growth report={report} />
					{report.snapshot.notes.length > 0 ? (
						<Section title="Notes">
							{report.snapshot.notes.map((n, i) => (
								<Text key={i} dimColor>{`- ${n}`}</Text>
							))}
						</Section>
					) : null}
				</>
			) : null}
			{report && report.problems.length > 0 ? (
				<Box flexDirection="column" marginTop={1}>
					{report.problems.map((p, i) => (
						<Text key={i} color="yellow">
							{p}
						</Text>
					))}
				</Box>
			) : null}
		</Box>
	);
}
