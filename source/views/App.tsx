// App: the live screen — Header and SnapshotLine, the Sparklines, the
// HeapTree, then the Lists or the PathView, and the Footer (or the Help
// overlay in place of the panes) — fitted into the terminal by layout.ts.
// Pure: everything it shows comes in as props; the container in
// source/cli/live.tsx owns the store, the keys and the clock.
import React from 'react';
import {Box} from 'ink';
import type {Snapshot} from '../store/store.js';
import {heapModel, listRows, treeRows, type HeapModel} from '../store/model.js';
import {initialNavigation, type Navigation} from '../store/navigation.js';
import {snapshotState} from '../store/heap.js';
import {tabs} from './Lists.js';
import Footer from './Footer.js';
import Header from './Header.js';
import HeapTree from './HeapTree.js';
import Help from './Help.js';
import Lists from './Lists.js';
import PathView from './PathView.js';
import SnapshotLine from './SnapshotLine.js';
import Sparklines from './Sparklines.js';
import {layout} from './layout.js';

export type Props = {
	readonly snapshot: Snapshot;
	readonly navigation?: Navigation;
	/** The heap model of snapshot.heap; derived here when not given. */
	readonly model?: HeapModel;
	readonly columns: number;
	readonly rows: number;
	readonly nowMs: number;
	readonly paused?: boolean;
	readonly ascii?: boolean;
};

/** What the tree pane says when it has no rows. */
function treeEmpty(snapshot: Snapshot): string {
	switch (snapshotState(snapshot.heap).state) {
		case 'findings-only':
			return 'the dominator tree is still being built; d opens the dangling references found so far';
		case 'complete':
			return 'the tree is empty';
		default:
			return snapshot.heap.document ? '' : 'no heap snapshot yet';
	}
}

/** The position of the path's finding among those d visits: "2/5". */
function position(model: HeapModel | undefined, navigation: Navigation): string | undefined {
	const source = navigation.path?.source;
	if (!model || !source || !('finding' in source)) return undefined;
	const i = model.danglingFindings.findIndex(f => f.key === source.finding);
	return i < 0 ? undefined : `${i + 1}/${model.danglingFindings.length}`;
}

/**
 * The frame is kept to rows-1 lines: Ink 6.8 clears and rewrites the whole
 * terminal on every frame once a frame is as tall as the terminal.
 */
export default function App({snapshot, navigation = initialNavigation, model = heapModel(snapshot.heap), columns, rows, nowMs, paused = false, ascii = false}: Props) {
	const height = Math.max(1, rows - 1);
	const l = layout(snapshot, navigation, rows, nowMs);
	const gap = l.gaps ? 1 : 0;
	const nav = navigation;
	const listEmpty = !model
		? ''
		: nav.filter
			? `no group matches /${nav.filter}`
			: nav.tab === 'dangling'
				? 'no dangling references found'
				: `no ${tabs[nav.tab].title.toLowerCase()} objects`;
	return (
		<Box flexDirection="column" width={columns} height={height}>
			<Header snapshot={snapshot} columns={columns} nowMs={nowMs} ascii={ascii} />
			<SnapshotLine heap={snapshot.heap} nowMs={nowMs} width={columns} ascii={ascii} />
			{nav.help ? (
				<Box marginTop={gap} flexDirection="column" flexGrow={1}>
					<Help height={height - l.header - gap - 1} width={columns} />
				</Box>
			) : (
				<Box flexDirection="column" flexGrow={1}>
					{l.sparklines > 0 ? (
						<Box marginTop={gap}>
							<Sparklines snapshot={snapshot} columns={columns} ascii={ascii} />
						</Box>
					) : null}
					<Box marginTop={gap} flexDirection="column">
						<HeapTree
							rows={model ? treeRows(model, nav.toggled) : []}
							cursor={nav.tree}
							focused={nav.focus === 'tree'}
							heapBytes={model?.heapBytes ?? 0}
							width={columns}
							height={l.tree}
							empty={treeEmpty(snapshot)}
							ascii={ascii}
						/>
						{l.lower > 0 && nav.path ? (
							<PathView path={nav.path} position={position(model, nav)} focused={nav.focus === 'path'} width={columns} height={l.lower} ascii={ascii} />
						) : null}
						{l.lower > 0 && !nav.path ? (
							<Lists
								model={model}
								rows={model ? listRows(model, nav.tab, nav.sort, nav.filter, nav.openGroups) : []}
								tab={nav.tab}
								cursor={nav.lists[nav.tab]}
								sort={nav.sort}
								filter={nav.filter}
								editingFilter={nav.editingFilter}
								focused={nav.focus === 'lists'}
								width={columns}
								height={l.lower}
								empty={listEmpty}
								ascii={ascii}
							/>
						) : null}
					</Box>
				</Box>
			)}
			<Footer paused={paused} />
		</Box>
	);
}
