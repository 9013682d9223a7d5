// Lists: the object lists — tabs Live / Pending / Dangling / Leaks, each
// row a group of one type and allocation site with its count and bytes,
// coloured by state, in the order and under the filter the user chose; an
// open live or pending group is followed by its objects, one a row, an open
// dangling or leak group by its findings, and a list the document carries
// only the biggest groups of ends with a row for the rest.
// Takes the rows from the store (model.listRows) and draws only those that
// fit its height: a 100,000-row list costs what 40 rows cost.
import React from 'react';
import {Box, Text} from 'ink';
import {listNames, type ListName} from '../client/heap.js';
import {type HeapModel, type ListRow, type SortKey} from '../store/model.js';
import {cursorIndex, visibleWindow, type Cursor} from '../store/navigation.js';
import {branchGlyphs, findingColour, findingName, fit, formatAddress, formatBytes, formatCount, formatSite, formatTimes, nameAndSiteColumns, stateColour} from './format.js';
import StyledLine, {type Line, type Span} from './StyledLine.js';

export type Props = {
	readonly model: HeapModel | undefined;
	readonly rows: readonly ListRow[];
	readonly tab: ListName;
	readonly cursor: Cursor;
	readonly sort: SortKey;
	readonly filter: string;
	readonly editingFilter: boolean;
	readonly focused: boolean;
	readonly width: number;
	/** Rows for the groups, below the tabs line. */
	readonly height: number;
	readonly empty?: string;
	readonly ascii?: boolean;
};

/** Tab titles and colours: the state each list is about. */
export const tabs: Readonly<Record<ListName, {readonly title: string; readonly color: string}>> = {
	live: {title: 'Live', color: 'green'},
	pending: {title: 'Pending', color: 'yellow'},
	dangling: {title: 'Dangling', color: 'red'},
	leaks: {title: 'Leaks', color: 'magenta'},
};

const countWidth = 10;
const bytesWidth = 10;
const retainedWidth = 10;
function columns(width: number): {name: number; site: number} {
	return nameAndSiteColumns(width, countWidth + bytesWidth + retainedWidth);
}

function Tabs({model, tab, sort, filter, editingFilter, focused, width, ascii}: Pick<Props, 'model' | 'tab' | 'sort' | 'filter' | 'editingFilter' | 'focused' | 'width' | 'ascii'>) {
	const right = `sort ${sort}${editingFilter || filter ? `  /${filter}${editingFilter ? (ascii ? '_' : '▏') : ''}` : ''}`;
	const titles = listNames.map(name => ` ${tabs[name].title} ${model ? formatCount(model.listTotals.get(name)?.groups ?? model.lists[name].groups.length) : '-'} `);
	const used = titles.reduce((n, t) => n + t.length + 1, 0);
	return (
		<Text wrap="truncate">
			{listNames.map((name, i) => (
				<Text key={name}>
					<Text bold={name === tab} inverse={name === tab && focused} color={tabs[name].color}>
						{titles[i]}
					</Text>
					<Text> </Text>
				</Text>
			))}
			<Text color={editingFilter ? 'cyan' : undefined} dimColor={!editingFilter}>
				{right.padStart(Math.max(right.length + 1, width - used))}
			</Text>
		</Text>
	);
}

/** How a row looks: a group's type, figures and site, or one of its objects, marked when under the cursor. */
export function listRowLine(row: ListRow, selected: boolean, focused: boolean, width: number, ascii: boolean): Line {
	const look = {inverse: selected && focused, bold: selected && !focused};
	const c = columns(width);
	const g = branchGlyphs(ascii);
	if (row.kind === 'more' || row.kind === 'more-groups') {
		const text = row.kind === 'more' ? `  ${g.more} ${formatCount(row.remaining)} more objects (enter loads them)` : moreGroupsText(row, g.more);
		return {...look, spans: [{text: fit(text, width, {ascii}), dimColor: true}]};
	}
	if (row.kind === 'member') {
		const m = row.member;
		return {
			...look,
			spans: [
				{text: fit(`  ${g.leaf} ${formatAddress(m.address)}`, c.name, {ascii}), color: stateColour(m.state)},
				{text: ` ${''.padStart(countWidth)}`},
				{text: formatBytes(m.bytes).padStart(bytesWidth)},
				{text: (m.retainedBytes > 0 ? formatBytes(m.retainedBytes) : '').padStart(retainedWidth), dimColor: true},
			],
		};
	}
	if (row.kind === 'finding') {
		const f = row.finding;
		const kind = `  ${g.leaf} ${findingName(f.kind)}${f.count > 1 ? ` ${formatTimes(f.count, {ascii})}` : ''}  `;
		return {
			...look,
			spans: [
				{text: fit(kind, Math.min(kind.length, width), {ascii}), color: findingColour(f.kind)},
				{text: fit(f.summary, width - kind.length, {ascii})},
			],
		};
	}
	const group = row.group;
	const mark = row.opens ? `${row.open ? g.open : g.closed} ` : '';
	const spans: Span[] = [
		{text: fit(mark + (group.typeName || 'untyped'), c.name, {ascii}), color: stateColour(group.state)},
		{text: ` ${formatCount(group.count).padStart(countWidth)}`},
		{text: formatBytes(group.bytes).padStart(bytesWidth)},
		{text: (group.retainedBytes > 0 ? formatBytes(group.retainedBytes) : '').padStart(retainedWidth), dimColor: true},
	];
	if (c.site > 0) spans.push({text: ` ${fit(formatSite(group.site), c.site, {ascii})}`, dimColor: true});
	return {...look, spans};
}

/** The last row of a list the document carries only the biggest groups of. */
function moreGroupsText(row: Extract<ListRow, {kind: 'more-groups'}>, more: string): string {
	if (row.remaining === undefined) return `${more} searching the other groups for "${row.filter}"`;
	const bytes = row.bytes === undefined ? '' : ` · ${formatBytes(row.bytes)}`;
	return `${more} ${formatCount(row.remaining)} more ${row.filter ? 'matching ' : ''}group${row.remaining === 1 ? '' : 's'}${bytes} (enter loads them)`;
}

export default function Lists(props: Props) {
	const {rows, cursor, focused, width, height, empty, ascii = false} = props;
	const c = columns(width);
	const index = cursorIndex(cursor, rows);
	const start = visibleWindow(cursor.offset, index, rows.length, height - 1);
	const shown = rows.slice(start, start + height - 1);
	const heading = `${'type'.padEnd(c.name)} ${'objects'.padStart(countWidth)}${'bytes'.padStart(bytesWidth)}${'retained'.padStart(retainedWidth)}${c.site > 0 ? ` ${'site'.padEnd(c.site)}` : ''}`;
	return (
		<Box flexDirection="column" width={width} height={height + 1} flexShrink={0}>
			<Tabs {...props} ascii={ascii} />
			<Text dimColor wrap="truncate">
				{heading}
			</Text>
			{shown.length === 0 ? (
				<Text dimColor wrap="truncate">
					{empty ?? ''}
				</Text>
			) : (
				shown.map((row, i) => <StyledLine key={start + i} line={listRowLine(row, start + i === index, focused, width, ascii)} />)
			)}
		</Box>
	);
}
